/**
 * A stub export (no secrets) imported back over the connections it came from changes nothing:
 * every line UNCHANGED, no new version, the stored secrets kept where they were, key order
 * included, in every format. Two cases used to report UPDATED: a secret nested inside an
 * extra object (kept, but moved to the end of its object), and any http connection (its base
 * path travels inside host in Airflow's form, so where base_path sat among the extras, and an
 * empty scheme, could not survive the round trip).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let owner: SignedUp;

const IMPORT = `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict, $m: Boolean, $d: Boolean) {
  importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o, clearMissingSecrets: $m, dryRun: $d) { applied lines { name outcome message warnings } }
}`;
const EXPORT = `query($w: ID!, $f: ExportFormat!) { exportConnections(workspaceId: $w, format: $f) }`;
const RESOLVE = `query($n: String!, $w: String) { resolveConnection(name: $n, workspace: $w) { host port schema password extra } }`;
const VERSIONS = `query($s: String!) { workspace(slug: $s) { connections(first: 100) { nodes { name version } } } }`;

const FORMATS = ["AIRFLOW_JSON", "AIRFLOW_YAML", "AIRFLOW_ENV"] as const;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
});

afterAll(async () => {
  await app?.stop();
});

async function versions(slug: string): Promise<Record<string, number>> {
  const nodes = (await owner.client.ok(VERSIONS, { s: slug })).workspace.connections.nodes as Array<{ name: string; version: number }>;
  return Object.fromEntries(nodes.map((n) => [n.name, n.version]));
}

async function reimport(ws: { id: string }, format: string, extra: Record<string, unknown> = {}) {
  const stub = (await owner.client.ok(EXPORT, { w: ws.id, f: format })).exportConnections as string;
  const report = (await owner.client.ok(IMPORT, { w: ws.id, f: format, c: stub, o: "OVERWRITE", ...extra })).importConnections;
  return { stub, report };
}

/** The JSON export with api's extra keys in reverse order (extra may be written as an object or as JSON text). */
function reorderedExtra(stub: string): string {
  const file = JSON.parse(stub);
  const asText = typeof file.api.extra === "string";
  const extra = asText ? JSON.parse(file.api.extra) : file.api.extra;
  const reversed = Object.fromEntries(Object.entries(extra).reverse());
  file.api.extra = asText ? JSON.stringify(reversed) : reversed;
  return JSON.stringify(file, null, 4);
}

const resolve = async (name: string, slug: string) => (await owner.client.ok(RESOLVE, { n: name, w: slug })).resolveConnection;

