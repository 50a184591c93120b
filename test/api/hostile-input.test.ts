/**
 * Input an attacker sends, class by class, with the exact inputs of the break-ins found on
 * main (issue 7): prototype keys that repointed a connection while keeping its secrets,
 * documents nested deep enough to kill the process, unstorable text, names REST cannot
 * reach, dates that are not on the calendar. Every refusal is BAD_USER_INPUT with its field,
 * writes nothing, and the server keeps answering.
 */
import { createServer, type Server } from "node:net";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let writeOnly: string;
/** A port that counts every TCP connection it receives: where an attacker would repoint to. */
let trap: { server: Server; port: number; connections: number };

const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!) { updateConnection(id: $id, patch: $patch) { version extra } }`;
const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`;
const UPSERT = `mutation($w: ID!, $inputs: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $inputs) { created } }`;
const IMPORT = `mutation($w: ID!, $f: ImportFormat!, $c: String!, $d: Boolean) {
  importConnections(workspaceId: $w, format: $f, content: $c, dryRun: $d) { applied lines { name outcome message } } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { status errorCode } }`;
const STORED = `query($slug: String!) { workspace(slug: $slug) { connections(first: 200) { totalCount nodes { name version extra host } } } }`;

/** Posts a GraphQL request whose variables are raw JSON text, as an attacker would send them. */
async function rawRequest(token: string, query: string, variablesJson: string): Promise<{ status: number; body: any }> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: `{"query": ${JSON.stringify(query)}, "variables": ${variablesJson}}`,
  });
  return { status: response.status, body: JSON.parse(await response.text()) };
}

function firstError(body: any): { code: string; field?: string; message: string } {
  const error = body.errors?.[0];
  expect(error, JSON.stringify(body)).toBeDefined();
  return { code: error.extensions?.code, field: error.extensions?.field, message: error.message };
}

async function stillServing(): Promise<void> {
  const { viewer } = await owner.client.ok(`{ viewer { user { id } } }`);
  expect(viewer.user.id).toBe(owner.userId);
}

async function storedConnections(): Promise<any[]> {
  return (await owner.client.ok(STORED, { slug: workspace.slug })).workspace.connections.nodes;
}

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
  writeOnly = (await createApiToken(owner.client, workspace.id, ["WRITE"], "write-only")).token;
  const server = createServer((socket) => {
    trap.connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  trap = { server, port: (server.address() as AddressInfo).port, connections: 0 };
});

afterAll(async () => {
  await new Promise<void>((resolve) => trap.server.close(() => resolve()));
  await app.stop();
});

