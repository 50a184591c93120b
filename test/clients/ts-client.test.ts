/**
 * The TypeScript client against a real server: resolving by name, a real PostgreSQL pool
 * opened from the resolved fields (with a password full of URI delimiters), the cache, and
 * the errors a caller gets (named codes, never the token).
 */
import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:net";
import { inspect } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPatchbayClient, PatchbayError, pgPoolConfig, mysqlPoolOptions, type ResolvedConnection } from "../../clients/typescript";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";
import { serviceAvailable } from "../servers/availability";
import { startMariaDb, type MariaDbHandle } from "../servers/mariadb";

const PASSWORD = `p@ss:w/rd %+? #${randomBytes(3).toString("hex")}`;

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let target: PgTarget;
let resolveToken: string;
let readToken: string;

/** A fetch that counts the requests it sends. */
function countingFetch() {
  const counter = {
    count: 0,
    fetch: ((input: any, init?: any) => {
      counter.count++;
      return fetch(input, init);
    }) as typeof fetch,
  };
  return counter;
}

beforeAll(async () => {
  app = await startTestApp();
  const anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
  target = await createPgTarget(PASSWORD);
  await createConnection(owner.client, workspace.id, {
    name: "warehouse",
    type: "postgres",
    host: target.host,
    port: target.port,
    schema: target.schema,
    login: target.login,
    password: target.password,
    extra: { sslmode: "disable" },
  });
  await createConnection(owner.client, workspace.id, { name: "shop_db", type: "mysql", host: "mysql.example.com", port: 3306, login: "shop" });
  resolveToken = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "app")).token;
  readToken = (await createApiToken(owner.client, workspace.id, ["READ"], "reader")).token;
});

afterAll(async () => {
  await app?.stop();
});

describe("pgPool", () => {
  it("opens a real PostgreSQL pool by name, as the stored login, with a hostile password", async () => {
    const client = createPatchbayClient({ url: app.url, token: resolveToken });
    const pool = await client.pgPool("warehouse");
    try {
      const { rows } = await pool.query("SELECT current_user AS user, current_database() AS db");
      expect(rows[0]).toEqual({ user: target.login, db: target.schema });
    } finally {
      await pool.end();
    }
  });

  it("refuses a connection of another type, pointing at the right method", async () => {
    const client = createPatchbayClient({ url: app.url, token: resolveToken });
    const error = await client.pgPool("shop_db").catch((e) => e);
    expect(error).toBeInstanceOf(PatchbayError);
    expect(error).toMatchObject({ code: "UNSUPPORTED" });
    expect(error.message).toMatch(/type mysql.*mysqlPool/);
    await expect(client.mysqlPool("warehouse")).rejects.toMatchObject({ code: "UNSUPPORTED" });
  });
});

