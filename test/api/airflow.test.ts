/**
 * Airflow compatibility through the API: the resolved forms, the HTTP resolve endpoint,
 * importing real-looking `airflow connections export` files, exporting, and moving a
 * workspace's connections into another one with every secret intact.
 */
import { generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

const HOSTILE = "p@ss:w/rd %+?#&=ü";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let member: SignedUp;
let workspace: { id: string; slug: string };
let resolveToken: string;
let readToken: string;

const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) {
  name type host port schema login password extra airflowUri airflowJson sqlalchemyUrl
} }`;
const IMPORT = `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict, $d: Boolean, $g: Boolean) {
  importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o, dryRun: $d, unknownTypesAsGeneric: $g) {
    applied lines { name outcome message }
  }
}`;
const EXPORT = `query($w: ID!, $f: ExportFormat!, $s: Boolean) { exportConnections(workspaceId: $w, format: $f, includeSecrets: $s) }`;

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  member = await signUp(anonymous, "member");
  workspace = await createWorkspace(owner.client);
  await addMember(owner.client, workspace.id, member.email, "MEMBER");
  resolveToken = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "resolver")).token;
  readToken = (await createApiToken(owner.client, workspace.id, ["READ"], "reader")).token;
  await createConnection(owner.client, workspace.id, {
    name: "prod_db",
    host: "db.internal",
    port: 5432,
    schema: "analytics",
    login: "etl@corp",
    password: HOSTILE,
    extra: { sslmode: "require" },
  });
});

afterAll(async () => {
  await app.stop();
});

describe("resolved forms", () => {
  it("gives the Airflow URI, Airflow's JSON and a SQLAlchemy URL", async () => {
    const { resolveConnection: c } = await anonymous.as(resolveToken).ok(RESOLVE, { n: "prod_db" });
    expect(c.airflowUri).toBe("postgres://etl%40corp:p%40ss%3Aw%2Frd%20%25%2B%3F%23%26%3D%C3%BC@db.internal:5432/analytics?sslmode=require");
    expect(c.airflowJson).toEqual({
      conn_type: "postgres",
      description: null,
      host: "db.internal",
      login: "etl@corp",
      password: HOSTILE,
      schema: "analytics",
      port: 5432,
      extra: { sslmode: "require" },
    });
    expect(c.sqlalchemyUrl).toMatch(/^postgresql(\+\w+)?:\/\/etl%40corp:/);
    expect(decodeURIComponent(c.sqlalchemyUrl.split(":")[2].split("@")[0])).toBe(HOSTILE);
  });
});

describe("GET /api/v1/connections/{name}", () => {
  const get = (name: string, token: string | null, query = "") =>
    fetch(`${app.url}/api/v1/connections/${encodeURIComponent(name)}${query}`, {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  it("answers Airflow's JSON form, and the URI as text", async () => {
    const json = await get("prod_db", resolveToken);
    expect(json.status).toBe(200);
    expect(json.headers.get("cache-control")).toBe("no-store");
    expect(await json.json()).toMatchObject({ conn_type: "postgres", login: "etl@corp", password: HOSTILE, port: 5432, extra: { sslmode: "require" } });
    const uri = await get("prod_db", resolveToken, "?format=uri");
    expect(uri.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await uri.text()).toMatch(/^postgres:\/\/etl%40corp:p%40ss/);
  });

  it("lets a person resolve with ?workspace=", async () => {
    const response = await get("prod_db", member.token, `?workspace=${workspace.slug}`);
    expect(response.status).toBe(200);
  });

  it.each([
    ["no token", null, "prod_db", "", 401, "UNAUTHENTICATED"],
    ["a READ token", "read", "prod_db", "", 403, "FORBIDDEN"],
    ["a missing name", "resolve", "nope", "", 404, "NOT_FOUND"],
    ["a bad format", "resolve", "prod_db", "?format=xml", 400, "BAD_USER_INPUT"],
  ])("answers %s with the right status and code", async (_label, who, name, query, status, code) => {
    const token = who === "read" ? readToken : who === "resolve" ? resolveToken : null;
    const response = await get(name, token, query);
    expect(response.status).toBe(status);
    expect(((await response.json()) as any).error.code).toBe(code);
  });
});

const AIRFLOW_JSON_FILE = `{
  "analytics_pg": {
    "conn_type": "postgres",
    "description": "Analytics warehouse",
    "login": "airflow",
    "password": "${HOSTILE.replace(/"/g, '\\"')}",
    "host": "pg.internal",
    "port": 5432,
    "schema": "analytics",
    "extra": "{\\"sslmode\\": \\"require\\"}"
  },
  "orders_mysql": {
    "conn_type": "mysql",
    "description": null,
    "login": "reader",
    "password": "pw",
    "host": "mysql.internal",
    "port": "3306",
    "schema": "orders",
    "extra": null
  }
}`;

const AIRFLOW_YAML_FILE = `analytics_pg:
  conn_type: postgres
  description: Analytics warehouse
  extra: '{"sslmode": "require"}'
  host: pg.internal
  login: airflow
  password: changed-in-yaml
  port: 5432
  schema: analytics
