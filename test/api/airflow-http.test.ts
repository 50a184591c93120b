/**
 * An http (or package_index) connection whose host is a whole URL, as Airflow keeps an HTTP
 * connection's base URL in `host`: through import, create, update and an unsaved test, the
 * URL is split into scheme, host, port and base path; a URL carrying credentials is refused
 * without the password going anywhere.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient, responseLog } from "../support/client";
import { CONNECTION_FIELDS, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

/** A password typed into a URL: it must not be stored, echoed or logged. */
const URL_PASSWORD = "url-Pa55word-in-host";

const IMPORT = `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict) {
  importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o) { applied lines { name outcome message } }
}`;
const BY_NAME = `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { ${CONNECTION_FIELDS} } } }`;
const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { ${CONNECTION_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!) { updateConnection(id: $id, patch: $patch) { ${CONNECTION_FIELDS} } }`;
const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) { type host port schema extra airflowUri airflowJson } }`;
const EXPORT = `query($w: ID!, $f: ExportFormat!, $s: Boolean) { exportConnections(workspaceId: $w, format: $f, includeSecrets: $s) }`;
const TEST_INPUT = `mutation($w: ID!, $i: ConnectionInput!) { testConnectionInput(workspaceId: $w, input: $i) { status errorCode message } }`;

/** `airflow connections export --file-format json`, with an http and a package_index connection. */
const AIRFLOW_JSON_FILE = JSON.stringify(
  {
    partner_api: {
      conn_type: "http",
      description: "Partner API",
      login: "svc-partner",
      password: "partner-Pa55",
      host: "https://api.example.com:8443/v1",
      port: null,
      schema: "",
      extra: JSON.stringify({ auth_type: "basic", test_path: "/health" }),
    },
    private_pypi: {
      conn_type: "package_index",
      description: null,
      login: "ci",
      password: "pypi-Pa55",
      host: "https://pypi.example.com/repository/pypi/simple/",
      port: null,
      schema: null,
      extra: null,
    },
  },
  null,
  4,
);

let app: TestApp;
let owner: SignedUp;
let api: Server;
let apiPort: number;
const apiRequests: IncomingMessage[] = [];

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  api = createServer((req, res) => {
    apiRequests.push(req);
    res.writeHead(req.url === "/v1/health" ? 200 : 404).end();
  });
  apiPort = await new Promise((resolve) => api.listen(0, "127.0.0.1", () => resolve((api.address() as any).port)));
});

afterAll(async () => {
  api.close();
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  const rows = await client.query(`SELECT row_to_json(c)::text AS r FROM "Connection" c`);
  const audit = await client.query(`SELECT details::text AS d FROM "AuditEvent"`);
  await client.end();
  const places = { responses: responseLog, logs: app.logs, connections: rows.rows.map((r) => r.r), audit: audit.rows.map((r) => r.d) };
  for (const [place, texts] of Object.entries(places)) {
    expect(texts.filter((text) => text.includes(URL_PASSWORD)), place).toEqual([]);
  }
  await app.stop();
});

async function byName(slug: string, name: string): Promise<any> {
  return (await owner.client.ok(BY_NAME, { s: slug, n: name })).workspace.connection;
}

describe("importing Airflow connections whose host is a URL", () => {
  it("splits the URL into scheme, host, port and path, and a second import finds nothing changed", async () => {
    const ws = await createWorkspace(owner.client);
    const first = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE })).importConnections;
    expect(first).toEqual({
      applied: true,
      lines: [
        { name: "partner_api", outcome: "CREATED", message: null },
        { name: "private_pypi", outcome: "CREATED", message: null },
      ],
    });

    expect(await byName(ws.slug, "partner_api")).toMatchObject({
      type: "http",
      description: "Partner API",
      schema: "https",
      host: "api.example.com",
      port: 8443,
      login: "svc-partner",
      extra: { auth_type: "basic", test_path: "/health", base_path: "/v1" },
      secretFields: ["password"],
    });
    expect(await byName(ws.slug, "private_pypi")).toMatchObject({
      type: "package_index",
      schema: "https",
      host: "pypi.example.com",
      port: null,
      login: "ci",
      extra: { path: "/repository/pypi/simple/" },
      secretFields: ["password"],
    });

    const again = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE, o: "OVERWRITE" })).importConnections;
    expect(again.lines.map((line: any) => line.outcome)).toEqual(["UNCHANGED", "UNCHANGED"]);
  });

  it("refuses a URL carrying a password, naming host and the Login and Password fields, and writes nothing", async () => {
    const ws = await createWorkspace(owner.client);
    const file = JSON.stringify({
      leaky_api: { conn_type: "http", host: `https://svc:${URL_PASSWORD}@api.example.com/v1`, login: null, password: null, port: null, schema: null, extra: null },
    });
    const report = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: file })).importConnections;
    expect(report).toEqual({
      applied: false,
      lines: [{ name: "leaky_api", outcome: "ERROR", message: expect.stringMatching(/^host: .*user name or password.*login and password/) }],
    });
    expect(await byName(ws.slug, "leaky_api")).toBeNull();
  });
});

