/**
 * Renames without breaking pipelines: the old name keeps resolving (GraphQL and REST) for
 * keepAliasDays, audited as a resolve through the alias and counted in usage; no other
 * connection may take it meanwhile; `aliases` lists them; expired aliases are gone.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { CONNECTION_FIELDS, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let db: pg.Client;
let resolver: GraphQLClient;
let resolverToken: string;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  resolverToken = (await createApiToken(owner.client, workspace.id, ["RESOLVE", "READ"], "pipeline")).token;
  resolver = owner.client.as(resolverToken);
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
});

afterAll(async () => {
  await db?.end();
  await app?.stop();
});

const RENAME = `mutation($id: ID!, $n: String!, $days: Int, $v: Int) { renameConnection(id: $id, newName: $n, keepAliasDays: $days, expectedVersion: $v) {
  ${CONNECTION_FIELDS} aliases { name expiresAt } } }`;
const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!) { updateConnection(id: $id, patch: $patch) { name version aliases { name expiresAt } } }`;
const ROLLBACK = `mutation($id: ID!, $version: Int!) { rollbackConnection(id: $id, version: $version) { name version aliases { name } } }`;
const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`;
const RESOLVE = `query($name: String!) { resolveConnection(name: $name) { name host password } }`;
const ALIASES = `query($slug: String!, $name: String!) { workspace(slug: $slug) { connection(name: $name) { aliases { name expiresAt }
  versions { version changedFields } usage { actorName count } } } }`;

function rest(name: string) {
  return fetch(`${app.url}/api/v1/connections/${encodeURIComponent(name)}`, { headers: { authorization: `Bearer ${resolverToken}` } });
}

async function aliasRows(connectionId: string) {
  const { rows } = await db.query(`SELECT name, "expiresAt" FROM "ConnectionAlias" WHERE "connectionId" = $1 ORDER BY name`, [connectionId]);
  return rows.map((r) => r.name);
}

const days = (iso: string) => (Date.parse(iso) - Date.now()) / 86_400_000;

describe("renameConnection", () => {
  it("keeps the old name resolving for 7 days by default, over GraphQL and REST, audited and counted", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "old_wh", password: "alias-pass-1" });
    const renamed = (await owner.client.ok(RENAME, { id: created.id, n: "new_wh", v: 1 })).renameConnection;
    expect(renamed).toMatchObject({ name: "new_wh", version: 2 });
    expect(renamed.aliases).toHaveLength(1);
    expect(renamed.aliases[0].name).toBe("old_wh");
    expect(days(renamed.aliases[0].expiresAt)).toBeGreaterThan(6.99);
    expect(days(renamed.aliases[0].expiresAt)).toBeLessThan(7.01);

    expect((await resolver.ok(RESOLVE, { name: "old_wh" })).resolveConnection).toEqual({ name: "new_wh", host: "db.example.com", password: "alias-pass-1" });
    expect((await resolver.ok(RESOLVE, { name: "new_wh" })).resolveConnection.name).toBe("new_wh");
    const viaRest = await rest("old_wh");
    expect(viaRest.status).toBe(200);
    expect(await viaRest.json()).toMatchObject({ conn_type: "postgres", host: "db.example.com", password: "alias-pass-1" });

    const events = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 10) { nodes { action targetId details } } } }`, { s: workspace.slug });
    const resolves = events.workspace.auditEvents.nodes.filter((e: any) => e.action === "connection.resolve" && e.targetId === created.id);
    expect(resolves.map((e: any) => e.details)).toEqual([
      { name: "new_wh", viaAlias: "old_wh" },
      { name: "new_wh" },
      { name: "new_wh", viaAlias: "old_wh" },
    ]);
    const rename = events.workspace.auditEvents.nodes.find((e: any) => e.action === "connection.rename");
    expect(rename.details).toMatchObject({ name: "new_wh", from: "old_wh", keepAliasDays: 7, changed: ["name"] });

    // Usage counts every resolve, by either name (written about every second).
    await expect
      .poll(async () => (await owner.client.ok(ALIASES, { slug: workspace.slug, name: "new_wh" })).workspace.connection.usage, { timeout: 5000 })
      .toEqual([{ actorName: expect.stringContaining("pipeline"), count: 3 }]);
    const { versions } = (await owner.client.ok(ALIASES, { slug: workspace.slug, name: "new_wh" })).workspace.connection;
    expect(versions[0]).toEqual({ version: 2, changedFields: ["name"] });
  });

  it("keeps no alias with keepAliasDays 0, and the old name is free at once", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "zero_old" });
    const renamed = (await owner.client.ok(RENAME, { id: created.id, n: "zero_new", days: 0 })).renameConnection;
    expect(renamed.aliases).toEqual([]);
    expect((await resolver.fails(RESOLVE, { name: "zero_old" })).code).toBe("NOT_FOUND");
    await createConnection(owner.client, workspace.id, { name: "zero_old" });
  });

  it("refuses the old name to any other connection while the alias lives: create, rename, update, upsert, import", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "held_old" });
    await owner.client.ok(RENAME, { id: created.id, n: "held_new", days: 30 });
    const other = await createConnection(owner.client, workspace.id, { name: "held_other" });

    expect(await owner.client.fails(CREATE, { w: workspace.id, input: { name: "held_old", type: "postgres", host: "h", login: "u" } })).toMatchObject({
      code: "CONFLICT",
      field: "name",
    });
    expect(await owner.client.fails(RENAME, { id: other.id, n: "held_old" })).toMatchObject({ code: "CONFLICT", field: "newName" });
    expect(await owner.client.fails(UPDATE, { id: other.id, patch: { name: "held_old" } })).toMatchObject({ code: "CONFLICT", field: "name" });
    const upsert = await owner.client.fails(
      `mutation($w: ID!, $inputs: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $inputs) { created } }`,
      { w: workspace.id, inputs: [{ name: "fresh_one", type: "postgres", host: "h", login: "u" }, { name: "held_old", type: "postgres", host: "h", login: "u" }] },
    );
    expect(upsert).toMatchObject({ code: "CONFLICT", field: "inputs.1.name" });
    expect(upsert.message).toContain("held_new");
    const imported = await owner.client.ok(
      `mutation($w: ID!, $c: String!) { importConnections(workspaceId: $w, format: AIRFLOW_JSON, content: $c, onConflict: OVERWRITE) { applied lines { name outcome message } } }`,
      { w: workspace.id, c: JSON.stringify({ held_old: { conn_type: "postgres", host: "h", login: "u" } }) },
    );
    expect(imported.importConnections.applied).toBe(false);
    expect(imported.importConnections.lines[0]).toMatchObject({ name: "held_old", outcome: "ERROR" });

    const { rows } = await db.query(`SELECT name FROM "Connection" WHERE "workspaceId" = $1 AND name IN ('held_old', 'fresh_one')`, [workspace.id]);
    expect(rows).toEqual([]);
    expect((await resolver.ok(RESOLVE, { name: "held_old" })).resolveConnection.name).toBe("held_new");
  });

  it("lets the connection take its own former name back, which ends that alias and starts one for the other", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "back_a" });
    await owner.client.ok(RENAME, { id: created.id, n: "back_b" });
    const back = (await owner.client.ok(RENAME, { id: created.id, n: "back_a" })).renameConnection;
    expect(back.aliases.map((a: any) => a.name)).toEqual(["back_b"]);
    expect(await aliasRows(created.id)).toEqual(["back_b"]);
  });

  it("renames through updateConnection and rollback by the same rule", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "upd_old" });
    const updated = (await owner.client.ok(UPDATE, { id: created.id, patch: { name: "upd_new", description: "x" } })).updateConnection;
    expect(updated.aliases.map((a: any) => a.name)).toEqual(["upd_old"]);
    expect(days(updated.aliases[0].expiresAt)).toBeGreaterThan(6.99);
    expect((await resolver.ok(RESOLVE, { name: "upd_old" })).resolveConnection.name).toBe("upd_new");

    // Rolling back to version 1 brings the old name back: the current one becomes the alias.
    const rolled = (await owner.client.ok(ROLLBACK, { id: created.id, version: 1 })).rollbackConnection;
    expect(rolled).toMatchObject({ name: "upd_old", version: 3, aliases: [{ name: "upd_new" }] });
    expect((await resolver.ok(RESOLVE, { name: "upd_new" })).resolveConnection.name).toBe("upd_old");
  });

  it("refuses hostile names and keepAliasDays out of range, writing nothing", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "hostile_target" });
    for (const n of ["", "a b", "x".repeat(201), "nul\u0000name", "lone\ud800", "__proto__", "constructor", ".", "..", "a/b"]) {
      const error = await owner.client.fails(RENAME, { id: created.id, n });
      expect(error.code, JSON.stringify(n)).toBe("BAD_USER_INPUT");
      // Text no column can store is refused by the input guard, naming the variable.
      expect(["newName", "n"], JSON.stringify(n)).toContain(error.field);
    }
    for (const d of [-1, -2147483648, 366, 2147483647]) {
      expect(await owner.client.fails(RENAME, { id: created.id, n: "hostile_new", days: d }), String(d)).toMatchObject({
        code: "BAD_USER_INPUT",
        field: "keepAliasDays",
      });
    }
    expect((await owner.client.fails(RENAME, { id: created.id, n: "hostile_new", v: 7 })).code).toBe("CONFLICT");
    const { rows } = await db.query(`SELECT name, version FROM "Connection" WHERE id = $1`, [created.id]);
    expect(rows).toEqual([{ name: "hostile_target", version: 1 }]);
    expect(await aliasRows(created.id)).toEqual([]);
  });

  it("bounds the live aliases one connection holds", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "many_0" });
    for (let i = 1; i <= 20; i++) await owner.client.ok(RENAME, { id: created.id, n: `many_${i}` });
    expect(await owner.client.fails(RENAME, { id: created.id, n: "many_21" })).toMatchObject({ code: "CONFLICT", field: "keepAliasDays" });
    expect((await owner.client.ok(RENAME, { id: created.id, n: "many_21", days: 0 })).renameConnection.aliases).toHaveLength(20);
  });

  it("is invisible across workspaces, and an alias never resolves in another workspace", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "tenant_old" });
    await owner.client.ok(RENAME, { id: created.id, n: "tenant_new" });
    const intruder = await signUp(new GraphQLClient(app.url), "intruder");
    const theirs = await createWorkspace(intruder.client);
    const token = intruder.client.as((await createApiToken(intruder.client, theirs.id, ["READ", "WRITE", "RESOLVE"])).token);
    expect((await token.fails(RENAME, { id: created.id, n: "stolen" })).code).toBe("NOT_FOUND");
    expect((await intruder.client.fails(RENAME, { id: created.id, n: "stolen" })).code).toBe("NOT_FOUND");
    expect((await token.fails(RESOLVE, { name: "tenant_old" })).code).toBe("NOT_FOUND");
    // The same name is free in the other workspace.
    await createConnection(intruder.client, theirs.id, { name: "tenant_old" });
    expect((await resolver.ok(RESOLVE, { name: "tenant_old" })).resolveConnection.name).toBe("tenant_new");
  });
});

describe("alias expiry", () => {
  it("an expired alias no longer resolves, leaves the list and frees its name", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "exp_old" });
    await owner.client.ok(RENAME, { id: created.id, n: "exp_new", days: 1 });
    expect((await resolver.ok(RESOLVE, { name: "exp_old" })).resolveConnection.name).toBe("exp_new");
    await db.query(`UPDATE "ConnectionAlias" SET "expiresAt" = now() AT TIME ZONE 'UTC' - interval '1 second' WHERE "connectionId" = $1`, [created.id]);

    expect((await resolver.fails(RESOLVE, { name: "exp_old" })).code).toBe("NOT_FOUND");
    expect((await rest("exp_old")).status).toBe(404);
    expect((await owner.client.ok(ALIASES, { slug: workspace.slug, name: "exp_new" })).workspace.connection.aliases).toEqual([]);

    // The name can be taken again, even before the sweep removed the row.
    const other = await createConnection(owner.client, workspace.id, { name: "exp_other" });
    await owner.client.ok(RENAME, { id: other.id, n: "exp_old" });
    expect((await resolver.ok(RESOLVE, { name: "exp_old" })).resolveConnection.name).toBe("exp_old");
  });

  it("the sweep deletes expired aliases and keeps live ones", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "sweep_a" });
    await owner.client.ok(RENAME, { id: created.id, n: "sweep_b" });
    await owner.client.ok(RENAME, { id: created.id, n: "sweep_c" });
    await db.query(`UPDATE "ConnectionAlias" SET "expiresAt" = now() AT TIME ZONE 'UTC' - interval '1 second' WHERE "connectionId" = $1 AND name = 'sweep_a'`, [
      created.id,
    ]);
    expect(await app.services.connections.aliases.sweepExpired()).toBeGreaterThanOrEqual(1);
    expect(await aliasRows(created.id)).toEqual(["sweep_b"]);
  });

  it("deleting a connection frees its former names", async () => {
    const created = await createConnection(owner.client, workspace.id, { name: "del_old" });
    await owner.client.ok(RENAME, { id: created.id, n: "del_new" });
    await owner.client.ok(`mutation($id: ID!) { deleteConnection(id: $id, force: true) }`, { id: created.id });
    expect(await aliasRows(created.id)).toEqual([]);
    await createConnection(owner.client, workspace.id, { name: "del_old" });
  });
});

describe("racing for a name", () => {
  it("a create racing a rename never leaves the old name both an alias and a connection", async () => {
    for (let round = 0; round < 5; round++) {
      const created = await createConnection(owner.client, workspace.id, { name: `race_${round}` });
      const [renamed, create] = await Promise.all([
        owner.client.request(RENAME, { id: created.id, n: `race_${round}_new` }),
        owner.client.request(CREATE, { w: workspace.id, input: { name: `race_${round}`, type: "postgres", host: "h", login: "u" } }),
      ]);
      expect(renamed.errors).toBeUndefined();
      expect(create.errors?.[0]?.extensions?.code).toBe("CONFLICT");
      expect((await resolver.ok(RESOLVE, { name: `race_${round}` })).resolveConnection.name).toBe(`race_${round}_new`);
    }
  });
});