`;

const AIRFLOW_ENV_FILE = `# exported by airflow connections export --file-format env
analytics_pg=postgres://airflow:p%40ss@pg.internal:5432/analytics?sslmode=require
legacy_oracle=oracle://scott:tiger@ora.internal:1521/XE
`;

describe("importConnections", () => {
  it("creates from Airflow's JSON export, then reports everything UNCHANGED on a second run", async () => {
    const ws = await createWorkspace(owner.client);
    const first = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE })).importConnections;
    expect(first).toEqual({
      applied: true,
      lines: [
        { name: "analytics_pg", outcome: "CREATED", message: null },
        { name: "orders_mysql", outcome: "CREATED", message: null },
      ],
    });
    const resolved = await owner.client.ok(RESOLVE, { n: "analytics_pg", w: ws.slug });
    expect(resolved.resolveConnection).toMatchObject({ password: HOSTILE, extra: { sslmode: "require" }, port: 5432 });
    const mysql = await owner.client.ok(RESOLVE, { n: "orders_mysql", w: ws.slug });
    expect(mysql.resolveConnection).toMatchObject({ type: "mysql", port: 3306 });

    const again = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE, o: "OVERWRITE" })).importConnections;
    expect(again.lines.map((l: any) => l.outcome)).toEqual(["UNCHANGED", "UNCHANGED"]);
  });

  it("handles an existing name by FAIL (nothing written), SKIP and OVERWRITE", async () => {
    const ws = await createWorkspace(owner.client);
    await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE });

    const failed = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_YAML", c: AIRFLOW_YAML_FILE })).importConnections;
    expect(failed.applied).toBe(false);
    expect(failed.lines).toEqual([{ name: "analytics_pg", outcome: "ERROR", message: expect.stringContaining("exists") }]);

    const skipped = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_YAML", c: AIRFLOW_YAML_FILE, o: "SKIP" })).importConnections;
    expect(skipped).toMatchObject({ applied: true, lines: [{ name: "analytics_pg", outcome: "SKIPPED" }] });
    expect((await owner.client.ok(RESOLVE, { n: "analytics_pg", w: ws.slug })).resolveConnection.password).toBe(HOSTILE);

    const dry = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_YAML", c: AIRFLOW_YAML_FILE, o: "OVERWRITE", d: true })).importConnections;
    expect(dry).toMatchObject({ applied: false, lines: [{ name: "analytics_pg", outcome: "UPDATED" }] });
    expect((await owner.client.ok(RESOLVE, { n: "analytics_pg", w: ws.slug })).resolveConnection.password).toBe(HOSTILE);

    const overwritten = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_YAML", c: AIRFLOW_YAML_FILE, o: "OVERWRITE" })).importConnections;
    expect(overwritten).toMatchObject({ applied: true, lines: [{ name: "analytics_pg", outcome: "UPDATED" }] });
    expect((await owner.client.ok(RESOLVE, { n: "analytics_pg", w: ws.slug })).resolveConnection.password).toBe("changed-in-yaml");
  });

  it("reports a conn_type Patchbay lacks and writes nothing, or imports it as generic when asked", async () => {
    const ws = await createWorkspace(owner.client);
    const refused = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_ENV", c: AIRFLOW_ENV_FILE })).importConnections;
    expect(refused.applied).toBe(false);
    expect(refused.lines).toEqual([
      { name: "analytics_pg", outcome: "CREATED", message: null },
      { name: "legacy_oracle", outcome: "ERROR", message: expect.stringContaining("oracle") },
    ]);
    const list = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connections { totalCount } } }`, { s: ws.slug });
    expect(list.workspace.connections.totalCount).toBe(0);

    const generic = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_ENV", c: AIRFLOW_ENV_FILE, g: true })).importConnections;
    expect(generic.applied).toBe(true);
    const oracle = await owner.client.ok(RESOLVE, { n: "legacy_oracle", w: ws.slug });
    expect(oracle.resolveConnection).toMatchObject({ type: "generic", host: "ora.internal", port: 1521, login: "scott", password: "tiger" });
  });

  it("refuses a file that does not parse with BAD_USER_INPUT on content, and needs WRITE", async () => {
    expect(await owner.client.fails(IMPORT, { w: workspace.id, f: "AIRFLOW_JSON", c: "{ not json" })).toMatchObject({
      code: "BAD_USER_INPUT",
      field: "content",
    });
    expect((await member.client.fails(IMPORT, { w: workspace.id, f: "AIRFLOW_JSON", c: AIRFLOW_JSON_FILE })).code).toBe("FORBIDDEN");
  });
});

