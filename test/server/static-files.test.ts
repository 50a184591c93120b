/**
 * How the server serves the web interface over HTTP: caching (hashed assets immutable, pages
 * revalidated), a strict Content-Security-Policy, no inline script, gzip, conditional requests,
 * the explorer instead of Apollo's CDN landing page, and a clear answer when nothing is built.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { ensureWebBuild } from "../web/support/web-build";

let app: TestApp;

beforeAll(async () => {
  ensureWebBuild();
  app = await startTestApp();
}, 120_000);

afterAll(async () => {
  await app?.stop();
});

async function get(path: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${app.url}${path}`, { headers, redirect: "manual" });
}

function assetsOf(html: string): string[] {
  return [...html.matchAll(/(?:src|href)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
}

describe("the web interface over HTTP", () => {
  it("serves the page at / with a strict CSP, revalidated on every load", async () => {
    const response = await get("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(response.headers.get("cache-control")).toBe("no-cache");
    const csp = response.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    const html = await response.text();
    // Every script is a file from this server: none inline, none from elsewhere.
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attributes, body] of scripts) {
      expect(attributes).toMatch(/src="\/assets\//);
      expect(body.trim()).toBe("");
    }
    expect(html).not.toMatch(/https?:\/\//);
  });

  it("answers a revalidation with 304 and a changed ETag with the page", async () => {
    const first = await get("/");
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    expect((await get("/", { "if-none-match": etag })).status).toBe(304);
    expect((await get("/", { "if-none-match": '"something-else"' })).status).toBe(200);
  });

  it("serves hashed assets as immutable for a year, gzipped when asked", async () => {
    const assets = assetsOf(await (await get("/")).text());
    const script = assets.find((a) => a.endsWith(".js"))!;
    expect(script).toMatch(/^\/assets\/[\w-]+-[\w-]{8}\.js$/);
    const plain = await fetch(`${app.url}${script}`, { headers: { "accept-encoding": "identity" } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(plain.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    const body = Buffer.from(await plain.arrayBuffer());

    // fetch() would decode gzip itself; node:http shows the bytes as sent.
    const { request } = await import("node:http");
    const gzipped = await new Promise<{ encoding: string | undefined; body: Buffer }>((resolve, reject) => {
      request(`${app.url}${script}`, { headers: { "accept-encoding": "gzip, br" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ encoding: res.headers["content-encoding"], body: Buffer.concat(chunks) }));
      })
        .on("error", reject)
        .end();
    });
    expect(gzipped.encoding).toBe("gzip");
    expect(gunzipSync(gzipped.body).equals(body)).toBe(true);
    expect(gzipped.body.length).toBeLessThan(body.length / 2);
  });

  it("serves the explorer at /explorer, and sends a browser's GET /graphql there instead of Apollo's CDN page", async () => {
    const explorer = await get("/explorer");
    expect(explorer.status).toBe(200);
    const csp = explorer.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(await explorer.text()).not.toMatch(/https?:\/\//);

    const browser = await get("/graphql", { accept: "text/html,application/xhtml+xml" });
    expect(browser.status).toBe(302);
    expect(browser.headers.get("location")).toBe("/explorer");

    // Clients still get GraphQL: a GET with a query, and a POST.
    const viaGet = await get(`/graphql?query=${encodeURIComponent("{ connectionTypes { id } }")}`, {
      accept: "application/json",
      "apollo-require-preflight": "true",
    });
    expect(viaGet.status).toBe(200);
    expect(((await viaGet.json()) as any).data.connectionTypes.length).toBeGreaterThan(0);
    const viaPost = await fetch(`${app.url}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "{ __typename }" }),
    });
    expect(((await viaPost.json()) as any).data).toEqual({ __typename: "Query" });
  });

  it("answers HEAD without a body, refuses other methods, and keeps unknown paths a JSON 404", async () => {
    const head = await fetch(`${app.url}/`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const post = await fetch(`${app.url}/`, { method: "POST", body: "x" });
    expect(post.status).toBe(405);
    expect(post.headers.get("allow")).toBe("GET, HEAD");
    for (const path of ["/index.html", "/assets/../package.json", "/%2e%2e/package.json", "/assets/nope.js", "/.env"]) {
      const missing = await get(path);
      expect(missing.status, path).toBe(404);
      expect(missing.headers.get("content-type"), path).toContain("application/json");
    }
  });
});

describe("without a build", () => {
  it("says how to build the page instead of answering a bare 404", async () => {
    const empty = await mkdtemp(join(tmpdir(), "patchbay-web-"));
    await writeFile(join(empty, "README"), "not a build");
    const bare = await startTestApp({ PATCHBAY_WEB_DIR: empty });
    try {
      const page = await fetch(`${bare.url}/`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain("npm run build:web");
      expect(bare.logs.some((line) => line.includes("the web interface is not built"))).toBe(true);
      expect((await fetch(`${bare.url}/README`)).status).toBe(404);
    } finally {
      await bare.stop();
      await rm(empty, { recursive: true, force: true });
    }
  });
});
