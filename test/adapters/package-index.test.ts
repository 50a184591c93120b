/**
 * The package_index adapter against a simple repository (PEP 503 HTML and PEP 691 JSON)
 * served over HTTP by node:http, with and without basic authentication.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countProjects, packageIndexAdapter } from "../../src/adapters/package-index";
import { validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { testContext } from "./support/context";
import { respond, startHttpServer, type TestHttpServer } from "./support/http-servers";
import { expectFailure } from "./support/outcome";

const PASSWORD = `pw-${randomBytes(8).toString("hex")}`;
const PROJECTS = ["numpy", "pandas", "patchbay-client"];

function simpleHtml(projects: string[], meta = true): string {
  return [
    "<!DOCTYPE html><html><head>",
    meta ? '<meta name="pypi:repository-version" content="1.1">' : "",
    "<title>Simple index</title></head><body>",
    ...projects.map((name) => `<a href="/simple/${name}/">${name}</a><br/>`),
    "</body></html>",
  ].join("\n");
}

let index: TestHttpServer;

beforeAll(async () => {
  const bigList = Array.from({ length: 40_000 }, (_, i) => `project-${i}-${"x".repeat(20)}`);
  index = await startHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const html = { "content-type": "application/vnd.pypi.simple.v1+html" };
    const authorized = req.headers.authorization === `Basic ${Buffer.from(`ci:${PASSWORD}`).toString("base64")}`;
    switch (url.pathname) {
      case "/simple/":
        return respond(res, 200, simpleHtml(PROJECTS), html);
      case "/simple":
        return respond(res, 301, "", { location: "/simple/" });
      case "/private/simple/":
        if (!authorized) return respond(res, 401, "", { "www-authenticate": 'Basic realm="pypi"' });
        return respond(res, 200, simpleHtml(PROJECTS), html);
      case "/json/simple/":
        return respond(
          res,
          200,
          JSON.stringify({ meta: { "api-version": "1.1" }, projects: PROJECTS.map((name) => ({ name })) }),
          { "content-type": "application/vnd.pypi.simple.v1+json" },
        );
      case "/empty/simple/":
        return respond(res, 200, simpleHtml([]), html);
      case "/big/simple/":
        return respond(res, 200, simpleHtml(bigList), html);
      case "/not-an-index/":
        return respond(res, 200, "<html><body>Welcome to nginx!</body></html>", { "content-type": "text/html" });
      case "/teapot/":
        return respond(res, 418, "");
      default:
        return respond(res, 404, "");
    }
  });
});

afterAll(async () => {
  await index.close();
});

function settings(path = "/simple/", overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port: index.port, schema: "http", login: null, password: null, extra: { path }, ...overrides };
}

function testIndex(s: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return packageIndexAdapter.test!(s, ctx);
}

describe("package_index against a simple index over HTTP", () => {
  it("reads an open index and counts its projects, asking for the HTML simple API", async () => {
    const outcome = await testIndex(settings());
    expect(outcome).toMatchObject({ ok: true, message: "Index answered with 3 projects (PEP 503 HTML)." });
    expect(index.requests.at(-1)?.headers.accept).toMatch(/application\/vnd\.pypi\.simple\.v1\+html/);
    expect(index.requests.at(-1)?.headers.authorization).toBeUndefined();
  });

  it("follows the redirect an index gives for a path without its trailing slash", async () => {
    expect(await testIndex(settings("/simple"))).toMatchObject({ ok: true, message: expect.stringContaining("3 projects") });
  });

  it("logs in with basic authentication, and reports a wrong or missing password", async () => {
    const withLogin = (password: string | null) => settings("/private/simple/", { login: "ci", password });
    expect(await testIndex(withLogin(PASSWORD))).toMatchObject({ ok: true });
    const message = expectFailure(await testIndex(withLogin("wrong-password")), "AUTH_FAILED");
    expect(message).toMatch(/refused the login and password/);
    expect(message).not.toContain("wrong-password");
    expect(expectFailure(await testIndex(settings("/private/simple/")), "AUTH_FAILED")).toMatch(/needs a login and password/);
  });

  it("reads a PEP 691 JSON answer", async () => {
    expect(await testIndex(settings("/json/simple/"))).toMatchObject({ ok: true, message: "Index answered with 3 projects (PEP 691 JSON)." });
  });

  it("accepts an index with no projects yet when it declares itself one", async () => {
    expect(await testIndex(settings("/empty/simple/"))).toMatchObject({ ok: true, message: expect.stringContaining("0 projects") });
  });

  it("reads only the start of a very large index", async () => {
    const outcome = await testIndex(settings("/big/simple/"));
    expect(outcome).toMatchObject({ ok: true, message: expect.stringMatching(/^Index answered with at least \d+ projects/) });
  });

  it("reports NOT_FOUND for a wrong path, PROTOCOL_ERROR for a page that is no index or an odd status", async () => {
    expect(expectFailure(await testIndex(settings("/pypi/")), "NOT_FOUND")).toMatch(/Check the index path/);
    expect(expectFailure(await testIndex(settings("/not-an-index/")), "PROTOCOL_ERROR")).not.toMatch(/nginx/);
    expect(expectFailure(await testIndex(settings("/teapot/")), "PROTOCOL_ERROR")).toMatch(/418/);
  });

});

describe("package_index settings", () => {
  const problems = (s: Partial<ConnectionSettings>) =>
    validateSettings(packageIndexAdapter, { host: "pypi.example.com", port: null, schema: null, login: null, password: null, extra: {}, ...s }).map(
      (p) => p.field,
    );

  it("needs only a host", () => {
    expect(problems({})).toEqual([]);
  });

  it.each([
    [{ extra: { path: "simple" } }, ["extra.path"]],
    [{ schema: "ftp" }, ["schema"]],
    [{ password: "x" }, ["login"]],
    [{ login: "a:b" }, ["login"]],
  ] as Array<[Partial<ConnectionSettings>, string[]]>)("refuses %j", (s, fields) => {
    expect(problems(s)).toEqual(fields);
  });

  it("counts projects in HTML and JSON bodies", () => {
    const answer = (type: string, body: string, complete = true) => ({ headers: { "content-type": type }, body: Buffer.from(body), complete });
    expect(countProjects(answer("text/html", simpleHtml(["a", "b"], false)))).toEqual({ count: 2, format: "PEP 503 HTML" });
    expect(countProjects(answer("text/html", "<html></html>"))).toBeNull();
    expect(countProjects(answer("application/vnd.pypi.simple.v1+json", "{}"))).toBeNull();
    expect(countProjects(answer("application/vnd.pypi.simple.v1+json", '{"meta":{"api-version":"1.0"},"projects":[{"name":"a"},{"na', false))).toEqual({
      count: 1,
      format: "PEP 691 JSON",
    });
  });
});

describe("package_index URL in host (normalize)", () => {
  const normalize = (s: Partial<ConnectionSettings>): ConnectionSettings =>
    packageIndexAdapter.normalize!({ host: null, port: null, schema: null, login: null, password: null, extra: {}, ...s });
  const problemsOf = (s: ConnectionSettings) => validateSettings(packageIndexAdapter, s);

  it.each([
    ["https://pypi.example.com/repository/pypi/simple/", { schema: "https", host: "pypi.example.com", port: null }, "/repository/pypi/simple/"],
    ["http://10.0.0.5:8080/root/pypi/+simple/", { schema: "http", host: "10.0.0.5", port: 8080 }, "/root/pypi/+simple/"],
    ["https://[2001:db8::5]:3141/simple/", { schema: "https", host: "[2001:db8::5]", port: 3141 }, "/simple/"],
    // No path, or only "/": the index path keeps its default (/simple/).
    ["https://pypi.example.com", { schema: "https", host: "pypi.example.com", port: null }, undefined],
    ["https://pypi.example.com/", { schema: "https", host: "pypi.example.com", port: null }, undefined],
  ])("reads %j", (host, fields, path) => {
    const s = normalize({ host, login: "ci", password: PASSWORD });
    expect(s).toMatchObject({ ...fields, login: "ci", password: PASSWORD });
    expect(s.extra.path).toBe(path);
    expect(problemsOf(s)).toEqual([]);
  });

  it("replaces an index path still at its default, and refuses one the URL contradicts", () => {
    expect(normalize({ host: "https://pypi.example.com/private/simple/", extra: { path: "/simple/" } }).extra.path).toBe("/private/simple/");
    expect(normalize({ host: "https://pypi.example.com/private/simple/", extra: { path: "/private/simple/" } }).host).toBe("pypi.example.com");

    const conflicting = normalize({ host: "https://pypi.example.com/private/simple/", extra: { path: "/other/simple/" } });
    expect(conflicting.host).toBe("https://pypi.example.com/private/simple/");
    expect(problemsOf(conflicting).map((p) => p.field)).toEqual(["host"]);
    expect(packageIndexAdapter.validate!(conflicting)).toEqual([
      { field: "host", message: expect.stringMatching(/path \/private\/simple\/ but Index path says \/other\/simple\//) },
    ]);
  });

  it("refuses a port the URL contradicts", () => {
    const conflicting = normalize({ host: "https://pypi.example.com:8443/simple/", port: 443 });
    expect(conflicting.host).toBe("https://pypi.example.com:8443/simple/");
    expect(packageIndexAdapter.validate!(conflicting)).toEqual([{ field: "host", message: expect.stringMatching(/port 8443 but the Port field says 443/) }]);
  });

  it("refuses a login and password in the URL, without repeating them", () => {
    const host = `https://ci:${PASSWORD}@pypi.example.com/simple/`;
    const s = normalize({ host });
    expect(s).toMatchObject({ host, login: null, password: null, extra: {} });
    const found = [...problemsOf(s), ...packageIndexAdapter.validate!(s)];
    expect(found.map((p) => p.field)).toEqual(["host", "host"]);
    for (const problem of found) {
      expect(problem.message).toMatch(/user name or password.*(login and password|Login and Password)/);
      expect(problem.message).not.toContain(PASSWORD);
    }
  });

  it("refuses a scheme other than http and https on the Scheme field", () => {
    expect(problemsOf(normalize({ host: "ftp://pypi.example.com/simple/" }))).toEqual([
      { field: "schema", message: "Scheme must be one of: https, http." },
    ]);
  });

  it("refuses a query in the URL", () => {
    const s = normalize({ host: "https://pypi.example.com/simple/?token=abc" });
    expect(packageIndexAdapter.validate!(s)).toEqual([{ field: "host", message: expect.stringMatching(/query/) }]);
  });

  it("tests the index a URL names", async () => {
    const outcome = await testIndex(normalize({ host: `http://127.0.0.1:${index.port}/json/simple/` }));
    expect(outcome).toMatchObject({ ok: true, message: "Index answered with 3 projects (PEP 691 JSON)." });
    expect(await testIndex(normalize({ host: `http://127.0.0.1:${index.port}` }))).toMatchObject({ ok: true, message: expect.stringContaining("PEP 503") });
  });
});
