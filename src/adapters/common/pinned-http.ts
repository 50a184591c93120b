/**
 * One HTTP(S) exchange with an address the egress module already checked: the only place a
 * connection test sends HTTP. Any method, the caller's headers exactly (Host included, since
 * S3 signs it), a fresh connection per exchange, the body read only up to a limit, and no
 * redirect following (http-request.ts's httpGet follows them hop by hop through here). The
 * name in the URL is kept for the Host header, SNI and the certificate check. It does not
 * resolve: the caller checks egress and owns the deadline (its signal, or destroying the
 * requests through OpenRequests).
 */
import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { CheckedAddress } from "../types";
import { urlHost } from "./host";

export interface PinnedRequest {
  url: URL;
  method: "GET" | "HEAD" | "POST";
  /** The request body (POST); sent with its Content-Length. */
  body?: string | Buffer;
  /** Sent as given; must include `host`. */
  headers: Record<string, string>;
  address: CheckedAddress;
  /** Bytes of the body to read; 0 reads none. A function decides from the status and headers. */
  maxBodyBytes: number | ((status: number, headers: IncomingHttpHeaders) => number);
  /** Check the certificate (the default); off only for stores with a self-signed one. */
  verifyTls?: boolean;
  /** Aborts the exchange (the request is destroyed with the signal's reason). */
  signal?: AbortSignal;
}

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  /** At most maxBodyBytes of the body. */
  body: Buffer;
  /** Whether `body` is the whole body. */
  complete: boolean;
}

/** A request on its way, and how far it got, so a timeout can say where it stalled. */
export interface SentRequest {
  url: URL;
  connected: boolean;
  responded: boolean;
  destroy(): void;
}

/** The requests a test sent, so its deadline can destroy them whatever state they are in. */
export class OpenRequests {
  private readonly requests: SentRequest[] = [];

  add(request: SentRequest): void {
    this.requests.push(request);
  }

  last(): SentRequest | undefined {
    return this.requests.at(-1);
  }

  destroyAll(): void {
    for (const request of this.requests) request.destroy();
  }
}

export function sendRequest(options: PinnedRequest, open: OpenRequests): Promise<Answer> {
  const { url, address } = options;
  const secure = url.protocol === "https:";
  const name = urlHost(url);
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request({
      host: address.address,
      family: address.family,
      port: url.port ? Number(url.port) : secure ? 443 : 80,
      method: options.method,
      path: `${url.pathname}${url.search}`,
      headers: options.body === undefined ? options.headers : { ...options.headers, "content-length": String(Buffer.byteLength(options.body)) },
      setHost: false,
      // A fresh connection, closed after this exchange: no pool shared between tests.
      agent: false,
      // SNI carries the name (never an IP literal); the certificate is checked against it, or
      // against the checked address when the URL names an IP.
      ...(secure ? { servername: isIP(name) ? "" : name, rejectUnauthorized: options.verifyTls ?? true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const sent: SentRequest = { url, connected: false, responded: false, destroy: () => request.destroy() };
    open.add(sent);
    // Under TLS the request waits for the handshake; "connect" is still the TCP connection.
    request.on("socket", (socket) => socket.once("connect", () => (sent.connected = true)));
    request.on("error", reject);
    request.on("response", (response) => {
      sent.responded = true;
      const status = response.statusCode ?? 0;
      const limit = typeof options.maxBodyBytes === "function" ? options.maxBodyBytes(status, response.headers) : options.maxBodyBytes;
      // Errors after the answer is settled have no one to go to; unheard, they would crash.
      response.on("error", () => {});
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (complete: boolean) => {
        response.off("data", onData);
        request.destroy();
        resolve({ status, headers: response.headers, body: Buffer.concat(chunks).subarray(0, limit), complete: complete && size <= limit });
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= limit) finish(false);
      };
      if (limit <= 0 || options.method === "HEAD") {
        finish(options.method === "HEAD");
        return;
      }
      response.on("data", onData);
      response.once("end", () => finish(true));
      response.once("error", reject);
      response.once("aborted", () => reject(Object.assign(new Error("response aborted"), { code: "ECONNRESET" })));
    });
    request.end(options.body);
  });
}