describe("connection()", () => {
  it("returns the typed settings with the secrets and the server's other forms", async () => {
    const client = createPatchbayClient({ url: app.url, token: resolveToken });
    const c = await client.connection("warehouse");
    expect(c).toMatchObject({
      name: "warehouse",
      type: "postgres",
      description: null,
      host: target.host,
      port: target.port,
      schema: target.schema,
      login: target.login,
      password: PASSWORD,
      extra: { sslmode: "disable" },
    });
    expect(c.airflowUri).toBe(
      `postgres://${target.login}:${encodeURIComponent(PASSWORD).replace(/[!'()*]/g, (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase()}`)}@${target.host}:${target.port}/${target.schema}?sslmode=disable`,
    );
    // Null only while the server predates the field.
    if (c.sqlalchemyUrl !== null) expect(c.sqlalchemyUrl).toMatch(/^postgresql(\+psycopg2)?:\/\//);
    expect(Object.isFrozen(c)).toBe(true);
    expect(inspect(c)).not.toContain(PASSWORD);
    expect(inspect(c)).not.toContain(encodeURIComponent(PASSWORD));
    expect(JSON.parse(JSON.stringify(c)).password).toBe(PASSWORD);
  });

  it("reads PATCHBAY_URL, PATCHBAY_TOKEN and PATCHBAY_WORKSPACE when not given", async () => {
    const fromEnv = createPatchbayClient({ env: { PATCHBAY_URL: `${app.url}/`, PATCHBAY_TOKEN: resolveToken } });
    expect((await fromEnv.connection("warehouse")).login).toBe(target.login);
    // A person's session token names the workspace.
    const person = createPatchbayClient({ env: { PATCHBAY_URL: `${app.url}/graphql`, PATCHBAY_TOKEN: owner.token, PATCHBAY_WORKSPACE: workspace.slug } });
    expect(person.workspace).toBe(workspace.slug);
    expect((await person.connection("warehouse")).password).toBe(PASSWORD);
    const noWorkspace = createPatchbayClient({ env: { PATCHBAY_URL: app.url, PATCHBAY_TOKEN: owner.token } });
    await expect(noWorkspace.connection("warehouse")).rejects.toMatchObject({
      code: "BAD_USER_INPUT",
      field: "workspace",
      message: expect.stringContaining("PATCHBAY_WORKSPACE"),
    });
  });

  it("resolves an environment's values with { environment } or PATCHBAY_ENVIRONMENT, and opens a pool there", async () => {
    const prodDb = await createPgTarget(PASSWORD);
    const id = (await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { id } } }`, { s: workspace.slug }))
      .workspace.connection.id;
    await owner.client.ok(`mutation($id: ID!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: "prod", patch: $p) { version } }`, {
      id,
      p: { schema: prodDb.schema, login: prodDb.login, password: prodDb.password },
    });
    const prod = createPatchbayClient({ url: app.url, token: resolveToken, environment: "prod" });
    expect(prod.environment).toBe("prod");
    expect(await prod.connection("warehouse")).toMatchObject({ schema: prodDb.schema, login: prodDb.login, host: target.host });
    const pool = await prod.pgPool("warehouse");
    try {
      expect((await pool.query("SELECT current_database() AS db")).rows[0].db).toBe(prodDb.schema);
    } finally {
      await pool.end();
    }
    const fromEnv = createPatchbayClient({ env: { PATCHBAY_URL: app.url, PATCHBAY_TOKEN: resolveToken, PATCHBAY_ENVIRONMENT: "prod" } });
    expect((await fromEnv.connection("warehouse")).login).toBe(prodDb.login);
    // Without one, the connection's own values.
    expect((await createPatchbayClient({ url: app.url, token: resolveToken }).connection("warehouse")).login).toBe(target.login);
    expect(() => createPatchbayClient({ url: app.url, token: resolveToken, environment: "two words" })).toThrow(/PATCHBAY_ENVIRONMENT/);

    // A token bound to prod may not ask for another environment.
    const bound = (
      await owner.client.ok(`mutation($w: ID!) { createApiToken(workspaceId: $w, name: "prod-app", scopes: [RESOLVE], environment: "prod") { token } }`, {
        w: workspace.id,
      })
    ).createApiToken.token;
    expect((await createPatchbayClient({ url: app.url, token: bound }).connection("warehouse")).login).toBe(prodDb.login);
    await expect(createPatchbayClient({ url: app.url, token: bound, environment: "dev" }).connection("warehouse")).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
  });

  it("caches per name: a hit sends no request, concurrent calls share one, clearCache forgets", async () => {
    const counter = countingFetch();
    const client = createPatchbayClient({ url: app.url, token: resolveToken, fetch: counter.fetch });
    const [a, b, c] = await Promise.all([client.connection("warehouse"), client.connection("warehouse"), client.connection("warehouse")]);
    expect(counter.count).toBe(1);
    expect(b).toBe(a);
    expect(c).toBe(a);
    await client.connection("warehouse");
    expect(counter.count).toBe(1);
    await client.connection("shop_db");
    expect(counter.count).toBe(2);
    client.clearCache("warehouse");
    await client.connection("warehouse");
    await client.connection("shop_db");
    expect(counter.count).toBe(3);
    client.clearCache();
    await client.connection("shop_db");
    expect(counter.count).toBe(4);
  });

  it("asks again once the entry expires, and every time with cacheTtlMs 0", async () => {
    const counter = countingFetch();
    const short = createPatchbayClient({ url: app.url, token: resolveToken, fetch: counter.fetch, cacheTtlMs: 50 });
    await short.connection("warehouse");
    await new Promise((r) => setTimeout(r, 80));
    await short.connection("warehouse");
    expect(counter.count).toBe(2);
    const none = createPatchbayClient({ url: app.url, token: resolveToken, fetch: counter.fetch, cacheTtlMs: 0 });
    await none.connection("warehouse");
    await none.connection("warehouse");
    expect(counter.count).toBe(4);
  });

  it("asks a server that predates sqlalchemyUrl again without it", async () => {
    const bodies: string[] = [];
    const oldServer = (async (input: any, init?: any) => {
      bodies.push(String(init?.body));
      if (String(init?.body).includes("sqlalchemyUrl")) {
        const error = { message: 'Cannot query field "sqlalchemyUrl" on type "ResolvedConnection".', extensions: { code: "GRAPHQL_VALIDATION_FAILED" } };
        return new Response(JSON.stringify({ errors: [error] }), { status: 400, headers: { "content-type": "application/json" } });
      }
      return fetch(input, init);
    }) as typeof fetch;
    const client = createPatchbayClient({ url: app.url, token: resolveToken, fetch: oldServer, cacheTtlMs: 0 });
    const c = await client.connection("warehouse");
    expect(c).toMatchObject({ password: PASSWORD, sqlalchemyUrl: null });
    await client.connection("warehouse");
    // Learned once: the second call goes straight to the query without the field.
    expect(bodies.map((b) => b.includes("sqlalchemyUrl"))).toEqual([true, false, false]);
  });

  it("each resolution reaches the server's usage count; cache hits do not", async () => {
    const client = createPatchbayClient({ url: app.url, token: resolveToken });
    const before = await usageCount("shop_db");
    await client.connection("shop_db");
    await client.connection("shop_db");
    expect(await usageCount("shop_db")).toBe(before + 1);
  });
});

