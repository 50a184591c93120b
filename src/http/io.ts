import type { IncomingMessage, ServerResponse } from "node:http";
import { isIP } from "node:net";

export const MAX_BODY_BYTES = 1024 * 1024;

/** The request body as text, or null when it exceeds the limit. */
export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The client's address. Behind `trustedProxies` reverse proxies, each of which appends the
 * address it received the request from to X-Forwarded-For, the client is the entry that many
 * places from the right: entries further left were written by whoever sent the request and
 * prove nothing. Without trusted proxies, or when that entry is not an IP address, the socket's.
 */
export function clientAddress(req: IncomingMessage, trustedProxies: number): string | null {
  const socketAddress = req.socket.remoteAddress ?? null;
  if (trustedProxies <= 0) return socketAddress;
  const header = req.headers["x-forwarded-for"];
  const hops = (Array.isArray(header) ? header.join(",") : (header ?? ""))
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  if (hops.length === 0) return socketAddress;
  // Fewer entries than proxies: every entry was still written by a trusted proxy.
  const candidate = hops[Math.max(0, hops.length - trustedProxies)];
  return isIP(candidate) ? candidate : socketAddress;
}
