/**
 * What an Airflow user brings imports as Airflow reads it, and comes back out as they gave it:
 * every sslmode and ssl_mode, optional logins, `postgresql://`, `AIRFLOW_CONN_<ID>` lines, key
 * order of extra in every format, both URI dialects, nested secrets, stub exports imported
 * back without wiping secrets, and test results that say what they could not honour.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let target: PgTarget;

const IMPORT = `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict, $g: Boolean, $m: Boolean) {
  importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o, unknownTypesAsGeneric: $g, clearMissingSecrets: $m) {
    applied lines { name outcome message warnings }
  }
}`;
const EXPORT = `query($w: ID!, $f: ExportFormat!, $s: Boolean, $d: AirflowUriDialect) {
  exportConnections(workspaceId: $w, format: $f, includeSecrets: $s, dialect: $d)
}`;
const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) {
  name type host port schema login password extra airflowJson
  extraJson: airflowUri queryParams: airflowUri(dialect: QUERY_PARAMS)
  psycopg2: sqlalchemyUrl psycopg: sqlalchemyUrl(postgresDriver: PSYCOPG)
} }`;
const READ = `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { id type host login extra secretFields } } }`;
const TEST = `mutation($id: ID!) { testConnection(id: $id) { status errorCode message } }`;

async function importInto(w: { id: string }, format: string, content: string, extra: Record<string, unknown> = {}) {
  return (await owner.client.ok(IMPORT, { w: w.id, f: format, c: content, ...extra })).importConnections;
}

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  target = await createPgTarget("fidelity-pw");
});

afterAll(async () => {
  await app.stop();
});

describe("importing what Airflow accepts", () => {
  it("imports the issue's four lines, AIRFLOW_CONN_ lines and every sslmode and ssl_mode", async () => {
    const ws = await createWorkspace(owner.client);
    const sslmodes = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full"];
    const sslModes = ["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"];
    const env = [
      "a=postgres://u:p@h:5432/d?sslmode=prefer",
      "b=postgres://u:p@h:5432/d?sslmode=verify-ca",
      "c=postgresql://h:5432/d",
      "d=mysql://u:p@h/d?ssl_mode=PREFERRED",
      "AIRFLOW_CONN_MY_DB=postgresql://u:p@h/d",
      ...sslmodes.map((m) => `pg_${m.replace("-", "_")}=postgres://u:p@h/d?sslmode=${m}`),
      ...sslModes.map((m) => `my_${m.toLowerCase()}=mysql://u:p@h/d?ssl_mode=${m}`),
    ].join("\n");
    const report = await importInto(ws, "AIRFLOW_ENV", env);
    expect(report.lines.filter((l: any) => l.outcome !== "CREATED")).toEqual([]);
    expect(report.applied).toBe(true);
    expect(report.lines.map((l: any) => l.name)).toContain("my_db");
    const c = (await owner.client.ok(READ, { s: ws.slug, n: "c" })).workspace.connection;
    expect(c).toMatchObject({ type: "postgres", host: "h", login: null });
  });

  it("offers every value in the New Connection form", async () => {
    const { connectionTypes } = await owner.client.ok(`{ connectionTypes { id fields { name required options } } }`);
    const field = (type: string, name: string) => connectionTypes.find((t: any) => t.id === type).fields.find((f: any) => f.name === name);
    expect(field("postgres", "extra.sslmode").options).toEqual(["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]);
    expect(field("mysql", "extra.ssl_mode").options).toEqual(["DISABLED", "PREFERRED", "REQUIRED", "VERIFY_CA", "VERIFY_IDENTITY"]);
    expect(field("postgres", "login").required).toBe(false);
    expect(field("mysql", "login").required).toBe(false);
  });

  it("tests sslmode prefer without TLS and says so, instead of refusing the connection", async () => {
    const ws = await createWorkspace(owner.client);
    const env = `pref=postgres://${target.login}:fidelity-pw@${target.host}:${target.port}/${target.schema}?sslmode=prefer\n`;
    await importInto(ws, "AIRFLOW_ENV", env);
    const { id } = (await owner.client.ok(READ, { s: ws.slug, n: "pref" })).workspace.connection;
    const result = (await owner.client.ok(TEST, { id })).testConnection;
    expect(result.status).toBe("SUCCESS");
    expect(result.message).toContain("sslmode prefer was tested without TLS");
  });

  it("warns about extra keys the type does not know, and keeps them", async () => {
    const ws = await createWorkspace(owner.client);
    const report = await importInto(ws, "AIRFLOW_ENV", "w=postgres://u:p@h/d?sslmode=require&connect_timeout=5&frobnicate=1\n");
    expect(report.lines[0].outcome).toBe("CREATED");
    expect(report.lines[0].warnings).toEqual(['extra key(s) "frobnicate" are not known for postgres; kept as given.']);
    const c = (await owner.client.ok(READ, { s: ws.slug, n: "w" })).workspace.connection;
    expect(c.extra).toEqual({ sslmode: "require", connect_timeout: "5", frobnicate: "1" });
  });
});

describe("extra keeps its order", () => {
  // Deliberately not alphabetical, with a secret in the middle and one nested.
  const EXTRA = { zzzzzz: "last-first", api_token: "tok-secret", a: true, mm: { z: 1, nested_secret: "deep", b: [2, 1] } };
  const PUBLIC = { zzzzzz: "last-first", a: true, mm: { z: 1, b: [2, 1] } };
  let ws: { id: string; slug: string };

  beforeAll(async () => {
    ws = await createWorkspace(owner.client);
    await owner.client.ok(`mutation($w: ID!, $i: ConnectionInput!) { createConnection(workspaceId: $w, input: $i) { id } }`, {
      w: ws.id,
      i: { name: "ordered", type: "generic", host: "h.example", login: "u", password: "pw", extra: EXTRA },
    });
  });

  it("in the API, the resolved connection and both URI dialects", async () => {
    const c = (await owner.client.ok(READ, { s: ws.slug, n: "ordered" })).workspace.connection;
    expect(JSON.stringify(c.extra)).toBe(JSON.stringify(PUBLIC));
    expect(c.secretFields).toEqual(["extra.api_token", "extra.mm.nested_secret", "password"]);
    const r = (await owner.client.ok(RESOLVE, { n: "ordered", w: ws.slug })).resolveConnection;
    expect(JSON.stringify(r.extra)).toBe(JSON.stringify(EXTRA));
    expect(JSON.stringify(r.airflowJson.extra)).toBe(JSON.stringify(EXTRA));
    expect(r.extraJson).toBe(
      "generic://u:pw@h.example/?__extra__=" +
        encodeURIComponent(JSON.stringify(EXTRA).replaceAll(":", ": ").replaceAll(",", ", ")).replaceAll("%20", "+"),
    );
    expect(r.queryParams).toBe(
      "generic://u:pw@h.example/?zzzzzz=last-first&api_token=tok-secret&a=true&mm=%7B%22z%22%3A+1%2C+%22nested_secret%22%3A+%22deep%22%2C+%22b%22%3A+%5B2%2C+1%5D%7D",
    );
  });

  it.each(["AIRFLOW_JSON", "AIRFLOW_YAML", "AIRFLOW_ENV", "AIRFLOW_ENV_VARS"])("through an %s export and import", async (format) => {
    const exported = (await owner.client.ok(EXPORT, { w: ws.id, f: format, s: true })).exportConnections;
    const other = await createWorkspace(owner.client);
    const importFormat = format === "AIRFLOW_ENV_VARS" ? "AIRFLOW_ENV" : format;
    const report = await importInto(other, importFormat, exported);
    expect(report.lines).toMatchObject([{ name: "ordered", outcome: "CREATED" }]);
    const r = (await owner.client.ok(RESOLVE, { n: "ordered", w: other.slug })).resolveConnection;
    expect(JSON.stringify(r.extra)).toBe(JSON.stringify(EXTRA));
  });

  it("through a rollback to an earlier version", async () => {
    const c = (await owner.client.ok(READ, { s: ws.slug, n: "ordered" })).workspace.connection;
    const edited = await owner.client.ok(
      `mutation($id: ID!) { updateConnection(id: $id, patch: { description: "edited" }) { version } }`,
      { id: c.id },
    );
    await owner.client.ok(`mutation($id: ID!, $v: Int!) { rollbackConnection(id: $id, version: $v) { version } }`, {
      id: c.id,
      v: edited.updateConnection.version - 1,
    });
    const r = (await owner.client.ok(RESOLVE, { n: "ordered", w: ws.slug })).resolveConnection;
    expect(JSON.stringify(r.extra)).toBe(JSON.stringify(EXTRA));
  });

  it("through a query-params URI, which carries every value as text", async () => {
    const exported = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_ENV", s: true, d: "QUERY_PARAMS" })).exportConnections;
    expect(exported).toContain("?zzzzzz=last-first&api_token=tok-secret&a=true&mm=");
    const other = await createWorkspace(owner.client);
    await importInto(other, "AIRFLOW_ENV", exported);
    const r = (await owner.client.ok(RESOLVE, { n: "ordered", w: other.slug })).resolveConnection;
    expect(Object.keys(r.extra)).toEqual(["zzzzzz", "api_token", "a", "mm"]);
    expect(r.extra.a).toBe("true");
  });
});

describe("a stub export imported back", () => {
  it("keeps the stored secrets, in place, unless clearMissingSecrets", async () => {
    const ws = await createWorkspace(owner.client);
    const full = "svc=postgres://u:secret-pw@h:5432/d?sslmode=require\napi=generic://h.example/?zz=1&api_key=k-secret&aa=2\n";
    await importInto(ws, "AIRFLOW_ENV", full);
    const stub = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_JSON", s: false })).exportConnections;
    expect(stub).not.toContain("secret-pw");
    expect(stub).not.toContain("k-secret");

    const again = await importInto(ws, "AIRFLOW_JSON", stub, { o: "OVERWRITE" });
    expect(again.applied).toBe(true);
    expect(again.lines.map((l: any) => l.outcome)).toEqual(["UNCHANGED", "UNCHANGED"]);
    const svc = (await owner.client.ok(RESOLVE, { n: "svc", w: ws.slug })).resolveConnection;
    expect(svc.password).toBe("secret-pw");
    const api = (await owner.client.ok(RESOLVE, { n: "api", w: ws.slug })).resolveConnection;
    expect(Object.keys(api.extra)).toEqual(["zz", "api_key", "aa"]);

    // A changed stub: updated, the secrets kept and said so.
    const changed = stub.replace('"host": "h"', '"host": "h"').replace('"schema": "d"', '"schema": "d2"');
    const updated = await importInto(ws, "AIRFLOW_JSON", changed, { o: "OVERWRITE" });
    expect(updated.lines.find((l: any) => l.name === "svc")).toMatchObject({ outcome: "UPDATED" });
    expect(updated.lines.find((l: any) => l.name === "svc").warnings[0]).toContain("Kept the stored password");
    expect((await owner.client.ok(RESOLVE, { n: "svc", w: ws.slug })).resolveConnection.password).toBe("secret-pw");

    const cleared = await importInto(ws, "AIRFLOW_JSON", stub, { o: "OVERWRITE", m: true });
    expect(cleared.applied).toBe(true);
    expect((await owner.client.ok(RESOLVE, { n: "svc", w: ws.slug })).resolveConnection.password).toBeNull();
  });

  it("does not let a WRITE-only token repoint a connection while keeping its secrets", async () => {
    const ws = await createWorkspace(owner.client);
    await importInto(ws, "AIRFLOW_ENV", "svc=postgres://u:secret-pw@h:5432/d\n");
    const writer = (await createApiToken(owner.client, ws.id, ["WRITE"], "writer")).token;
    const report = (
      await anonymous.as(writer).ok(IMPORT, {
        w: ws.id,
        f: "AIRFLOW_ENV",
        c: "svc=postgres://u@attacker.example:5432/d\n",
        o: "OVERWRITE",
      })
    ).importConnections;
    expect(report.applied).toBe(false);
    expect(report.lines[0]).toMatchObject({ outcome: "ERROR" });
    expect(report.lines[0].message).toContain("password");
  });
});

describe("GET /api/v1/connections/{name}", () => {
  it("answers ?format=env with one AIRFLOW_CONN_ line and honours ?dialect=", async () => {
    const ws = await createWorkspace(owner.client);
    await importInto(ws, "AIRFLOW_ENV", 'my_db=postgres://u:p@h:5432/d?__extra__=%7B%22zz%22%3A+1%2C+%22aa%22%3A+true%7D\n');
    const token = (await createApiToken(owner.client, ws.id, ["RESOLVE"], "r")).token;
    const get = async (query: string) => {
      const res = await fetch(`${app.url}/api/v1/connections/my_db${query}`, { headers: { authorization: `Bearer ${token}` } });
      return { status: res.status, text: await res.text() };
    };
    expect(await get("?format=env")).toEqual({
      status: 200,
      text: "AIRFLOW_CONN_MY_DB=postgres://u:p@h:5432/d?__extra__=%7B%22zz%22%3A+1%2C+%22aa%22%3A+true%7D\n",
    });
    expect(await get("?format=uri&dialect=query-params")).toEqual({ status: 200, text: "postgres://u:p@h:5432/d?zz=1&aa=true" });
    expect(await get("?format=uri&dialect=EXTRA_JSON")).toEqual({
      status: 200,
      text: "postgres://u:p@h:5432/d?__extra__=%7B%22zz%22%3A+1%2C+%22aa%22%3A+true%7D",
    });
    const bad = await get("?format=uri&dialect=nope");
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error).toMatchObject({ code: "BAD_USER_INPUT", field: "dialect" });
  });
});
