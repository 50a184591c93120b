/**
 * Bundles: a workspace's connections, secrets and overrides moved between two servers with
 * different master keys under a passphrase; the per-connection diff of a dry run; all or
 * nothing; a wrong passphrase, a flipped byte and a hostile header refused with clear errors.
 */
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sealWithPassphrase } from "../../src/crypto/passphrase-seal";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { findSecrets } from "../support/secrets";

const PASSPHRASE = "correct horse battery staple";
const PROD_PASSWORD = "rotated-Pa55word#2";
const BEARER = "hunter2-extra-secret";

const EXPORT = `mutation($w: ID!, $p: String!) { exportBundle(workspaceId: $w, passphrase: $p) }`;
const IMPORT = `mutation($w: ID!, $b: String!, $p: String!, $o: OnConflict, $d: Boolean) {
  importBundle(workspaceId: $w, bundle: $b, passphrase: $p, onConflict: $o, dryRun: $d) { applied lines { name outcome changedFields message } }
}`;
const RESOLVE = `query($n: String!, $w: String, $e: String) { resolveConnection(name: $n, workspace: $w, environment: $e) { type host login password extra } }`;
const SET = `mutation($id: ID!, $e: String!, $p: ConnectionPatch!) { setConnectionOverride(id: $id, environment: $e, patch: $p) { version } }`;
const NAMES = `query($s: String!) { workspace(slug: $s) { connections { nodes { id name version overrides { environment secretFields } } } } }`;

let source: TestApp;
let target: TestApp;
let sourceOwner: SignedUp;
let targetOwner: SignedUp;
let sourceWs: { id: string; slug: string };
let targetWs: { id: string; slug: string };
let bundle: string;

beforeAll(async () => {
  [source, target] = await Promise.all([startTestApp(), startTestApp()]);
  expect(source.masterKey).not.toBe(target.masterKey);
  sourceOwner = await signUp(new GraphQLClient(source.url), "source-owner");
  targetOwner = await signUp(new GraphQLClient(target.url), "target-owner");
  sourceWs = await createWorkspace(sourceOwner.client);
  targetWs = await createWorkspace(targetOwner.client);

  const warehouse = await createConnection(sourceOwner.client, sourceWs.id, { name: "warehouse" });
  await sourceOwner.client.ok(SET, { id: warehouse.id, e: "prod", p: { host: "prod-db.example.com", password: PROD_PASSWORD } });
  await sourceOwner.client.ok(SET, { id: warehouse.id, e: "staging", p: { login: "staging_reader" } });
  await createConnection(sourceOwner.client, sourceWs.id, {
    name: "partner_api",
    type: "http",
    host: "api.example.com",
    port: null,
    schema: "https",
    login: null,
    password: null,
    extra: { auth_type: "bearer", bearer_token: BEARER },
  });
  bundle = (await sourceOwner.client.ok(EXPORT, { w: sourceWs.id, p: PASSPHRASE })).exportBundle;
});

afterAll(async () => {
  for (const app of [source, target]) {
    const client = new pg.Client({ connectionString: app.databaseUrl });
    await client.connect();
    const audit = await client.query(`SELECT details::text AS d FROM "AuditEvent"`);
    await client.end();
    expect(findSecrets({ logs: app.logs, audit: audit.rows.map((r) => r.d) }, [PROD_PASSWORD])).toEqual([]);
  }
  await Promise.all([source?.stop(), target?.stop()]);
});

function flip(text: string, index: number): string {
  const c = text[index];
  return text.slice(0, index) + (c === "A" ? "B" : "A") + text.slice(index + 1);
}

describe("exportBundle", () => {
  it("writes one encrypted string with no secret in the clear", () => {
    expect(bundle.startsWith("patchbay-bundle.v1.")).toBe(true);
    expect(findSecrets({ bundle: [bundle, Buffer.from(bundle.split(".")[3] ?? "", "base64url").toString("latin1")] }, [PROD_PASSWORD])).toEqual([]);
  });

  it("is for ADMIN and above, people only, with a passphrase worth the name", async () => {
    const anonymous = new GraphQLClient(source.url);
    const member = await signUp(anonymous, "member");
    await addMember(sourceOwner.client, sourceWs.id, member.email, "MEMBER");
    expect((await member.client.fails(EXPORT, { w: sourceWs.id, p: PASSPHRASE })).code).toBe("FORBIDDEN");
    const token = anonymous.as((await createApiToken(sourceOwner.client, sourceWs.id, ["READ", "WRITE", "RESOLVE"])).token);
    expect((await token.fails(EXPORT, { w: sourceWs.id, p: PASSPHRASE })).code).toBe("FORBIDDEN");
    expect((await token.fails(IMPORT, { w: sourceWs.id, b: bundle, p: PASSPHRASE })).code).toBe("FORBIDDEN");
    expect(await sourceOwner.client.fails(EXPORT, { w: sourceWs.id, p: "short" })).toMatchObject({ code: "BAD_USER_INPUT", field: "passphrase" });
    const stranger = await signUp(anonymous, "stranger");
    expect((await stranger.client.fails(EXPORT, { w: sourceWs.id, p: PASSPHRASE })).code).toBe("NOT_FOUND");
  });
});

