import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GraphQLClient, responseLog } from "../support/client";
import { CONNECTION_FIELDS, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { findSecrets } from "../support/secrets";
import { startTestApp, type TestApp } from "../support/app";

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
});

afterAll(async () => {
  expect(findSecrets({ responses: responseLog, logs: app.logs })).toEqual([]);
  await app.stop();
});

const CREATE = `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { ${CONNECTION_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!, $v: Int) { updateConnection(id: $id, patch: $patch, expectedVersion: $v) { ${CONNECTION_FIELDS} } }`;
const BY_NAME = `query($slug: String!, $name: String!) { workspace(slug: $slug) { connection(name: $name) { ${CONNECTION_FIELDS} } } }`;

async function countConnections(): Promise<number> {
  const client = new pg.Client({ connectionString: app.databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM "Connection" WHERE "workspaceId" = $1`, [workspace.id]);
    return rows[0].n;
  } finally {
    await client.end();
  }
}

describe("creating connections", () => {
  it("stores the plain fields, hides the secret ones and says which are set", async () => {
    const created = await createConnection(owner.client, workspace.id, {
      name: "warehouse",
      description: "The reporting replica",
      extra: { sslmode: "require" },
    });
    expect(created).toMatchObject({
      name: "warehouse",
      type: "postgres",
      description: "The reporting replica",
      host: "db.example.com",
      port: 5432,
      schema: "analytics",
      login: "reporter",
      extra: { sslmode: "require" },
      secretFields: ["password"],
      version: 1,
      lastUsedAt: null,
    });
    expect(created).not.toHaveProperty("password");

    const read = await owner.client.ok(BY_NAME, { slug: workspace.slug, name: "warehouse" });
    expect(read.workspace.connection).toEqual(created);
  });

  it("refuses a duplicate name with CONFLICT", async () => {
    await createConnection(owner.client, workspace.id, { name: "dupe" });
    const error = await owner.client.fails(CREATE, { w: workspace.id, input: { name: "dupe", type: "postgres", host: "h", login: "u" } });
    expect(error).toMatchObject({ code: "CONFLICT", field: "name" });
  });

  it("lets exactly one of twenty racing creates of one name win", async () => {
    const attempts = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        owner.client.request(CREATE, {
          w: workspace.id,
          input: { name: "contested", type: "postgres", host: `h${i}.example.com`, login: "u", password: "s3cret-Pa55word!" },
        }),
      ),
    );
    const won = attempts.filter((a) => !a.errors);
    const lost = attempts.filter((a) => a.errors);
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(19);
    for (const attempt of lost) expect(attempt.errors![0].extensions!.code).toBe("CONFLICT");
  });

  it.each([
    ["unknown type", { type: "oracle-9i" }, "type"],
    ["bad name", { name: "has space" }, "name"],
    ["name too long", { name: "x".repeat(201) }, "name"],
    ["port zero", { port: 0 }, "port"],
    ["port too high", { port: 70000 }, "port"],
    ["extra an array", { extra: [1, 2] }, "extra"],
    ["extra a string", { extra: "sslmode=require" }, "extra"],
    ["extra over 64 KiB", { extra: { blob: "x".repeat(65 * 1024) } }, "extra"],
    ["socket path as host", { host: "/var/run/postgresql" }, "host"],
    ["missing host", { host: null }, "host"],
  ])("refuses %s with BAD_USER_INPUT on the field and writes nothing", async (_label, override, field) => {
    const before = await countConnections();
    const error = await owner.client.fails(CREATE, {
      w: workspace.id,
      input: { name: "valid_name", type: "postgres", host: "db.example.com", login: "u", password: "s3cret-Pa55word!", ...override },
    });
    expect(error.code).toBe("BAD_USER_INPUT");
    expect(error.field).toBe(field);
    expect(await countConnections()).toBe(before);
  });

  it("reports a non-integer port as BAD_USER_INPUT without echoing the value", async () => {
    const response = await owner.client.request(CREATE, {
      w: workspace.id,
      input: { name: "typed", type: "postgres", host: "h", port: "s3cret-Pa55word!" },
    });
    expect(response.errors![0].extensions!.code).toBe("BAD_USER_INPUT");
    expect(response.raw).not.toContain("s3cret-Pa55word!");
  });
});

describe("updating connections", () => {
  it("keeps omitted fields, clears nulls and bumps the version", async () => {
    const created = await createConnection(owner.client, workspace.id, { description: "old", extra: { sslmode: "require" } });
    const { updateConnection } = await owner.client.ok(UPDATE, {
      id: created.id,
      patch: { description: null, schema: "sales", extra: { application_name: "pb" } },
    });
    expect(updateConnection).toMatchObject({
      description: null,
      schema: "sales",
      host: created.host,
      login: created.login,
      extra: { application_name: "pb" },
      secretFields: ["password"],
      version: 2,
    });
  });

  it("clears the password with null", async () => {
    const created = await createConnection(owner.client, workspace.id);
    const { updateConnection } = await owner.client.ok(UPDATE, { id: created.id, patch: { password: null } });
    expect(updateConnection.secretFields).toEqual([]);
  });

  it("keeps the version when nothing changes", async () => {
    const created = await createConnection(owner.client, workspace.id);
    const { updateConnection } = await owner.client.ok(UPDATE, { id: created.id, patch: { host: created.host } });
    expect(updateConnection.version).toBe(1);
  });

  it("refuses a stale expectedVersion with CONFLICT and changes nothing", async () => {
    const created = await createConnection(owner.client, workspace.id);
    await owner.client.ok(UPDATE, { id: created.id, patch: { schema: "first" }, v: 1 });
    const error = await owner.client.fails(UPDATE, { id: created.id, patch: { schema: "second" }, v: 1 });
    expect(error.code).toBe("CONFLICT");
    expect(error.extensions.currentVersion).toBe(2);
    const read = await owner.client.ok(BY_NAME, { slug: workspace.slug, name: created.name });
    expect(read.workspace.connection.schema).toBe("first");
  });

  it("refuses a rename onto a taken name with CONFLICT", async () => {
    const a = await createConnection(owner.client, workspace.id);
    const b = await createConnection(owner.client, workspace.id);
    const error = await owner.client.fails(UPDATE, { id: b.id, patch: { name: a.name } });
    expect(error).toMatchObject({ code: "CONFLICT", field: "name" });
  });

  it("validates the merged result and writes nothing on bad input", async () => {
    const created = await createConnection(owner.client, workspace.id);
    const error = await owner.client.fails(UPDATE, { id: created.id, patch: { host: null } });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "host" });
    const read = await owner.client.ok(BY_NAME, { slug: workspace.slug, name: created.name });
    expect(read.workspace.connection).toMatchObject({ host: created.host, version: 1 });
  });
});

describe("deleting connections", () => {
  it("removes the connection", async () => {
    const created = await createConnection(owner.client, workspace.id);
    const data = await owner.client.ok(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: created.id });
    expect(data.deleteConnection).toBe(true);
    const read = await owner.client.ok(BY_NAME, { slug: workspace.slug, name: created.name });
    expect(read.workspace.connection).toBeNull();
    const again = await owner.client.fails(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: created.id });
    expect(again.code).toBe("NOT_FOUND");
  });
});

describe("listing connections", () => {
  const LIST = `query($slug: String!, $first: Int, $after: String, $type: String, $search: String) {
    workspace(slug: $slug) {
      connections(first: $first, after: $after, type: $type, search: $search) {
        totalCount pageInfo { hasNextPage endCursor } nodes { name type description lastTest { status } }
      }
    }
  }`;
  let listed: { id: string; slug: string };

  beforeAll(async () => {
    listed = await createWorkspace(owner.client);
    for (let i = 0; i < 12; i++) {
      await createConnection(owner.client, listed.id, {
        name: `db_${String(i).padStart(2, "0")}`,
        type: i % 3 === 0 ? "mysql" : "postgres",
        port: i % 3 === 0 ? 3306 : 5432,
        description: i === 7 ? "The Billing replica" : null,
      });
    }
  });

  it("pages through every connection in name order", async () => {
    const names: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const data: any = await owner.client.ok(LIST, { slug: listed.slug, first: 5, after });
      const page = data.workspace.connections;
      expect(page.totalCount).toBe(12);
      names.push(...page.nodes.map((n: any) => n.name));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
      pages++;
    } while (after);
    expect(pages).toBe(3);
    expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `db_${String(i).padStart(2, "0")}`));
  });

  it("filters by type and searches name and description", async () => {
    const byType = await owner.client.ok(LIST, { slug: listed.slug, type: "mysql" });
    expect(byType.workspace.connections.nodes.map((n: any) => n.name)).toEqual(["db_00", "db_03", "db_06", "db_09"]);
    expect(byType.workspace.connections.totalCount).toBe(4);
    const search = await owner.client.ok(LIST, { slug: listed.slug, search: "billing" });
    expect(search.workspace.connections.nodes.map((n: any) => n.name)).toEqual(["db_07"]);
  });

  it("searches for what was typed: _ and % are characters, not LIKE wildcards", async () => {
    const names = async (search: string) =>
      (await owner.client.ok(LIST, { slug: listed.slug, search })).workspace.connections.nodes.map((n: any) => n.name);
    // As wildcards, "_1" would also match db_01, "db_0_" every db_0x, and "b%r" the Billing replica.
    expect(await names("_1")).toEqual(["db_10", "db_11"]);
    expect(await names("db_0_")).toEqual([]);
    expect(await names("b%r")).toEqual([]);
    expect(await names("\\")).toEqual([]);
  });

  it("refuses a page size out of range and a forged cursor", async () => {
    expect(await owner.client.fails(LIST, { slug: listed.slug, first: 0 })).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect(await owner.client.fails(LIST, { slug: listed.slug, first: 1000 })).toMatchObject({ code: "BAD_USER_INPUT", field: "first" });
    expect(await owner.client.fails(LIST, { slug: listed.slug, after: "not-a-cursor" })).toMatchObject({ code: "BAD_USER_INPUT", field: "after" });
  });
});

describe("query cost", () => {
  it("loads a page of connections with lastTest and the members with users in the same number of statements for 10 and 50 items", async () => {
    const ws = await createWorkspace(owner.client);
    for (let i = 0; i < 50; i++) await createConnection(owner.client, ws.id, { name: `c${String(i).padStart(2, "0")}` });
    const query = `query($slug: String!, $first: Int) { workspace(slug: $slug) {
      members { role user { email } }
      connections(first: $first) { totalCount nodes { name lastTest { status message } } }
    } }`;
    // Warm the caller's session and role caches: a refresh of either inside one window (the
    // cache lifetime passing, a lost LISTEN connection flushing it) is not the page's cost.
    await owner.client.ok(query, { slug: ws.slug, first: 1 });
    const ten = await app.countQueries(() => owner.client.ok(query, { slug: ws.slug, first: 10 }));
    const fifty = await app.countQueries(() => owner.client.ok(query, { slug: ws.slug, first: 50 }));
    expect(ten.result.workspace.connections.nodes).toHaveLength(10);
    expect(fifty.result.workspace.connections.nodes).toHaveLength(50);
    expect(fifty.count).toBe(ten.count);
    expect(ten.count).toBeLessThanOrEqual(10);
  });

  it("loads a page of connections with their test histories in the same number of statements for 10 and 50 items", async () => {
    const ws = await createWorkspace(owner.client);
    const inputs = Array.from({ length: 50 }, (_, i) => ({ name: `h${String(i).padStart(2, "0")}`, type: "generic", host: "h.example.com" }));
    await owner.client.ok(`mutation($w: ID!, $i: [ConnectionInput!]!) { upsertConnections(workspaceId: $w, inputs: $i) { created } }`, { w: ws.id, i: inputs });
    // Three results for every other connection, straight into the table: the query is what is measured.
    const ids = (await app.prisma.connection.findMany({ where: { workspaceId: ws.id }, orderBy: { name: "asc" } })).map((c) => c.id);
    const at = (n: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, n));
    await app.prisma.testResult.createMany({
      data: ids.flatMap((connectionId, i) =>
        i % 2 ? [] : [0, 1, 2].map((n) => ({ id: `${connectionId}-${n}`, workspaceId: ws.id, connectionId, status: "FAILURE" as const, message: `run ${n}`, latencyMs: n, testedAt: at(n), actorKind: "USER" as const, actorId: owner.userId })),
      ),
    });
    const query = `query($slug: String!, $first: Int) { workspace(slug: $slug) {
      connections(first: $first) { nodes { name testResults(first: 2) { message } } }
    } }`;
    // Warm the caller's session and role caches: a refresh of either inside one window (the
    // cache lifetime passing, a lost LISTEN connection flushing it) is not the page's cost.
    await owner.client.ok(query, { slug: ws.slug, first: 1 });
    const ten = await app.countQueries(() => owner.client.ok(query, { slug: ws.slug, first: 10 }));
    const fifty = await app.countQueries(() => owner.client.ok(query, { slug: ws.slug, first: 50 }));
    const nodes = fifty.result.workspace.connections.nodes;
    expect(nodes).toHaveLength(50);
    expect(nodes[0].testResults).toEqual([{ message: "run 2" }, { message: "run 1" }]);
    expect(nodes[1].testResults).toEqual([]);
    expect(fifty.count).toBe(ten.count);
    expect(ten.count).toBeLessThanOrEqual(6);
  });
});

describe("a list of workspaces", () => {
  const PAGE_FIELDS = `totalCount pageInfo { hasNextPage endCursor } nodes { name type }`;

  it("loads every workspace's members, tokens and connections in the same number of statements for 2 and 6 workspaces", async () => {
    const person = await signUp(new GraphQLClient(app.url), "many");
    const query = `{ workspaces { myRole members { role user { email } } apiTokens { id } connections(first: 10) { totalCount nodes { name lastTest { status } } } } }`;
    const counts: number[] = [];
    for (let i = 0; i < 6; i++) {
      const ws = await createWorkspace(person.client);
      await createConnection(person.client, ws.id, { name: `only_${i}` });
      if (i === 1 || i === 5) counts.push((await app.countQueries(() => person.client.ok(query))).count);
    }
    const data = await person.client.ok(query);
    expect(data.workspaces).toHaveLength(6);
    expect(data.workspaces.every((w: any) => w.connections.totalCount === 1 && w.members.length === 1)).toBe(true);
    expect(counts[1]).toBe(counts[0]);
  });

  it("pages each workspace exactly as workspace(slug) does, with filters, cursors and LIKE characters", async () => {
    const person = await signUp(new GraphQLClient(app.url), "pages");
    const slugs: string[] = [];
    for (let w = 0; w < 3; w++) {
      const ws = await createWorkspace(person.client);
      slugs.push(ws.slug);
      const names = ["alpha_db", "alphaXdb", "beta.db", "Gamma", "delta", "epsilon"].slice(w);
      const descriptions = ["Billing DB", "100% uptime", null];
      for (const [i, name] of names.entries()) {
        await createConnection(person.client, ws.id, { name, type: i % 2 ? "mysql" : "postgres", description: descriptions[i % 3] });
      }
    }
    const single = `query($s: String!, $first: Int, $after: String, $type: String, $search: String) { workspace(slug: $s) { connections(first: $first, after: $after, type: $type, search: $search) { ${PAGE_FIELDS} } } }`;
    const listed = `query($first: Int, $after: String, $type: String, $search: String) { workspaces { slug connections(first: $first, after: $after, type: $type, search: $search) { ${PAGE_FIELDS} } } }`;
    const cases: Array<Record<string, unknown>> = [
      { first: 2 },
      { first: 2, after: null, type: "mysql" },
      { search: "_" },
      { search: "%" },
      { search: "billing" },
      { search: "ALPHA", first: 1 },
    ];
    for (const args of cases) {
      const all = (await person.client.ok(listed, args)).workspaces;
      for (const slug of slugs) {
        const one = (await person.client.ok(single, { s: slug, ...args })).workspace.connections;
        expect(all.find((w: any) => w.slug === slug).connections, JSON.stringify(args)).toEqual(one);
      }
    }
    // "_" and "%" are searched for as themselves, not as LIKE wildcards.
    const underscore = (await person.client.ok(single, { s: slugs[0], search: "_" })).workspace.connections.nodes;
    expect(underscore.map((n: any) => n.name)).toEqual(["alpha_db"]);
    const percent = (await person.client.ok(single, { s: slugs[0], search: "%" })).workspace.connections.nodes;
    expect(percent.map((n: any) => n.name)).toEqual(["alphaXdb", "delta"]);
    // The next page from a cursor the list handed out.
    const first = (await person.client.ok(listed, { first: 2 })).workspaces;
    const cursor = first.find((w: any) => w.slug === slugs[0]).connections.pageInfo.endCursor;
    const next = (await person.client.ok(listed, { first: 2, after: cursor })).workspaces;
    const expected = (await person.client.ok(single, { s: slugs[0], first: 2, after: cursor })).workspace.connections;
    expect(next.find((w: any) => w.slug === slugs[0]).connections).toEqual(expected);
    const everything = (await person.client.ok(single, { s: slugs[0], first: 10 })).workspace.connections.nodes.map((n: any) => n.name);
    const firstPage = first.find((w: any) => w.slug === slugs[0]).connections.nodes.map((n: any) => n.name);
    expect([...firstPage, ...expected.nodes.map((n: any) => n.name)]).toEqual(everything.slice(0, 4));
  });
});

describe("credentials in undeclared extras", () => {
  it("seals extra keys named like credentials, keeps the rest plain, and resolves both", async () => {
    const created = await createConnection(owner.client, workspace.id, {
      name: "generic_api",
      type: "generic",
      host: "api.example.com",
      password: null,
      extra: { region: "eu", api_key: "hunter2-extra-secret" },
    });
    expect(created.extra).toEqual({ region: "eu" });
    expect(created.secretFields).toEqual(["extra.api_key"]);
    // Below a credential's key every text value is sealed; a credential given as a number is refused.
    const nested = await createConnection(owner.client, workspace.id, {
      name: "generic_obj",
      type: "generic",
      password: null,
      extra: { keyfile_dict: { private_key: "x", expires_in: 3600 } },
    });
    expect(nested.extra).toEqual({ keyfile_dict: { expires_in: 3600 } });
    expect(nested.secretFields).toEqual(["extra.keyfile_dict.private_key"]);
    const error = await owner.client.fails(CREATE, {
      w: workspace.id,
      input: { name: "generic_num", type: "generic", extra: { token: 12345 } },
    });
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "extra.token" });
  });
});
