/**
 * The http adapter against real node:http(s) servers on 127.0.0.1: each authentication type,
 * redirects within and outside the egress policy, servers that never answer or trickle, a
 * certificate nobody trusts, and servers that are not HTTP at all.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { httpAdapter, httpTarget, requestPath, statusMatcher } from "../../src/adapters/http";
import { validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings, TestContext, TestOutcome } from "../../src/adapters/types";
import { createEgress } from "../../src/net/egress";
import { findProgram } from "../servers/availability";
import { selfSignedCertificate, type SelfSignedCertificate } from "./support/certificate";
import { testContext } from "./support/context";
import { silentServer } from "./support/fake-servers";
import { respond, startHttpServer, type TestHttpServer } from "./support/http-servers";
import { expectFailure } from "./support/outcome";

const PASSWORD = `pw ${randomBytes(6).toString("hex")}:/+&`;
const TOKEN = `tok-${randomBytes(12).toString("hex")}`;
const API_KEY = `key-${randomBytes(12).toString("hex")}`;
const BODY_MARKER = "body-marker-5c1e";

let api: TestHttpServer;

function settings(overrides: Partial<ConnectionSettings> = {}, extra: Record<string, unknown> = {}): ConnectionSettings {
  return { host: "127.0.0.1", port: api.port, schema: "http", login: null, password: null, extra, ...overrides };
}

function testHttp(s: ConnectionSettings, ctx: TestContext = testContext()): Promise<TestOutcome> {
  return httpAdapter.test!(s, ctx);
}

/** Routes of the API server: auth checks per path, redirects, statuses. */
beforeAll(async () => {
  api = await startHttpServer((req, res, self) => {
    const url = new URL(req.url ?? "/", "http://x");
    const auth = req.headers.authorization;
    const redirect = /^\/redirect\/(\d+)$/.exec(url.pathname);
    if (redirect) {
      const left = Number(redirect[1]);
      return respond(res, 302, "", { location: left > 1 ? `/redirect/${left - 1}` : "/open" });
    }
    switch (url.pathname) {
      case "/open":
        return respond(res, 200, BODY_MARKER, { server: "test-api/1.2" });
      case "/v1":
      case "/v1/open":
        return respond(res, 200, BODY_MARKER);
      case "/basic":
        return respond(res, auth === `Basic ${Buffer.from(`reporter:${PASSWORD}`).toString("base64")}` ? 200 : 401, BODY_MARKER);
      case "/bearer":
        return respond(res, auth === `Bearer ${TOKEN}` ? 200 : 401, BODY_MARKER);
      case "/header":
        return respond(res, req.headers["x-api-key"] === API_KEY ? 200 : 401, BODY_MARKER);
      case "/tenant":
        return respond(res, req.headers["x-tenant"] === "blue" ? 200 : 400, BODY_MARKER);
      case "/forbidden":
        return respond(res, 403, BODY_MARKER);
      case "/teapot":
        return respond(res, 418, BODY_MARKER);
      case "/broken":
        return respond(res, 500, BODY_MARKER);
      case "/elsewhere":
        return respond(res, 302, "", { location: url.searchParams.get("to") ?? "/" });
      default:
        void self;
        return respond(res, 404, BODY_MARKER);
    }
  });
});

afterAll(async () => {
  await api.close();
});