describe("prototype keys in JSON input", () => {
  // The exact break-in: a WRITE-only token moves an s3 connection's endpoint through the
  // prototype of `extra`, so the repointing rule sees no change and the next test sends the
  // stored session token to the attacker's port.
  it("refuses __proto__ in an s3 update, keeps the connection, and the next test never reaches the new endpoint", async () => {
    const s3 = await createConnection(owner.client, workspace.id, {
      type: "s3",
      host: null,
      port: null,
      schema: null,
      login: "AKIAIOSFODNN7EXAMPLE",
      password: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
      extra: { region_name: "us-east-1", endpoint_url: "http://127.0.0.1:9", bucket: "bkt-one", aws_session_token: "FQoGZXIvYXdzEXAMPLETOKEN" },
    });
    const patch = `{"extra": {"__proto__": {"endpoint_url": "http://127.0.0.1:${trap.port}", "verify": false, "force_path_style": true}, "region_name": "eu-west-1", "bucket": "bkt-two"}}`;
    const { body } = await rawRequest(writeOnly, UPDATE, `{"id": ${JSON.stringify(s3.id)}, "patch": ${patch}}`);
    expect(firstError(body)).toMatchObject({ code: "BAD_USER_INPUT", field: "extra" });

    const stored = (await storedConnections()).find((c) => c.name === s3.name);
    expect(stored.version).toBe(s3.version);
    expect(stored.extra).toEqual({ region_name: "us-east-1", endpoint_url: "http://127.0.0.1:9", bucket: "bkt-one" });

    const before = trap.connections;
    const test = await owner.client.ok(TEST, { id: s3.id });
    expect(test.testConnection.status).toBe("FAILURE");
    expect(trap.connections).toBe(before);
  });

  // The same trick stored a TLS downgrade on other types, skipping their validation.
  const downgrades = [
    { type: "smtp", key: "tls_mode", value: '"none"', base: { host: "mail.example.com", port: 587, login: "u", extra: {} } },
    { type: "mysql", key: "ssl_mode", value: '"disabled"', base: { host: "db.example.com", port: 3306, login: "u", schema: "app", extra: {} } },
    { type: "redis", key: "tls", value: "false", base: { host: "cache.example.com", port: 6379, extra: { tls: true } } },
  ];

  for (const { type, key, value, base } of downgrades) {
    it(`refuses extra.__proto__.${key} on ${type} through update, create, upsert and import`, async () => {
      const conn = await createConnection(owner.client, workspace.id, { type, password: "hunter2-secret", ...base });
      const hostile = `{"__proto__": {"${key}": ${value}}}`;
      const countBefore = (await storedConnections()).length;

      const update = await rawRequest(writeOnly, UPDATE, `{"id": ${JSON.stringify(conn.id)}, "patch": {"extra": ${hostile}}}`);
      expect(firstError(update.body)).toMatchObject({ code: "BAD_USER_INPUT", field: "extra" });

      const input = (name: string) =>
        `{"name": "${name}", "type": "${type}", "host": "127.0.0.1", "port": ${trap.port}, "login": "u", "password": "p", "extra": ${hostile}}`;
      const create = await rawRequest(writeOnly, CREATE, `{"w": ${JSON.stringify(workspace.id)}, "input": ${input(`${type}_created`)}}`);
      expect(firstError(create.body)).toMatchObject({ code: "BAD_USER_INPUT", field: "extra" });

      const upsert = await rawRequest(writeOnly, UPSERT, `{"w": ${JSON.stringify(workspace.id)}, "inputs": [${input(`${type}_upserted`)}]}`);
      expect(firstError(upsert.body)).toMatchObject({ code: "BAD_USER_INPUT", field: "inputs.0.extra" });

      const file = `{"${type}_imported": {"conn_type": "${type}", "host": "127.0.0.1", "port": ${trap.port}, "login": "u", "password": "p", "extra": ${hostile}}}`;
      const imported = await anonymous.as(writeOnly).request(IMPORT, { w: workspace.id, f: "AIRFLOW_JSON", c: file, d: false });
      expect(firstError(imported)).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
      expect(firstError(imported).message).toContain("__proto__");

      // extra as a string inside the file (Airflow's usual form) reaches the same check.
      const stringExtra = `{"${type}_imported": {"conn_type": "${type}", "host": "127.0.0.1", "login": "u", "extra": ${JSON.stringify(hostile)}}}`;
      const importedString = (await anonymous.as(writeOnly).ok(IMPORT, { w: workspace.id, f: "AIRFLOW_JSON", c: stringExtra, d: false })).importConnections;
      expect(importedString.applied).toBe(false);
      expect(importedString.lines[0]).toMatchObject({ outcome: "ERROR" });
      expect(importedString.lines[0].message).toContain("__proto__");

      const after = await storedConnections();
      expect(after.length).toBe(countBefore);
      expect(after.find((c) => c.name === conn.name).version).toBe(conn.version);
    });
  }

  it("refuses constructor and prototype keys at any depth of extra", async () => {
    const conn = await createConnection(owner.client, workspace.id, { type: "generic" });
    for (const extra of [{ a: { b: { constructor: { x: 1 } } } }, { list: [{ prototype: 1 }] }, { constructor: "x" }]) {
      const error = await owner.client.fails(UPDATE, { id: conn.id, patch: { extra } });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "extra" });
    }
    const yaml = `imported:\n  conn_type: generic\n  extra:\n    nested:\n      __proto__:\n        x: 1\n`;
    const error = await owner.client.fails(IMPORT, { w: workspace.id, f: "AIRFLOW_YAML", c: yaml, d: true });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
  });

  it("refuses the prototype keys as connection names and conn_ids", async () => {
    for (const name of ["__proto__", "constructor", "prototype"]) {
      const error = await owner.client.fails(CREATE, { w: workspace.id, input: { name, type: "generic" } });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    }
    const report = (await owner.client.ok(IMPORT, { w: workspace.id, f: "AIRFLOW_ENV", c: "constructor=generic://h\n", d: true })).importConnections;
    expect(report.lines).toEqual([{ name: "constructor", outcome: "ERROR", message: expect.stringContaining("cannot be a conn_id") }]);
  });
});