async function usageCount(name: string): Promise<number> {
  const data = await owner.client.ok(`query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) { usage { actorKind count } } } }`, {
    s: workspace.slug,
    n: name,
  });
  return data.workspace.connection.usage.reduce((sum: number, u: any) => sum + u.count, 0);
}

describe("errors", () => {
  it("a wrong token is UNAUTHENTICATED, and the token is nowhere in the error", async () => {
    const wrong = `pbt_${randomBytes(24).toString("hex")}`;
    const client = createPatchbayClient({ url: app.url, token: wrong });
    const error = await client.connection("warehouse").catch((e) => e);
    expect(error).toBeInstanceOf(PatchbayError);
    expect(error.code).toBe("UNAUTHENTICATED");
    expect(error.status).toBeDefined();
    expect(`${error.message} ${error.stack} ${inspect(error)} ${JSON.stringify(error)}`).not.toContain(wrong);
  });

  it("a token without RESOLVE is FORBIDDEN; an unknown name is NOT_FOUND and not cached", async () => {
    await expect(createPatchbayClient({ url: app.url, token: readToken }).connection("warehouse")).rejects.toMatchObject({ code: "FORBIDDEN" });
    const counter = countingFetch();
    const client = createPatchbayClient({ url: app.url, token: resolveToken, fetch: counter.fetch });
    const error = await client.connection("nope").catch((e) => e);
    expect(error).toMatchObject({ code: "NOT_FOUND", message: expect.stringContaining('"nope"') });
    await client.connection("nope").catch(() => {});
    expect(counter.count).toBe(2);
  });

  it("a missing PATCHBAY_URL or PATCHBAY_TOKEN is a clear CONFIG error naming the variable", () => {
    expect(() => createPatchbayClient({ env: { PATCHBAY_TOKEN: resolveToken } })).toThrow(/PATCHBAY_URL/);
    expect(() => createPatchbayClient({ env: { PATCHBAY_URL: app.url } })).toThrow(/PATCHBAY_TOKEN/);
    const error = (() => {
      try {
        createPatchbayClient({ env: {} });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toMatchObject({ code: "CONFIG" });
    expect(() => createPatchbayClient({ url: "ftp://x", token: resolveToken })).toThrow(/http/);
    expect(() => createPatchbayClient({ url: "https://user:pw@x.example", token: resolveToken })).toThrow(/credentials/);
  });

  it("an unreachable server is NETWORK, a silent one TIMEOUT, both without the token", async () => {
    const token = `pbt_${randomBytes(24).toString("hex")}`;
    const silent: Server = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
    const port = (silent.address() as { port: number }).port;
    try {
      const slow = createPatchbayClient({ url: `http://127.0.0.1:${port}`, token, timeoutMs: 200 });
      const started = Date.now();
      const timeout = await slow.connection("warehouse").catch((e) => e);
      expect(timeout).toMatchObject({ code: "TIMEOUT" });
      expect(Date.now() - started).toBeLessThan(3000);
      expect(timeout.message).not.toContain(token);
    } finally {
      silent.close();
    }
    const closed = createPatchbayClient({ url: `http://127.0.0.1:${port}`, token });
    const network = await closed.connection("warehouse").catch((e) => e);
    expect(network).toMatchObject({ code: "NETWORK", message: expect.stringContaining("ECONNREFUSED") });
    expect(network.message).not.toContain(token);
  });
});

describe("driver configs", () => {
  const base: ResolvedConnection = {
    name: "db",
    type: "postgres",
    description: null,
    host: "db.example.com",
    port: null,
    schema: null,
    login: "app",
    password: null,
    extra: {},
    airflowUri: "postgres://app@db.example.com",
    sqlalchemyUrl: null,
  };

  it("maps PostgreSQL sslmode and defaults, and never falls back to PGPASSWORD", () => {
    const plain = pgPoolConfig(base);
    expect(plain).toMatchObject({ host: "db.example.com", port: 5432, user: "app", database: "app", ssl: false });
    expect(typeof plain.password).toBe("function");
    expect(pgPoolConfig({ ...base, extra: { sslmode: "require" } }).ssl).toEqual({ rejectUnauthorized: false });
    expect(pgPoolConfig({ ...base, extra: { sslmode: "verify-full" } }).ssl).toEqual({ rejectUnauthorized: true, servername: "db.example.com" });
    expect(pgPoolConfig({ ...base, host: "10.0.0.5", extra: { sslmode: "verify-full" } }).ssl).toEqual({ rejectUnauthorized: true });
    expect(pgPoolConfig({ ...base, extra: { sslmode: "verify-ca" } }).ssl).toMatchObject({ rejectUnauthorized: true });
    expect(() => pgPoolConfig({ ...base, extra: { sslmode: "bogus" } })).toThrow(/sslmode/);
    expect(() => pgPoolConfig({ ...base, host: null })).toThrow(/no host/);
    expect(pgPoolConfig({ ...base, password: "x" }, { max: 3 })).toMatchObject({ password: "x", max: 3 });
  });

  it("keeps MySQL's LOCAL INFILE off whatever the options say", () => {
    const mysql = { ...base, type: "mysql" };
    const options = mysqlPoolOptions(mysql, { flags: ["+LOCAL_FILES", "FOUND_ROWS"], infileStreamFactory: () => null as any });
    expect(options.flags).toEqual(["FOUND_ROWS", "-LOCAL_FILES"]);
    expect(options.infileStreamFactory).toBeUndefined();
    expect(options).toMatchObject({ port: 3306, user: "app", database: undefined, ssl: undefined });
    expect(mysqlPoolOptions({ ...mysql, extra: { ssl_mode: "VERIFY_IDENTITY" } }).ssl).toEqual({ rejectUnauthorized: true, verifyIdentity: true });
  });
});

const mariadb = serviceAvailable("mariadbd", "mysqlPool is tested against a real MariaDB");

describe.skipIf(!mariadb)("mysqlPool against a real MariaDB", () => {
  let server: MariaDbHandle;
  const user = { login: "shop_app", password: `p@ss:w/rd %+? #${randomBytes(3).toString("hex")}` };

  beforeAll(async () => {
    server = await startMariaDb();
    await server.admin("CREATE DATABASE shop");
    await server.admin("CREATE USER ?@'%' IDENTIFIED BY ?", [user.login, user.password]);
    await server.admin("GRANT ALL PRIVILEGES ON shop.* TO ?@'%'", [user.login]);
    await createConnection(owner.client, workspace.id, {
      name: "real_mysql",
      type: "mysql",
      host: server.host,
      port: server.port,
      schema: "shop",
      login: user.login,
      password: user.password,
      extra: {},
    });
  });

  afterAll(async () => {
    await server?.stop();
  });

  it("opens a pool by name as the stored login", async () => {
    const client = createPatchbayClient({ url: app.url, token: resolveToken });
    const pool = await client.mysqlPool("real_mysql");
    try {
      const [rows] = await pool.query("SELECT SUBSTRING_INDEX(CURRENT_USER(), '@', 1) AS user, DATABASE() AS db");
      expect((rows as any[])[0]).toEqual({ user: user.login, db: "shop" });
    } finally {
      await pool.end();
    }
  });
});