describe("http authentication", () => {
  it("succeeds without authentication and reports the status and Server header", async () => {
    const outcome = await testHttp(settings({}, { test_path: "/open" }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: "test-api/1.2" });
    expect(outcome.message).toBe(`GET http://127.0.0.1:${api.port}/open answered 200 OK.`);
    expect(outcome.message).not.toContain(BODY_MARKER);
  });

  it("uses basic authentication, and reports a wrong password as AUTH_FAILED without the password", async () => {
    const basic = (password: string, auth_type?: string) =>
      settings({ login: "reporter", password }, { test_path: "/basic", ...(auth_type ? { auth_type } : {}) });
    expect(await testHttp(basic(PASSWORD, "basic"))).toMatchObject({ ok: true });
    // With a login and no authentication type, basic is meant (as in Airflow).
    expect(await testHttp(basic(PASSWORD))).toMatchObject({ ok: true });
    const wrong = `wrong ${randomBytes(4).toString("hex")}`;
    const message = expectFailure(await testHttp(basic(wrong, "basic")), "AUTH_FAILED");
    expect(message).toMatch(/answered 401 Unauthorized: the server refused the credentials/);
    expect(message).not.toContain(wrong);
    expect(message).not.toContain(Buffer.from(`reporter:${wrong}`).toString("base64"));
  });

  it("uses a bearer token, and reports a wrong or missing one", async () => {
    const bearer = (token: string | undefined) => settings({}, { test_path: "/bearer", auth_type: "bearer", bearer_token: token });
    expect(await testHttp(bearer(TOKEN))).toMatchObject({ ok: true });
    expect(expectFailure(await testHttp(bearer("not-the-token")), "AUTH_FAILED")).not.toContain("not-the-token");
    expectFailure(await testHttp(bearer(undefined)), "SECRET_REQUIRED");
  });

  it("uses a custom header, and reports a wrong or missing value", async () => {
    const header = (value: string | undefined) =>
      settings({}, { test_path: "/header", auth_type: "header", header_name: "X-API-Key", header_value: value });
    expect(await testHttp(header(API_KEY))).toMatchObject({ ok: true });
    expectFailure(await testHttp(header("wrong-key-value")), "AUTH_FAILED");
    expectFailure(await testHttp(header(undefined)), "SECRET_REQUIRED");
  });

  it("asks for authentication when none is configured and the server wants it", async () => {
    expect(expectFailure(await testHttp(settings({}, { test_path: "/basic" })), "AUTH_FAILED")).toMatch(/asks for authentication/);
  });

  it("sends the default headers", async () => {
    expect(await testHttp(settings({}, { test_path: "/tenant", headers: { "X-Tenant": "blue" } }))).toMatchObject({ ok: true });
    expectFailure(await testHttp(settings({}, { test_path: "/tenant", headers: { "X-Tenant": "red" } })), "PROTOCOL_ERROR");
  });

  it("keeps the host name in the Host header while connecting to the checked address", async () => {
    const lookups: string[] = [];
    const egress = createEgress({
      mode: "default",
      allow: [],
      deny: [],
      lookup: async (host) => (lookups.push(host), [{ address: "127.0.0.1", family: 4 }]),
    });
    const outcome = await testHttp(settings({ host: "api.patchbay.invalid" }, { test_path: "/open" }), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true });
    expect(lookups).toEqual(["api.patchbay.invalid"]);
    expect(api.requests.at(-1)?.headers.host).toBe(`api.patchbay.invalid:${api.port}`);
  });
});

describe("http statuses", () => {
  it.each([
    ["/forbidden", "PERMISSION_DENIED", /403 Forbidden/],
    ["/nowhere", "NOT_FOUND", /404 Not Found\. Check the test path/],
    ["/broken", "PROTOCOL_ERROR", /answered 500 Internal Server Error; expected 2xx\./],
    ["/teapot", "PROTOCOL_ERROR", /418/],
  ])("maps GET %s to %s, naming the status but never the body", async (path, code, reason) => {
    const message = expectFailure(await testHttp(settings({}, { test_path: path })), code);
    expect(message).toMatch(reason);
    expect(message).not.toContain(BODY_MARKER);
  });

  it("honours the expected status list", async () => {
    expect(await testHttp(settings({}, { test_path: "/teapot", expected_status: "2xx, 418" }))).toMatchObject({ ok: true });
    expect(await testHttp(settings({}, { test_path: "/forbidden", expected_status: "403" }))).toMatchObject({ ok: true });
    expect(expectFailure(await testHttp(settings({}, { test_path: "/open", expected_status: "201" })), "PROTOCOL_ERROR")).toMatch(
      /answered 200 OK; expected 201/,
    );
  });

  it("reads status lists of codes and classes", () => {
    const matcher = statusMatcher("2xx, 304,4XX");
    if (typeof matcher === "string") throw new Error(matcher);
    expect([200, 299, 304, 404].map(matcher.matches)).toEqual([true, true, true, true]);
    expect([301, 500].map(matcher.matches)).toEqual([false, false]);
    for (const bad of ["", "2x", "600", "2xx;3xx", "ok"]) expect(typeof statusMatcher(bad)).toBe("string");
  });
});