describe("creating and updating an http connection with a URL as host", () => {
  let ws: { id: string; slug: string };

  beforeAll(async () => {
    ws = await createWorkspace(owner.client);
  });

  it("stores the URL's parts in their fields", async () => {
    const created = await createConnection(owner.client, ws.id, {
      name: "billing_api",
      type: "http",
      host: "https://api.example.com:8443/v1",
      port: null,
      schema: null,
      login: null,
      password: null,
      extra: { test_path: "/health" },
    });
    expect(created).toMatchObject({
      type: "http",
      schema: "https",
      host: "api.example.com",
      port: 8443,
      login: null,
      extra: { test_path: "/health", base_path: "/v1" },
      secretFields: [],
    });
  });

  it("stores an IPv6 base URL with its brackets", async () => {
    const created = await createConnection(owner.client, ws.id, {
      type: "http",
      host: "http://[2001:db8::7]:8080/api/",
      port: null,
      schema: null,
      login: null,
      password: null,
    });
    expect(created).toMatchObject({ schema: "http", host: "[2001:db8::7]", port: 8080, extra: { base_path: "/api/" } });
  });

  it("refuses a URL with credentials, a non-http scheme or a port that contradicts Port, with BAD_USER_INPUT on the field", async () => {
    const input = (overrides: Record<string, unknown>) => ({
      w: ws.id,
      input: { name: "refused_api", type: "http", port: null, schema: null, login: null, ...overrides },
    });
    const leaky = await owner.client.fails(CREATE, input({ host: `https://svc:${URL_PASSWORD}@api.example.com` }));
    expect(leaky).toMatchObject({ code: "BAD_USER_INPUT", field: "host", message: expect.stringMatching(/user name or password.*login and password/) });

    expect(await owner.client.fails(CREATE, input({ host: "ftp://files.example.com/pub" }))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "schema",
      message: "Scheme must be one of: https, http.",
    });
    expect(await owner.client.fails(CREATE, input({ host: "https://api.example.com:8443/v1", port: 9443 }))).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "host",
    });
    expect(await byName(ws.slug, "refused_api")).toBeNull();
  });

  it("splits a URL given in an update too", async () => {
    const created = await createConnection(owner.client, ws.id, { type: "http", host: "api.example.com", port: null, schema: null, login: null, password: null });
    const { updateConnection } = await owner.client.ok(UPDATE, { id: created.id, patch: { host: "http://internal.example.com:8080/v2" } });
    expect(updateConnection).toMatchObject({ schema: "http", host: "internal.example.com", port: 8080, extra: { base_path: "/v2" } });
  });

  it("creates a package_index connection from a pasted index URL", async () => {
    const { createConnection: created } = await owner.client.ok(CREATE, {
      w: ws.id,
      input: { name: "mirror", type: "package_index", host: "http://10.0.0.5:3141/root/pypi/+simple/" },
    });
    expect(created).toMatchObject({ schema: "http", host: "10.0.0.5", port: 3141, extra: { path: "/root/pypi/+simple/" } });
  });
});

describe("testing an unsaved http connection given as a URL", () => {
  it("requests the test path below the URL's base path", async () => {
    const ws = await createWorkspace(owner.client);
    const result = (
      await owner.client.ok(TEST_INPUT, {
        w: ws.id,
        i: { name: "draft", type: "http", host: `http://127.0.0.1:${apiPort}/v1`, extra: { test_path: "/health" } },
      })
    ).testConnectionInput;
    expect(result).toMatchObject({ status: "SUCCESS", errorCode: null, message: `GET http://127.0.0.1:${apiPort}/v1/health answered 200 OK.` });
    expect(apiRequests.at(-1)?.url).toBe("/v1/health");
  });

  it("reports a URL with credentials as INVALID_CONFIG without sending anything", async () => {
    const ws = await createWorkspace(owner.client);
    const before = apiRequests.length;
    const result = (
      await owner.client.ok(TEST_INPUT, { w: ws.id, i: { name: "draft", type: "http", host: `http://svc:${URL_PASSWORD}@127.0.0.1:${apiPort}/v1` } })
    ).testConnectionInput;
    expect(result).toMatchObject({ status: "FAILURE", errorCode: "INVALID_CONFIG", message: expect.stringMatching(/login and password/) });
    expect(apiRequests.length).toBe(before);
  });
});

