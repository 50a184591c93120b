/**
 * One HTTP(S) request to an address the egress module already checked, for protocols that
 * sign their requests (S3): any method, the caller's headers exactly (Host included, since it
 * is signed), and no redirect following, since a redirect is an answer to read, not a place
 * to go. The name in the URL is kept for the Host header, SNI and the certificate check.
 * Unlike http-request.ts's httpGet, it does not resolve or retry: the caller checks egress
 * and owns the deadline (it destroys the requests through OpenRequests).
 */
import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type { CheckedAddress } from "../types";
import { urlHost } from "./host";

export interface PinnedRequest {
  url: URL;
  method: "GET" | "HEAD";
  /** Sent as given; must include `host`. */
  headers: Record<string, string>;
  address: CheckedAddress;
  /** Bytes of the body to read; 0 reads none. */
  maxBodyBytes: number;
  /** Check the certificate (the default); off only for stores with a self-signed one. */
  verifyTls?: boolean;
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
      headers: options.headers,
      setHost: false,
      // A fresh connection, closed after this exchange: no pool shared between tests.
      agent: false,
      // SNI carries the name (never an IP literal); the certificate is checked against it, or
      // against the checked address when the URL names an IP.
      ...(secure ? { servername: isIP(name) ? "" : name, rejectUnauthorized: options.verifyTls ?? true } : {}),
    });
    const sent: SentRequest = { url, connected: false, responded: false, destroy: () => request.destroy() };
    open.add(sent);
    request.on("socket", (socket) => socket.once("connect", () => (sent.connected = true)));
    request.on("error", reject);
    request.on("response", (response) => {
      sent.responded = true;
      // Errors after the answer is settled have no one to go to; unheard, they would crash.
      response.on("error", () => {});
      const chunks: Buffer[] = [];
      let size = 0;
      const finish = (complete: boolean) => {
        response.off("data", onData);
        request.destroy();
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).subarray(0, options.maxBodyBytes), complete: complete && size <= options.maxBodyBytes });
      };
      const onData = (chunk: Buffer) => {
        chunks.push(chunk);
        size += chunk.length;
        if (size >= options.maxBodyBytes) finish(false);
      };
      if (options.maxBodyBytes <= 0 || options.method === "HEAD") {
        finish(options.method === "HEAD");
        return;
      }
      response.on("data", onData);
      response.once("end", () => finish(true));
      response.once("aborted", () => reject(Object.assign(new Error("response aborted"), { code: "ECONNRESET" })));
    });
    request.end();
  });
}