describe("nesting depth", () => {
  it("survives the JSON import that ran the process out of memory", async () => {
    const content = '{"a": ' + "[".repeat(100000) + "]".repeat(100000) + "}";
    const error = await owner.client.fails(IMPORT, { w: workspace.id, f: "AIRFLOW_JSON", c: content, d: true });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
    await stillServing();
  });

  it("survives the YAML form of it", async () => {
    const content = "a: " + "[".repeat(5000) + "]".repeat(5000);
    const error = await owner.client.fails(IMPORT, { w: workspace.id, f: "AIRFLOW_YAML", c: content, d: true });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "content" });
    await stillServing();
  });

  it("bounds nesting in .env values and URI extras too", async () => {
    const deep = "[".repeat(40) + "]".repeat(40);
    const env = `a={"conn_type": "generic", "extra": {"x": ${deep}}}\nb=generic://h/?__extra__=${encodeURIComponent(`{"x": ${deep}}`)}\n`;
    const report = (await owner.client.ok(IMPORT, { w: workspace.id, f: "AIRFLOW_ENV", c: env, d: true })).importConnections;
    expect(report.lines.map((l: any) => l.outcome)).toEqual(["ERROR", "ERROR"]);
    for (const line of report.lines) expect(line.message).toMatch(/at most 32 levels/);
    await stillServing();
  });

  it("answers extra nested 5,000 deep with BAD_USER_INPUT on extra", async () => {
    const extra = '{"a": '.repeat(5000) + "1" + "}".repeat(5000);
    const { status, body } = await rawRequest(owner.token, CREATE, `{"w": ${JSON.stringify(workspace.id)}, "input": {"name": "deep", "type": "generic", "extra": ${extra}}}`);
    expect(status).toBe(200);
    expect(firstError(body)).toMatchObject({ code: "BAD_USER_INPUT", field: "extra" });
    await stillServing();
  });

  it("accepts extra nested exactly 32 deep", async () => {
    let extra: any = 1;
    for (let i = 0; i < 32; i++) extra = { k: extra };
    const conn = await createConnection(owner.client, workspace.id, { type: "generic", name: "deep_ok", extra });
    expect(conn.extra).toEqual(extra);
  });
});

describe("text that cannot be stored", () => {
  const NUL = "a\u0000b";
  const LONE = "a\ud800b";

  it("refuses NUL and lone surrogates in every kind of argument with the argument's field", async () => {
    const conn = await createConnection(owner.client, workspace.id, { type: "generic" });
    const cases: Array<[string, string, Record<string, unknown>, string]> = [
      ["signUp email", `mutation($e: String!) { signUp(email: $e, password: "correct horse battery") { token } }`, { e: `x${NUL}@example.com` }, "e"],
      ["workspace slug", `mutation($s: String!) { createWorkspace(slug: $s, name: "n") { id } }`, { s: `ws${LONE}` }, "s"],
      ["connection name", CREATE, { w: workspace.id, input: { name: `n${NUL}`, type: "generic" } }, "name"],
      ["connection id", UPDATE, { id: `${conn.id}${NUL}`, patch: {} }, "id"],
      ["cursor", `query($s: String!, $a: String) { workspace(slug: $s) { connections(after: $a) { totalCount } } }`, { s: workspace.slug, a: `abc${LONE}` }, "a"],
      ["extra value", UPDATE, { id: conn.id, patch: { extra: { key: NUL } } }, "extra.key"],
      ["extra key", UPDATE, { id: conn.id, patch: { extra: { [`k${LONE}`]: 1 } } }, "extra"],
      ["workspace lookup", `query($s: String!) { workspace(slug: $s) { id } }`, { s: LONE }, "s"],
    ];
    for (const [what, query, variables, field] of cases) {
      const response = await owner.client.request(query, variables);
      expect(response.status, what).toBe(400);
      expect(response.errors?.[0]?.extensions, what).toMatchObject({ code: "BAD_USER_INPUT", field });
    }
    await stillServing();
  });

  it("refuses them as string literals in the document too", async () => {
    const response = await owner.client.request(`{ workspace(slug: "a\\u0000b") { id } }`);
    expect(response.status).toBe(400);
    expect(response.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "slug" });
  });
});

describe("names and dates", () => {
  it("refuses . and .. as connection names", async () => {
    for (const name of [".", ".."]) {
      const error = await owner.client.fails(CREATE, { w: workspace.id, input: { name, type: "generic" } });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    }
  });

  it("answers a malformed percent-escape in the REST path with 400", async () => {
    const resolver = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "resolver")).token;
    for (const path of ["%E0%A4%A", "%ZZ", "a%00b"]) {
      const response = await fetch(`${app.url}/api/v1/connections/${path}`, { headers: { authorization: `Bearer ${resolver}` } });
      expect(response.status, path).toBe(400);
      expect(((await response.json()) as any).error).toMatchObject({ code: "BAD_USER_INPUT", field: "name" });
    }
  });

  it("refuses an expiry that is not on the calendar instead of rolling it over", async () => {
    const CREATE_TOKEN = `mutation($w: ID!, $e: DateTime) { createApiToken(workspaceId: $w, name: "t", scopes: [READ], expiresAt: $e) { apiToken { expiresAt } } }`;
    for (const expiresAt of ["2027-02-30T00:00:00Z", "2027-04-31T12:00:00Z", "2027-13-01T00:00:00Z", "2027-01-01T24:00:00Z"]) {
      const response = await owner.client.request(CREATE_TOKEN, { w: workspace.id, e: expiresAt });
      expect(response.errors?.[0]?.extensions?.code, expiresAt).toBe("BAD_USER_INPUT");
    }
    const ok = await owner.client.ok(CREATE_TOKEN, { w: workspace.id, e: "2028-02-29T10:00:00+02:00" });
    expect(ok.createApiToken.apiToken.expiresAt).toBe("2028-02-29T08:00:00.000Z");
  });
});
