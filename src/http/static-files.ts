/**
 * Serves the built web interface (web/dist, from `npm run build:web`): the Connections page at
 * `/` and the GraphQL explorer at `/explorer`. Every file is read once at start-up, so a
 * request never touches the disk and no path from a request is ever joined onto a directory.
 * A file's gzip form is made on the first request that accepts it (off the event loop, in
 * zlib's thread pool) and kept: compressing the explorer's 7 MB at start cost more than the
 * rest of start-up.
 *
 * Caching: Vite names everything under assets/ by its content hash, so those are immutable
 * for a year; the HTML pages name the current hashes and are revalidated on every load
 * (no-cache with an ETag), so a new build is picked up at once.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { extname, join, relative, sep } from "node:path";
import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";

const gzip = promisify(gzipCallback);

/** The HTML pages by URL path; each is a file in the build's root. */
const PAGES: Record<string, string> = { "/": "index.html", "/explorer": "explorer.html" };

const HASHED_PREFIX = "/assets/";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".woff": "font/woff",
  ".ttf": "font/ttf",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

const COMPRESSIBLE = new Set([".html", ".js", ".mjs", ".css", ".json", ".svg", ".ttf", ".txt", ".map"]);

// The page loads nothing from anywhere but this server and runs no inline script.
const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

// The explorer's editor (Monaco) runs its language services in workers from this server and
// writes its own <style> elements at run time; scripts stay as strict as the page's.
const EXPLORER_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "worker-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

interface StaticFile {
  body: Buffer;
  compressible: boolean;
  /** The gzip form once asked for; null when it would not be smaller. */
  gzipped: Promise<Buffer | null> | null;
  contentType: string;
  etag: string;
  cacheControl: string;
  csp: string | null;
}

export interface StaticSite {
  /** False when the build is missing: the handler then explains how to build it. */
  built: boolean;
  /** Answers the request when it names a page or a built file; returns false otherwise. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): boolean;
}

export function loadStaticSite(root: string): StaticSite {
  if (!existsSync(join(root, PAGES["/"]))) return missingBuild();
  const files = new Map<string, StaticFile>();
  for (const path of listFiles(root)) {
    const urlPath = `/${relative(root, path).split(sep).join("/")}`;
    files.set(urlPath, describe(urlPath, readFileSync(path)));
  }
  for (const [page, file] of Object.entries(PAGES)) {
    const entry = files.get(`/${file}`);
    if (entry) files.set(page, { ...entry, csp: page === "/explorer" ? EXPLORER_CSP : APP_CSP });
  }
  // The pages are reached by their paths, not by their file names.
  for (const file of Object.values(PAGES)) files.delete(`/${file}`);

  return {
    built: true,
    handle(req, res, url) {
      const file = files.get(url.pathname);
      if (!file) return false;
      if (req.method !== "GET" && req.method !== "HEAD") {
        res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain; charset=utf-8" });
        res.end("Method not allowed.\n");
        return true;
      }
      send(req, res, file).catch(() => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
        res.end();
      });
      return true;
    },
  };
}

function describe(urlPath: string, body: Buffer): StaticFile {
  const extension = extname(urlPath).toLowerCase();
  const contentType = CONTENT_TYPES[extension] ?? "application/octet-stream";
  return {
    body,
    compressible: COMPRESSIBLE.has(extension) && body.length > 1024,
    gzipped: null,
    contentType,
    etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`,
    cacheControl: urlPath.startsWith(HASHED_PREFIX) ? "public, max-age=31536000, immutable" : "no-cache",
    csp: extension === ".html" ? APP_CSP : null,
  };
}

function gzipped(file: StaticFile): Promise<Buffer | null> {
  file.gzipped ??= gzip(file.body).then((compressed) => (compressed.length < file.body.length ? compressed : null));
  return file.gzipped;
}

async function send(req: IncomingMessage, res: ServerResponse, file: StaticFile): Promise<void> {
  const headers: Record<string, string | number> = {
    "content-type": file.contentType,
    "cache-control": file.cacheControl,
    etag: file.etag,
    vary: "accept-encoding",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
  };
  if (file.csp) {
    headers["content-security-policy"] = file.csp;
    headers["x-frame-options"] = "DENY";
  }
  if (etagMatches(req.headers["if-none-match"], file.etag)) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  const compressed = file.compressible && acceptsGzip(req.headers["accept-encoding"]) ? await gzipped(file) : null;
  const body = compressed ?? file.body;
  if (compressed) headers["content-encoding"] = "gzip";
  headers["content-length"] = body.length;
  res.writeHead(200, headers);
  res.end(req.method === "HEAD" ? undefined : body);
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((candidate) => candidate.trim().replace(/^W\//, "") === etag || candidate.trim() === "*");
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(",").some((part) => {
    const [coding, ...params] = part.trim().toLowerCase().split(";");
    if (coding !== "gzip" && coding !== "*") return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return !q || Number(q.slice(2)) > 0;
  });
}

function listFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Without a build, the pages say how to make one instead of answering a bare 404. */
function missingBuild(): StaticSite {
  const message =
    "<!doctype html><meta charset=utf-8><title>Patchbay</title>" +
    "<p>The web interface has not been built. Run <code>npm run build:web</code> (or <code>npm install</code>) " +
    "and restart. The GraphQL API is at <a href=/graphql>/graphql</a>.</p>";
  return {
    built: false,
    handle(req, res, url) {
      if (!Object.hasOwn(PAGES, url.pathname)) return false;
      res.writeHead(503, {
        "content-type": "text/html; charset=utf-8",
        "cache-control": "no-store",
        "content-security-policy": "default-src 'none'",
        "x-content-type-options": "nosniff",
      });
      res.end(req.method === "HEAD" ? undefined : message);
      return true;
    },
  };
}