describe("exportConnections", () => {
  it("writes stubs without secrets for readers, and full files only for admins", async () => {
    const stub = (await anonymous.as(readToken).ok(EXPORT, { w: workspace.id, f: "AIRFLOW_JSON" })).exportConnections;
    expect(JSON.parse(stub).prod_db).toMatchObject({ conn_type: "postgres", login: "etl@corp", password: null });
    expect(stub).not.toContain("p@ss");
    expect((await member.client.fails(EXPORT, { w: workspace.id, f: "AIRFLOW_JSON", s: true })).code).toBe("FORBIDDEN");
    expect((await anonymous.as(resolveToken).fails(EXPORT, { w: workspace.id, f: "AIRFLOW_JSON", s: true })).code).toBe("FORBIDDEN");
    const full = (await owner.client.ok(EXPORT, { w: workspace.id, f: "AIRFLOW_ENV", s: true })).exportConnections;
    expect(full).toContain("prod_db=postgres://etl%40corp:p%40ss%3Aw%2Frd");
  });

  it("writes a JupySQL connections.ini section per database connection", async () => {
    const ini = (await owner.client.ok(EXPORT, { w: workspace.id, f: "JUPYSQL_INI", s: true })).exportConnections;
    expect(ini).toContain("[prod_db]");
    expect(ini).toMatch(/drivername = postgresql/);
    expect(ini).toContain("host = db.internal");
  });
});