describe("a stub export imported back", () => {
  it("keeps a secret nested in an extra object in its place: UNCHANGED in every format", async () => {
    const ws = await createWorkspace(owner.client);
    await createConnection(owner.client, ws.id, {
      name: "oauth_api",
      type: "generic",
      host: "auth.example.com",
      password: "pw",
      extra: { zz: "1", nested: { a: "x", client_secret: "cs-secret", b: "y" }, aa: "2", deeper: { one: { token: "t-secret", after: "z" } } },
    });
    const before = await versions(ws.slug);
    for (const format of FORMATS) {
      const { stub, report } = await reimport(ws, format);
      expect(stub).not.toContain("cs-secret");
      expect(stub).not.toContain("t-secret");
      expect(report.lines.map((l: any) => [l.name, l.outcome])).toEqual([["oauth_api", "UNCHANGED"]]);
    }
    expect(await versions(ws.slug)).toEqual(before);
    const r = await resolve("oauth_api", ws.slug);
    expect(r.password).toBe("pw");
    expect(JSON.stringify(r.extra)).toBe(
      JSON.stringify({ zz: "1", nested: { a: "x", client_secret: "cs-secret", b: "y" }, aa: "2", deeper: { one: { token: "t-secret", after: "z" } } }),
    );
  });

  it("a changed stub is UPDATED and still puts the nested secret back where it was", async () => {
    const ws = await createWorkspace(owner.client);
    await createConnection(owner.client, ws.id, {
      name: "oauth_api",
      type: "generic",
      host: "auth.example.com",
      extra: { nested: { a: "x", client_secret: "cs-secret", b: "y" }, aa: "2" },
    });
    const stub = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_JSON" })).exportConnections as string;
    const changed = stub.replace("auth.example.com", "auth2.example.com");
    expect(changed).not.toBe(stub);
    const report = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: changed, o: "OVERWRITE" })).importConnections;
    expect(report).toMatchObject({ applied: true, lines: [{ name: "oauth_api", outcome: "UPDATED" }] });
    expect(report.lines[0].warnings.join(" ")).toContain("extra.nested.client_secret");
    const r = await resolve("oauth_api", ws.slug);
    expect(r.host).toBe("auth2.example.com");
    expect(JSON.stringify(r.extra)).toBe(JSON.stringify({ nested: { a: "x", client_secret: "cs-secret", b: "y" }, aa: "2" }));
  });

  it("an http connection (base path and scheme inside host in Airflow's form) is UNCHANGED in every format", async () => {
    const ws = await createWorkspace(owner.client);
    const extra = { base_path: "/v1", auth_type: "bearer", bearer_token: "bt-secret", headers: { Accept: "application/json" }, test_path: "/health" };
    const none = { login: null, password: null };
    await createConnection(owner.client, ws.id, { name: "api", type: "http", host: "api.example.com", schema: "https", port: 8443, ...none, extra });
    // No scheme (read as https) and a base path between other extras.
    await createConnection(owner.client, ws.id, {
      name: "api_plain",
      type: "http",
      host: "plain.example.com",
      schema: null,
      port: null,
      extra: { auth_type: "basic", base_path: "/api", expected_status: "2xx" },
      login: "u",
      password: "p-secret",
    });
    // No base path at all.
    await createConnection(owner.client, ws.id, { name: "api_root", type: "http", host: "root.example.com", schema: "http", port: null, ...none, extra: { verify_tls: false } });
    const before = await versions(ws.slug);
    for (const format of FORMATS) {
      const { stub, report } = await reimport(ws, format);
      expect(stub).not.toContain("bt-secret");
      expect(report.lines.map((l: any) => [l.name, l.outcome])).toEqual([
        ["api", "UNCHANGED"],
        ["api_plain", "UNCHANGED"],
        ["api_root", "UNCHANGED"],
      ]);
    }
    expect(await versions(ws.slug)).toEqual(before);
    const api = await resolve("api", ws.slug);
    expect(api).toMatchObject({ host: "api.example.com", port: 8443, schema: "https" });
    expect(JSON.stringify(api.extra)).toBe(JSON.stringify(extra));
    const plain = await resolve("api_plain", ws.slug);
    expect(plain).toMatchObject({ host: "plain.example.com", schema: null, password: "p-secret" });
    expect(Object.keys(plain.extra)).toEqual(["auth_type", "base_path", "expected_status"]);
  });

  it("what the file does change still counts: a new base path, a new scheme or a reordered extra is UPDATED", async () => {
    const ws = await createWorkspace(owner.client);
    await createConnection(owner.client, ws.id, {
      name: "api",
      type: "http",
      host: "api.example.com",
      schema: null,
      port: null,
      login: null,
      password: null,
      extra: { base_path: "/v1", auth_type: "none", test_path: "/t" },
    });
    const stub = (await owner.client.ok(EXPORT, { w: ws.id, f: "AIRFLOW_JSON" })).exportConnections as string;
    expect(stub).toContain("https://api.example.com/v1");
    for (const changed of [
      stub.replace("https://api.example.com/v1", "https://api.example.com/v2"),
      stub.replace("https://api.example.com/v1", "http://api.example.com/v1"),
      reorderedExtra(stub),
    ]) {
      expect(changed).not.toBe(stub);
      const report = (await owner.client.ok(IMPORT, { w: ws.id, f: "AIRFLOW_JSON", c: changed, o: "OVERWRITE", d: true })).importConnections;
      expect(report.lines[0]).toMatchObject({ name: "api", outcome: "UPDATED" });
    }
  });

  it("with clearMissingSecrets the stub clears them: UPDATED, and the nested secret is gone", async () => {
    const ws = await createWorkspace(owner.client);
    await createConnection(owner.client, ws.id, { name: "oauth_api", type: "generic", host: "h.example.com", extra: { nested: { a: "x", client_secret: "cs-secret" } } });
    const { report } = await reimport(ws, "AIRFLOW_JSON", { m: true });
    expect(report.lines[0]).toMatchObject({ outcome: "UPDATED" });
    expect((await resolve("oauth_api", ws.slug)).extra).toEqual({ nested: { a: "x" } });
  });
});