describe("importBundle into a server with another master key", () => {
  it("shows what a dry run would do and writes nothing", async () => {
    const report = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: bundle, p: PASSPHRASE, d: true })).importBundle;
    expect(report).toEqual({
      applied: false,
      lines: [
        { name: "partner_api", outcome: "CREATED", changedFields: [], message: null },
        { name: "warehouse", outcome: "CREATED", changedFields: [], message: null },
      ],
    });
    expect((await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes).toEqual([]);
  });

  it("brings every connection, override and secret across", async () => {
    const report = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: bundle, p: PASSPHRASE })).importBundle;
    expect(report.applied).toBe(true);
    const resolve = (n: string, e?: string) => targetOwner.client.ok(RESOLVE, { n, w: targetWs.slug, e: e ?? null }).then((d) => d.resolveConnection);
    expect(await resolve("warehouse")).toMatchObject({ host: "db.example.com", login: "reporter", password: "s3cret-Pa55word!" });
    expect(await resolve("warehouse", "prod")).toMatchObject({ host: "prod-db.example.com", login: "reporter", password: PROD_PASSWORD });
    expect(await resolve("warehouse", "staging")).toMatchObject({ host: "db.example.com", login: "staging_reader", password: "s3cret-Pa55word!" });
    expect((await resolve("partner_api")).extra).toMatchObject({ auth_type: "bearer", bearer_token: BEARER });
    const listed = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes;
    expect(listed.find((c: any) => c.name === "warehouse").overrides).toEqual([
      { environment: "prod", secretFields: ["password"] },
      { environment: "staging", secretFields: [] },
    ]);

    // The same bundle again changes nothing.
    const again = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: bundle, p: PASSPHRASE })).importBundle;
    expect(again.lines.map((l: any) => l.outcome)).toEqual(["UNCHANGED", "UNCHANGED"]);
    const audit = await targetOwner.client.ok(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 50) { nodes { action } } } }`, { s: targetWs.slug });
    expect(audit.workspace.auditEvents.nodes.map((e: any) => e.action)).toContain("bundle.import");
  });

  it("names the fields that differ, and writes all or nothing", async () => {
    const listed = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes;
    const warehouse = listed.find((c: any) => c.name === "warehouse");
    await targetOwner.client.ok(`mutation($id: ID!) { updateConnection(id: $id, patch: { host: "moved.example.com", password: "changed-here" }) { version } }`, {
      id: warehouse.id,
    });
    await targetOwner.client.ok(SET, { id: warehouse.id, e: "dev", p: { schema: "dev_db" } });
    // A third connection only the source has: created with OVERWRITE, but not when another line fails.
    await createConnection(sourceOwner.client, sourceWs.id, { name: "newcomer" });
    const newer = (await sourceOwner.client.ok(EXPORT, { w: sourceWs.id, p: PASSPHRASE })).exportBundle;

    const dry = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: newer, p: PASSPHRASE, o: "OVERWRITE", d: true })).importBundle;
    expect(dry.lines).toEqual([
      { name: "newcomer", outcome: "CREATED", changedFields: [], message: null },
      { name: "partner_api", outcome: "UNCHANGED", changedFields: [], message: null },
      { name: "warehouse", outcome: "UPDATED", changedFields: ["host", "password", "overrides.dev"], message: null },
    ]);

    const failed = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: newer, p: PASSPHRASE })).importBundle;
    expect(failed.applied).toBe(false);
    expect(failed.lines.find((l: any) => l.name === "warehouse")).toMatchObject({ outcome: "ERROR", changedFields: ["host", "password", "overrides.dev"] });
    const after = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes;
    expect(after.map((c: any) => c.name)).toEqual(["partner_api", "warehouse"]);

    const skipped = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: newer, p: PASSPHRASE, o: "SKIP" })).importBundle;
    expect(skipped.lines.map((l: any) => l.outcome)).toEqual(["CREATED", "UNCHANGED", "SKIPPED"]);
    const kept = (await targetOwner.client.ok(RESOLVE, { n: "warehouse", w: targetWs.slug })).resolveConnection;
    expect(kept).toMatchObject({ host: "moved.example.com", password: "changed-here" });

    const overwritten = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: newer, p: PASSPHRASE, o: "OVERWRITE" })).importBundle;
    expect(overwritten.applied).toBe(true);
    const back = (await targetOwner.client.ok(RESOLVE, { n: "warehouse", w: targetWs.slug })).resolveConnection;
    expect(back).toMatchObject({ host: "db.example.com", password: "s3cret-Pa55word!" });
    const overrides = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes.find((c: any) => c.name === "warehouse").overrides;
    expect(overrides.map((o: any) => o.environment)).toEqual(["prod", "staging"]);
  });

  it("writes each connection it creates or changes as a version, so a rollback undoes the import, environments included", async () => {
    const VERSIONS = `query($s: String!, $n: String!) { workspace(slug: $s) { connection(name: $n) {
      id version versions(first: 10) { version changedFields snapshot } } } }`;
    const history = async (n: string) => (await targetOwner.client.ok(VERSIONS, { s: targetWs.slug, n })).workspace.connection;
    const warehouse = await history("warehouse");
    // The OVERWRITE above: one version, naming what the import changed, overrides included.
    expect(warehouse.versions[0]).toMatchObject({ version: warehouse.version, changedFields: ["host", "password", "overrides.dev"] });
    expect(warehouse.versions[0].snapshot.overrides.map((o: any) => o.environment)).toEqual(["prod", "staging"]);
    const newcomer = await history("newcomer");
    expect(newcomer.versions.map((v: any) => v.version)).toEqual([1]);
    expect(newcomer.versions[0].changedFields).toContain("name");

    const rolled = await targetOwner.client.ok(
      `mutation($id: ID!, $version: Int!) { rollbackConnection(id: $id, version: $version) { version overrides { environment } } }`,
      { id: warehouse.id, version: warehouse.version - 1 },
    );
    expect(rolled.rollbackConnection.overrides.map((o: any) => o.environment)).toEqual(["dev", "prod", "staging"]);
    const before = (await targetOwner.client.ok(RESOLVE, { n: "warehouse", w: targetWs.slug, e: "dev" })).resolveConnection;
    expect(before).toMatchObject({ host: "moved.example.com", password: "changed-here" });
  });

  it("refuses a name still held as another connection's former name, and writes nothing", async () => {
    const partner = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes.find((c: any) => c.name === "partner_api");
    await targetOwner.client.ok(`mutation($id: ID!) { renameConnection(id: $id, newName: "partner_api_v2") { name } }`, { id: partner.id });
    const report = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: bundle, p: PASSPHRASE, o: "OVERWRITE" })).importBundle;
    expect(report.applied).toBe(false);
    expect(report.lines.find((l: any) => l.name === "partner_api")).toMatchObject({ outcome: "ERROR", message: expect.stringContaining("partner_api_v2") });
    const names = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes.map((c: any) => c.name);
    expect(names).not.toContain("partner_api");
  });
});

describe("a bundle that does not open", () => {
  it("refuses a wrong passphrase", async () => {
    const error = await targetOwner.client.fails(IMPORT, { w: targetWs.id, b: bundle, p: "not the passphrase at all" });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "passphrase" });
    expect(error.message).toMatch(/passphrase is wrong, or the bundle was changed/);
  });

  it("refuses a flipped byte in the body and in the header", async () => {
    const [, , header, body] = bundle.split(".");
    const bodyAt = bundle.length - Math.floor(body.length / 2);
    const headerAt = "patchbay-bundle.v1.".length + Math.floor(header.length / 2);
    for (const at of [bodyAt, headerAt, bundle.length - 3]) {
      const error = await targetOwner.client.fails(IMPORT, { w: targetWs.id, b: flip(bundle, at), p: PASSPHRASE });
      expect(error.code).toBe("BAD_USER_INPUT");
      expect(error.message).toMatch(/bundle/);
    }
    expect((await targetOwner.client.fails(IMPORT, { w: targetWs.id, b: "hello", p: PASSPHRASE })).field).toBe("bundle");
  });

  it("refuses a header asking for scrypt parameters beyond the limits before deriving anything", async () => {
    const [, , header, body] = bundle.split(".");
    const parsed = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    for (const hostile of [{ N: 2 ** 30 }, { r: 1_000_000 }, { p: 64 }, { N: 3 }, { N: 1e308 }]) {
      const forged = Buffer.from(JSON.stringify({ ...parsed, ...hostile })).toString("base64url");
      const error = await targetOwner.client.fails(IMPORT, { w: targetWs.id, b: `patchbay-bundle.v1.${forged}.${body}`, p: PASSPHRASE });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "bundle" });
      expect(error.message).toMatch(/scrypt|damaged/);
    }
  });

  it("refuses connections this server cannot store as they were, and writes none", async () => {
    const document = JSON.stringify({
      format: "patchbay-connections",
      version: 1,
      connections: [
        { name: "fine", type: "postgres", host: "h.example.com", login: "u", secrets: { password: "x" } },
        { name: "alien", type: "no_such_type", host: "h.example.com" },
        // A secret this server's http type does not declare must not land in plain extras.
        { name: "leaky", type: "http", host: "h.example.com", schema: "https", secrets: { "extra.region": "k" } },
        { name: "__proto__", type: "postgres" },
      ],
    });
    const forged = await sealWithPassphrase(PASSPHRASE, document);
    const report = (await targetOwner.client.ok(IMPORT, { w: targetWs.id, b: forged, p: PASSPHRASE, o: "OVERWRITE" })).importBundle;
    expect(report.applied).toBe(false);
    expect(report.lines.map((l: any) => [l.name, l.outcome])).toEqual([
      ["fine", "CREATED"],
      ["alien", "ERROR"],
      ["leaky", "ERROR"],
      ["__proto__", "ERROR"],
    ]);
    const names = (await targetOwner.client.ok(NAMES, { s: targetWs.slug })).workspace.connections.nodes.map((c: any) => c.name);
    expect(names).not.toContain("fine");
  });
});