describe("http redirects", () => {
  it.each([1, 2, 3])("follows %i redirect(s) on the same server", async (hops) => {
    const outcome = await testHttp(settings({}, { test_path: `/redirect/${hops}` }));
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.message).toContain(`after ${hops} redirect`);
  });

  it("refuses a fourth redirect as PROTOCOL_ERROR, without requesting it", async () => {
    const before = api.requests.length;
    const message = expectFailure(await testHttp(settings({}, { test_path: "/redirect/4" })), "PROTOCOL_ERROR");
    expect(message).toMatch(/too many redirects/);
    expect(api.requests.slice(before).map((r) => r.path)).toEqual(["/redirect/4", "/redirect/3", "/redirect/2", "/redirect/1"]);
  });

  it("refuses a redirect to the cloud metadata address as EGRESS_DENIED", async () => {
    const outcome = await testHttp(settings({}, { test_path: `/elsewhere?to=${encodeURIComponent("http://169.254.169.254/latest/meta-data/")}` }));
    const message = expectFailure(outcome, "EGRESS_DENIED");
    expect(message).toMatch(/redirected to an address this server's egress policy does not allow/);
    expect(message).not.toContain("169.254");
  });

  it("refuses a redirect to a denied address without connecting to it", async () => {
    const target = await startHttpServer((_req, res) => respond(res, 200), { host: "127.0.0.2" });
    try {
      const egress = createEgress({ mode: "default", allow: [], deny: ["127.0.0.2/32"] });
      const path = `/elsewhere?to=${encodeURIComponent(`${target.origin}/`)}`;
      expectFailure(await testHttp(settings({}, { test_path: path }), testContext({ egress })), "EGRESS_DENIED");
      expect(target.connections()).toBe(0);
      // The control case: the same redirect is followed when the policy allows it.
      expect(await testHttp(settings({}, { test_path: path }))).toMatchObject({ ok: true });
      expect(target.connections()).toBe(1);
    } finally {
      await target.close();
    }
  });

  it("sends credentials only to the configured origin, never after a redirect elsewhere", async () => {
    const target = await startHttpServer((_req, res) => respond(res, 200));
    try {
      const path = `/elsewhere?to=${encodeURIComponent(`${target.origin}/landing`)}`;
      const outcome = await testHttp(
        settings({}, { test_path: path, auth_type: "header", header_name: "X-API-Key", header_value: API_KEY, headers: { "X-Tenant": "blue" } }),
      );
      expect(outcome).toMatchObject({ ok: true });
      expect(api.requests.at(-1)?.headers["x-api-key"]).toBe(API_KEY);
      expect(target.requests).toHaveLength(1);
      expect(target.requests[0].headers["x-api-key"]).toBeUndefined();
      expect(target.requests[0].headers.authorization).toBeUndefined();
      expect(target.requests[0].headers["x-tenant"]).toBe("blue");
    } finally {
      await target.close();
    }
  });

  it("refuses a redirect to another scheme without naming it", async () => {
    const outcome = await testHttp(settings({}, { test_path: `/elsewhere?to=${encodeURIComponent("file:///etc/passwd")}` }));
    const message = expectFailure(outcome, "PROTOCOL_ERROR");
    expect(message).not.toMatch(/passwd|file:/);
  });
});

describe("http against unreachable, silent and foreign servers", () => {
  it("copes with a fractional time budget, as the service hands out", async () => {
    expect(await testHttp(settings({}, { test_path: "/open" }), testContext({ timeoutMs: 2_345.678 }))).toMatchObject({ ok: true });
    const server = await silentServer();
    try {
      const outcome = await testHttp(settings({ port: server.port }), testContext({ timeoutMs: 300.4 }));
      expect(expectFailure(outcome, "TIMEOUT")).toMatch(/within 300 ms/);
    } finally {
      await server.close();
    }
  });

});

