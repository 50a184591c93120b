/**
 * deleteWorkspace: the keys go first, with the data, in one transaction; tokens and sessions
 * lose the workspace at once; what stays is an instance-level record of who deleted which slug.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { unwrapDataKey } from "../../src/crypto/key-wrap";
import { openSecrets } from "../../src/crypto/sealed-secrets";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";

let app: TestApp;
let db: pg.Client;

beforeAll(async () => {
  app = await startTestApp();
  db = new pg.Client({ connectionString: app.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await app?.stop();
});

const DELETE = `mutation($id: ID!, $slug: String!) { deleteWorkspace(id: $id, confirmSlug: $slug) }`;
const RESOLVE = `query($s: String, $n: String!) { resolveConnection(name: $n, workspace: $s) { password } }`;

async function count(sql: string, id: string): Promise<number> {
  return (await db.query(sql, [id])).rows[0].n;
}

describe("deleteWorkspace", () => {
  it("shreds the keys with the data; tokens and sessions lose the workspace at once; the deletion stays on record", async () => {
    const anonymous = new GraphQLClient(app.url);
    const owner = await signUp(anonymous, "deleter");
    const member = await signUp(anonymous, "deleted-member");
    const workspace = await createWorkspace(owner.client);
    const other = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, member.email, "MEMBER");
    const conn = await createConnection(owner.client, workspace.id, { name: "warehouse", password: "doomed-secret" });
    await createConnection(owner.client, other.id, { name: "warehouse", password: "surviving-secret" });
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"]);
    const byToken = new GraphQLClient(app.url, token);
    expect((await byToken.ok(RESOLVE, { n: "warehouse" })).resolveConnection.password).toBe("doomed-secret");
    expect((await member.client.ok(RESOLVE, { s: workspace.slug, n: "warehouse" })).resolveConnection.password).toBe("doomed-secret");
    // What a backup taken now would hold.
    const backup = {
      key: (await db.query(`SELECT "wrappedKey" FROM "WorkspaceKey" WHERE "workspaceId" = $1 AND "version" = 1`, [workspace.id])).rows[0].wrappedKey,
      blob: (await db.query(`SELECT "secretCiphertext" FROM "Connection" WHERE id = $1`, [conn.id])).rows[0].secretCiphertext,
    };

    // Only an owner, and only with the slug typed again.
    expect((await member.client.request(DELETE, { id: workspace.id, slug: workspace.slug })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    const wrongSlug = await owner.client.request(DELETE, { id: workspace.id, slug: other.slug });
    expect(wrongSlug.errors?.[0]?.extensions).toMatchObject({ code: "BAD_USER_INPUT", field: "confirmSlug" });
    expect((await byToken.request(DELETE, { id: workspace.id, slug: workspace.slug })).errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    expect(await count(`SELECT count(*)::int AS n FROM "WorkspaceKey" WHERE "workspaceId" = $1`, workspace.id)).toBe(1);

    expect((await owner.client.ok(DELETE, { id: workspace.id, slug: workspace.slug })).deleteWorkspace).toBe(true);

    // Keys and data are gone; the ciphertext no key in the database opens.
    expect(await count(`SELECT count(*)::int AS n FROM "WorkspaceKey" WHERE "workspaceId" = $1`, workspace.id)).toBe(0);
    for (const table of ["Connection", "ApiToken", "Membership", "AuditEvent"]) {
      expect(await count(`SELECT count(*)::int AS n FROM "${table}" WHERE "workspaceId" = $1`, workspace.id), table).toBe(0);
    }
    expect(await count(`SELECT count(*)::int AS n FROM "Workspace" WHERE id = $1`, workspace.id)).toBe(0);
    const master = Buffer.from(app.masterKey, "base64");
    const { rows: remaining } = await db.query(`SELECT "workspaceId", "version", "wrappedKey" FROM "WorkspaceKey"`);
    for (const row of remaining) {
      const dek = unwrapDataKey(master, row.workspaceId, row.version, row.wrappedKey);
      expect(() => openSecrets(dek, backup.blob, { workspaceId: workspace.id, connectionId: conn.id })).toThrow();
    }
    // As the README says: a backup from before still holds the wrapped key, which the master key opens.
    const old = unwrapDataKey(master, workspace.id, 1, backup.key);
    expect(openSecrets(old, backup.blob, { workspaceId: workspace.id, connectionId: conn.id }).password).toBe("doomed-secret");

    // The token is refused; the member's session no longer finds the workspace; the other workspace is untouched.
    expect((await byToken.request(RESOLVE, { n: "warehouse" })).errors?.[0]?.extensions?.code).toBe("UNAUTHENTICATED");
    const rest = await fetch(`${app.url}/api/v1/connections/warehouse`, { headers: { authorization: `Bearer ${token}` } });
    expect(rest.status).toBe(401);
    expect((await member.client.ok(`query($s: String!) { workspace(slug: $s) { id } }`, { s: workspace.slug })).workspace).toBeNull();
    expect((await member.client.request(RESOLVE, { s: workspace.slug, n: "warehouse" })).errors?.[0]?.extensions?.code).toBe("NOT_FOUND");
    expect((await owner.client.ok(RESOLVE, { s: other.slug, n: "warehouse" })).resolveConnection.password).toBe("surviving-secret");

    // Who deleted which slug, when, stays in the instance's chain.
    const { rows: records } = await db.query(`SELECT * FROM "InstanceAuditEvent" WHERE "action" = 'workspace.delete' AND "targetId" = $1`, [workspace.id]);
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ actorKind: "USER", actorId: owner.userId, details: { slug: workspace.slug } });
    expect(Date.now() - new Date(`${records[0].at.toISOString?.() ?? records[0].at}`).getTime()).toBeLessThan(24 * 3600_000);
    expect(JSON.stringify(records[0])).not.toContain("doomed-secret");

    // The slug is free again, with a new key.
    const reborn = await createWorkspace(owner.client, workspace.slug);
    expect(reborn.id).not.toBe(workspace.id);
  });
});