describe("handing an http or package_index connection to Airflow", () => {
  let ws: { id: string; slug: string };
  /** What Airflow's get_uri() writes for conn_type http and host https://api.example.com:8443/v1. */
  const HTTP_URI = "http://https://api.example.com%3A8443%2Fv1/?test_path=%2Fhealth";
  const PYPI_URI = "package-index://https://pypi.example.com%2Frepository%2Fpypi%2Fsimple%2F";

  beforeAll(async () => {
    ws = await createWorkspace(owner.client);
    await createConnection(owner.client, ws.id, {
      name: "base_path_api",
      type: "http",
      host: "api.example.com",
      port: 8443,
      schema: "https",
      login: null,
      password: null,
      extra: { base_path: "/v1", test_path: "/health" },
    });
    await createConnection(owner.client, ws.id, {
      name: "pypi_mirror",
      type: "package_index",
      host: "pypi.example.com",
      port: null,
      schema: "https",
      login: null,
      password: null,
      extra: { path: "/repository/pypi/simple/" },
    });
  });

  it("resolves to Airflow forms whose host is the whole base URL, keeping Patchbay's fields split", async () => {
    const c = (await owner.client.ok(RESOLVE, { n: "base_path_api", w: ws.slug })).resolveConnection;
    expect(c).toMatchObject({ host: "api.example.com", port: 8443, schema: "https", extra: { base_path: "/v1", test_path: "/health" } });
    expect(c.airflowJson).toMatchObject({ conn_type: "http", host: "https://api.example.com:8443/v1", schema: null, port: null });
    expect(c.airflowJson.extra).toEqual({ test_path: "/health" });
    expect(c.airflowUri).toBe(HTTP_URI);

    const pypi = (await owner.client.ok(RESOLVE, { n: "pypi_mirror", w: ws.slug })).resolveConnection;
    expect(pypi.airflowJson).toMatchObject({ conn_type: "package_index", host: "https://pypi.example.com/repository/pypi/simple/", schema: null, port: null });
    expect(pypi.airflowUri).toBe(PYPI_URI);
  });

  it("answers the same over GET /api/v1/connections/{name}", async () => {
    const { token } = await createApiToken(owner.client, ws.id, ["RESOLVE"], "airflow-view");
    const get = (query: string) => fetch(`${app.url}/api/v1/connections/base_path_api${query}`, { headers: { authorization: `Bearer ${token}` } });
    const json = await (await get("")).json();
    expect(json).toMatchObject({ conn_type: "http", host: "https://api.example.com:8443/v1", schema: null, port: null });
    expect(await (await get("?format=uri")).text()).toBe(HTTP_URI);
  });

  it("exports the base URL in host, and importing the export gives the same connections", async () => {
    const exported = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_JSON", s: true })).exportConnections;
    const file = JSON.parse(exported);
    expect(file.base_path_api).toMatchObject({ host: "https://api.example.com:8443/v1", schema: null, port: null });
    expect(file.pypi_mirror).toMatchObject({ host: "https://pypi.example.com/repository/pypi/simple/", schema: null, port: null });
    const env = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_ENV", s: true })).exportConnections;
    expect(env).toContain(`base_path_api=${HTTP_URI}\n`);

    for (const [format, content] of [["AIRFLOW_JSON", exported], ["AIRFLOW_ENV", env]] as const) {
      const target = await createWorkspace(owner.client);
      const report = (await owner.client.ok(IMPORT, { w: target.id, f: format, c: content })).importConnections;
      expect(report.applied, JSON.stringify(report.lines)).toBe(true);
      for (const name of ["base_path_api", "pypi_mirror"]) {
        const before = (await owner.client.ok(RESOLVE, { n: name, w: ws.slug })).resolveConnection;
        const after = (await owner.client.ok(RESOLVE, { n: name, w: target.slug })).resolveConnection;
        expect(after, `${format} ${name}`).toEqual(before);
      }
    }
  });
});