describe.skipIf(!findProgram("openssl"))("https", () => {
  let certificate: SelfSignedCertificate;
  let secure: TestHttpServer;

  beforeAll(async () => {
    certificate = await selfSignedCertificate();
    secure = await startHttpServer((_req, res) => respond(res, 200, "", { server: "secure-api" }), { tls: certificate });
  });

  afterAll(async () => {
    await secure?.close();
    await certificate?.remove();
  });

  const https = (extra: Record<string, unknown> = {}, host = "127.0.0.1") =>
    settings({ host, port: secure.port, schema: "https" }, extra);

  it("succeeds with verify_tls off, sending the host name as SNI", async () => {
    const egress = createEgress({ mode: "default", allow: [], deny: [], lookup: async () => [{ address: "127.0.0.1", family: 4 }] });
    const outcome = await testHttp(https({ verify_tls: false }, "localhost"), testContext({ egress }));
    expect(outcome).toMatchObject({ ok: true, serverVersion: "secure-api" });
    expect(secure.requests.at(-1)?.servername).toBe("localhost");
  });

  it("reports TLS_ERROR when https meets a plain HTTP server", async () => {
    const outcome = await testHttp(settings({ schema: "https" }, { test_path: "/open" }));
    expectFailure(outcome, "TLS_ERROR");
  });
});

describe("http settings", () => {
  const problems = (s: ConnectionSettings) => validateSettings(httpAdapter, s).map((p) => p.field);

  it("accepts a minimal connection and fills in the defaults", () => {
    expect(problems({ host: "api.example.com", port: null, schema: null, login: null, password: null, extra: {} })).toEqual([]);
  });

  it.each([
    [{ schema: "ftp" }, {}, ["schema"]],
    [{ host: "https://api.example.com" }, {}, ["host"]],
    [{}, { test_path: "health" }, ["extra.test_path"]],
    [{}, { test_path: "//evil.example/x" }, ["extra.test_path"]],
    [{}, { expected_status: "ok" }, ["extra.expected_status"]],
    [{}, { headers: { Authorization: "Basic abc" } }, ["extra.headers"]],
    [{}, { headers: { "Bad Header": "x" } }, ["extra.headers"]],
    [{}, { headers: { "X-A": "a\r\nInjected: 1" } }, ["extra.headers"]],
    [{}, { headers: "[1]" }, ["extra.headers"]],
    [{}, { auth_type: "basic" }, ["login"]],
    [{ login: "a:b" }, {}, ["login"]],
    [{}, { auth_type: "header" }, ["extra.header_name"]],
    [{}, { auth_type: "header", header_name: "Host" }, ["extra.header_name"]],
    [{}, { auth_type: "bearer", bearer_token: "a\nb" }, ["extra.bearer_token"]],
  ] as Array<[Partial<ConnectionSettings>, Record<string, unknown>, string[]]>)("refuses %j %j", (overrides, extra, fields) => {
    expect(problems({ host: "api.example.com", port: null, schema: "https", login: null, password: null, ...overrides, extra })).toEqual(fields);
  });

  it("refuses to test settings it would not save", async () => {
    expectFailure(await testHttp(settings({}, { test_path: "no-slash" })), "INVALID_CONFIG");
  });

  it("declares its secrets", () => {
    const secret = httpAdapter.fields.filter((f) => f.secret).map((f) => f.name);
    expect(secret).toEqual(["password", "extra.bearer_token", "extra.header_value"]);
  });
});