describe("moving a workspace", () => {
  it.each(["AIRFLOW_JSON", "AIRFLOW_YAML", "AIRFLOW_ENV"])("export then import in %s gives the same connections, secrets included, for every type", async (format) => {
    const source = await createWorkspace(owner.client);
    const { connectionTypes } = await owner.client.ok(`{ connectionTypes { id fields { name kind required secret options default } } }`);
    for (const type of connectionTypes) {
      await createConnection(owner.client, source.id, { name: `every_${type.id}`, ...sampleSettings(type) });
    }
    const exported = (await owner.client.ok(EXPORT, { w: source.id, f: format, s: true })).exportConnections;
    const target = await createWorkspace(owner.client);
    const report = (await owner.client.ok(IMPORT, { w: target.id, f: format, c: exported })).importConnections;
    expect(report.applied, JSON.stringify(report.lines)).toBe(true);
    // Compared as stored, secrets included (an export with secrets): resolving an oauth2
    // connection would ask its token URL for an access token instead.
    const stored = async (w: string) => JSON.parse((await owner.client.ok(EXPORT, { w, f: "AIRFLOW_JSON", s: true })).exportConnections);
    const [before, after] = [await stored(source.id), await stored(target.id)];
    expect(Object.keys(after).sort()).toEqual(connectionTypes.map((t: { id: string }) => `every_${t.id}`).sort());
    for (const type of connectionTypes) expect(after[`every_${type.id}`], type.id).toEqual(before[`every_${type.id}`]);
    for (const type of connectionTypes.filter((t: { id: string }) => t.id !== "oauth2")) {
      const resolvedBefore = (await owner.client.ok(RESOLVE, { n: `every_${type.id}`, w: source.slug })).resolveConnection;
      const resolvedAfter = (await owner.client.ok(RESOLVE, { n: `every_${type.id}`, w: target.slug })).resolveConnection;
      expect(resolvedAfter, type.id).toEqual(resolvedBefore);
    }
  });
});

/** Valid settings for a type from its field specs, with hostile secrets. */
/** Values the generic rules below cannot make for a type's own format (a key file, an account name). */
const TYPE_SPECIFIC: Record<string, Record<string, unknown>> = {
  azure_blob: {
    login: "reportsstore",
    "extra.sas_token": "sv=2021-12-02&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&sig=a%2Bb%3D",
    "extra.endpoint": "https://reportsstore.blob.core.windows.net",
    "extra.container": "reports",
  },
  gcs: {
    "extra.project": "reports-project",
    "extra.api_endpoint": "https://storage.googleapis.com",
    // A real key file: PEM line breaks escaped inside JSON, quoted in every export format.
    "extra.keyfile_dict": JSON.stringify({
      type: "service_account",
      client_email: "reader@example.iam.gserviceaccount.com",
      private_key: generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs8", format: "pem" }),
    }),
  },
};

function sampleSettings(type: { id: string; fields: Array<{ name: string; kind: string; secret: boolean; options?: string[]; default?: unknown }> }) {
  const settings: Record<string, any> = { type: type.id, host: null, port: null, schema: null, login: null, password: null, extra: {} };
  for (const field of type.fields) {
    // A named SQL Server instance excludes a port; the port is the common case.
    if (field.name === "extra.instance_name") continue;
    let value: unknown;
    const specific = TYPE_SPECIFIC[type.id]?.[field.name];
    if (specific !== undefined) value = specific;
    else if (field.secret) value = `${HOSTILE}-${field.name}`;
    else if (field.default !== undefined && field.default !== null) value = field.default;
    else if (field.name === "host") value = type.id === "sqlite" ? "data/app.db" : "svc.example.com";
    else if (field.name === "port") value = 4321;
    else if (field.kind === "INTEGER") value = 1;
    else if (field.kind === "BOOLEAN") value = true;
    else if (field.kind === "SELECT") value = field.options?.[field.options.length - 1];
    else if (field.kind === "JSON") value = { "X-Team": "data" };
    else if (field.name.startsWith("extra.") && /url/i.test(field.name)) value = "https://s3.example.com";
    else if (/path/.test(field.name)) value = "/health";
    else if (/bucket/.test(field.name)) value = "raw-data";
    else value = `${field.name.replace("extra.", "")}_value`;
    if (field.name.startsWith("extra.")) settings.extra[field.name.slice(6)] = value;
    else settings[field.name] = value;
  }
  return settings;
}