describe("http base URL in host (normalize)", () => {
  const normalize = (s: Partial<ConnectionSettings>): ConnectionSettings =>
    httpAdapter.normalize!({ host: null, port: null, schema: null, login: null, password: null, extra: {}, ...s });
  const problemsOf = (s: ConnectionSettings) => validateSettings(httpAdapter, s);
  const ownProblems = (s: ConnectionSettings) => httpAdapter.validate!(s);

  it("splits Airflow's base URL into scheme, host, port and base path, keeping everything else", () => {
    const extra = { auth_type: "basic", bearer_token: TOKEN, test_path: "/health", verify_tls: false };
    const s = normalize({ host: "https://api.example.com:8443/v1", login: "reporter", password: PASSWORD, extra });
    expect(s).toEqual({
      host: "api.example.com",
      port: 8443,
      schema: "https",
      login: "reporter",
      password: PASSWORD,
      extra: { ...extra, base_path: "/v1" },
    });
    expect(problemsOf(s)).toEqual([]);
    const target = httpTarget(s);
    expect("url" in target && target.url.href).toBe("https://api.example.com:8443/v1/health");
  });

  it.each([
    ["http://api.example.com", { schema: "http", host: "api.example.com", port: null }, undefined],
    ["https://api.example.com/", { schema: "https", host: "api.example.com", port: null }, undefined],
    ["HTTPS://API.example.com/v1/", { schema: "https", host: "API.example.com", port: null }, "/v1/"],
    ["  https://api.example.com/v1  ", { schema: "https", host: "api.example.com", port: null }, "/v1"],
    ["https://api.example.com:443/a/b%20c", { schema: "https", host: "api.example.com", port: 443 }, "/a/b%20c"],
    ["http://10.0.0.7:8080/api", { schema: "http", host: "10.0.0.7", port: 8080 }, "/api"],
    ["https://[2001:db8::1]:8443/api", { schema: "https", host: "[2001:db8::1]", port: 8443 }, "/api"],
    ["http://[::1]/", { schema: "http", host: "[::1]", port: null }, undefined],
  ])("reads %j", (host, fields, basePath) => {
    const s = normalize({ host });
    expect(s).toMatchObject(fields);
    expect(s.extra.base_path).toBe(basePath);
    expect(problemsOf(s)).toEqual([]);
  });

  it("takes the scheme from the URL over the Scheme field, as Airflow does", () => {
    expect(normalize({ host: "http://api.example.com", schema: "https" })).toMatchObject({ schema: "http", host: "api.example.com" });
  });

  it("keeps a Port the URL does not contradict, and refuses one it does", () => {
    expect(normalize({ host: "https://api.example.com/v1", port: 9443 })).toMatchObject({ host: "api.example.com", port: 9443 });
    expect(normalize({ host: "https://api.example.com:9443/v1", port: 9443 })).toMatchObject({ host: "api.example.com", port: 9443 });

    const conflicting = normalize({ host: "https://api.example.com:8443/v1", port: 9443 });
    expect(conflicting).toMatchObject({ host: "https://api.example.com:8443/v1", port: 9443 });
    expect(problemsOf(conflicting).map((p) => p.field)).toEqual(["host"]);
    expect(ownProblems(conflicting)).toEqual([{ field: "host", message: expect.stringMatching(/port 8443 but the Port field says 9443/) }]);
  });

  it("keeps a Base path the URL agrees with, and refuses one it contradicts", () => {
    expect(normalize({ host: "https://api.example.com/v1", extra: { base_path: "/v1" } }).extra.base_path).toBe("/v1");
    expect(normalize({ host: "https://api.example.com", extra: { base_path: "/v1" } })).toMatchObject({ host: "api.example.com", extra: { base_path: "/v1" } });

    const conflicting = normalize({ host: "https://api.example.com/v2", extra: { base_path: "/v1" } });
    expect(conflicting.host).toBe("https://api.example.com/v2");
    expect(ownProblems(conflicting)).toEqual([{ field: "host", message: expect.stringMatching(/path \/v2 but Base path says \/v1/) }]);
  });

  it.each(["https://reporter:hunter2-secret@api.example.com/v1", "https://reporter@api.example.com", "ftp://reporter:hunter2-secret@files.example.com"])(
    "refuses credentials in the URL (%j), pointing to Login and Password without repeating them",
    (host) => {
      const s = normalize({ host });
      expect(s.host).toBe(host);
      expect(s.login).toBeNull();
      expect(s.password).toBeNull();
      const found = problemsOf(s);
      expect(found).toEqual([{ field: "host", message: expect.stringMatching(/user name or password.*login and password/) }]);
      expect(ownProblems(s)).toEqual([{ field: "host", message: expect.stringMatching(/user name or password.*Login and Password/) }]);
      for (const problem of [...found, ...ownProblems(s)]) {
        expect(problem.message).not.toContain("hunter2");
        expect(problem.message).not.toContain("reporter");
      }
    },
  );

  it.each(["ftp://files.example.com/pub", "postgres://db.example.com:5432/app", "ws://api.example.com/socket"])(
    "refuses a scheme other than http and https (%j) on the Scheme field",
    (host) => {
      expect(problemsOf(normalize({ host }))).toEqual([{ field: "schema", message: "Scheme must be one of: https, http." }]);
    },
  );

  it.each([
    ["https://api.example.com/v1?key=abc", /query/],
    ["https://api.example.com/v1#top", /fragment/],
    ["https://", /no host name/],
    ["https:///v1", /no host name/],
    ["https://2001:db8::1/v1", /brackets/],
    ["https://api.example.com:https/v1", /port .* must be a number/],
    ["https//api.example.com://x", /not a URL/],
  ])("leaves %j for validation to refuse, saying why", (host, reason) => {
    const s = normalize({ host });
    expect(s.host).toBe(host);
    expect(problemsOf(s).map((p) => p.field)).toEqual(["host"]);
    expect(ownProblems(s)).toEqual([{ field: "host", message: expect.stringMatching(reason) }]);
  });

  it.each([
    ["https://api example.com/v1", "host", /whitespace|spaces/],
    ["https://api.example.com:99999/v1", "port", /65535/],
    ["https://api.example.com//evil.example/x", "extra.base_path", /'\/\/'/],
    ["https://api.example.com/a b", "extra.base_path", /spaces/],
    ["https://[db.example.com]/v1", "host", /IPv6/],
  ])("splits %j and lets the usual field checks refuse the bad part", (host, field, reason) => {
    const found = problemsOf(normalize({ host }));
    expect(found).toEqual([{ field, message: expect.stringMatching(reason) }]);
  });

  it("joins the base path and the test path with one '/'", () => {
    const path = (extra: Record<string, unknown>) => requestPath({ host: "h", port: null, schema: null, login: null, password: null, extra });
    expect(path({})).toEqual({ path: "/", problem: null });
    expect(path({ test_path: "/health" })).toEqual({ path: "/health", problem: null });
    expect(path({ base_path: "/v1" })).toEqual({ path: "/v1", problem: null });
    expect(path({ base_path: "/v1", test_path: "/" })).toEqual({ path: "/v1", problem: null });
    expect(path({ base_path: "/v1", test_path: "/health?deep=1" })).toEqual({ path: "/v1/health?deep=1", problem: null });
    expect(path({ base_path: "/v1/", test_path: "/health" })).toEqual({ path: "/v1/health", problem: null });
    expect(path({ base_path: "v1" }).problem).toMatchObject({ field: "extra.base_path" });
    expect(path({ base_path: "/v1?x=1", test_path: "/health" }).problem).toMatchObject({ field: "extra.base_path", message: expect.stringMatching(/'\?'/) });
    expect(path({ base_path: "/v1", test_path: "health" }).problem).toMatchObject({ field: "extra.test_path" });
  });

  it("tests below the base path of a URL given as host", async () => {
    const base = normalize({ host: `http://127.0.0.1:${api.port}/v1` });
    const alone = await testHttp(base);
    expect(alone).toMatchObject({ ok: true, message: `GET http://127.0.0.1:${api.port}/v1 answered 200 OK.` });
    const below = await testHttp({ ...base, extra: { ...base.extra, test_path: "/open" } });
    expect(below).toMatchObject({ ok: true, message: `GET http://127.0.0.1:${api.port}/v1/open answered 200 OK.` });
    expect(api.requests.at(-1)?.path).toBe("/v1/open");
  });
});
