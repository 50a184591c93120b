/**
 * DESIGN.md's permission table, row by row, for every role and every token scope: who is
 * allowed, and that everyone else is refused with FORBIDDEN.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient, responseLog } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { freePort } from "../../src/net/free-port";
import { findSecrets } from "../support/secrets";

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
const callers: Record<string, GraphQLClient> = {};
let closedPort: number;

beforeAll(async () => {
  app = await startTestApp();
  const anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "owner");
  workspace = await createWorkspace(owner.client);
  callers.OWNER = owner.client;
  for (const role of ["ADMIN", "MEMBER", "VIEWER"]) {
    const person = await signUp(anonymous, role.toLowerCase());
    await addMember(owner.client, workspace.id, person.email, role);
    callers[role] = person.client;
  }
  for (const scope of ["READ", "TEST", "WRITE", "RESOLVE"]) {
    callers[`token:${scope}`] = anonymous.as((await createApiToken(owner.client, workspace.id, [scope], scope)).token);
  }
  closedPort = await freePort();
});

afterAll(async () => {
  expect(findSecrets({ responses: responseLog, logs: app.logs })).toEqual([]);
  await app.stop();
});

const everyone = ["OWNER", "ADMIN", "MEMBER", "VIEWER", "token:READ", "token:TEST", "token:WRITE", "token:RESOLVE"];

type Operation = (caller: GraphQLClient) => Promise<{ errors?: Array<{ extensions?: Record<string, any> }> }>;

const localTarget = () => ({ host: "127.0.0.1", port: closedPort, login: "u", password: "s3cret-Pa55word!" });

const operations: Record<string, { allowed: string[]; run: Operation }> = {
  "read connection metadata": {
    allowed: ["OWNER", "ADMIN", "MEMBER", "VIEWER", "token:READ"],
    run: (c) => c.request(`query($s: String!) { workspace(slug: $s) { connections { nodes { name lastTest { status } } } } }`, { s: workspace.slug }),
  },
  "test a saved connection": {
    allowed: ["OWNER", "ADMIN", "MEMBER", "token:TEST"],
    run: async (c) => {
      const conn = await createConnection(owner.client, workspace.id, localTarget());
      return c.request(`mutation($id: ID!) { testConnection(id: $id) { status errorCode } }`, { id: conn.id });
    },
  },
  "create a connection": {
    allowed: ["OWNER", "ADMIN", "token:WRITE"],
    run: (c) =>
      c.request(`mutation($w: ID!, $i: ConnectionInput!) { createConnection(workspaceId: $w, input: $i) { id } }`, {
        w: workspace.id,
        i: { name: `made_${Math.random().toString(36).slice(2)}`, type: "postgres", host: "h.example.com", login: "u" },
      }),
  },
  "update a connection": {
    allowed: ["OWNER", "ADMIN", "token:WRITE"],
    run: async (c) => {
      const conn = await createConnection(owner.client, workspace.id);
      return c.request(`mutation($id: ID!) { updateConnection(id: $id, patch: { description: "edited" }) { version } }`, { id: conn.id });
    },
  },
  "delete a connection": {
    allowed: ["OWNER", "ADMIN", "token:WRITE"],
    run: async (c) => {
      const conn = await createConnection(owner.client, workspace.id);
      return c.request(`mutation($id: ID!) { deleteConnection(id: $id) }`, { id: conn.id });
    },
  },
  "test unsaved input": {
    allowed: ["OWNER", "ADMIN", "token:WRITE"],
    run: (c) =>
      c.request(`mutation($w: ID!, $i: ConnectionInput!) { testConnectionInput(workspaceId: $w, input: $i) { status } }`, {
        w: workspace.id,
        i: { name: "draft", type: "postgres", ...localTarget() },
      }),
  },
  "list API tokens": {
    allowed: ["OWNER", "ADMIN"],
    run: (c) => c.request(`query($s: String!) { workspace(slug: $s) { apiTokens { id } } }`, { s: workspace.slug }),
  },
  "create an API token": {
    allowed: ["OWNER", "ADMIN"],
    run: (c) =>
      c.request(`mutation($w: ID!) { createApiToken(workspaceId: $w, name: "x", scopes: [READ]) { apiToken { id } } }`, { w: workspace.id }),
  },
  "revoke an API token": {
    allowed: ["OWNER", "ADMIN"],
    run: async (c) => {
      const { id } = await createApiToken(owner.client, workspace.id, ["READ"]);
      return c.request(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id });
    },
  },
  "read the audit log": {
    allowed: ["OWNER", "ADMIN"],
    run: (c) => c.request(`query($s: String!) { workspace(slug: $s) { auditEvents(first: 5) { nodes { action } } } }`, { s: workspace.slug }),
  },
  "invite a member below OWNER": {
    allowed: ["OWNER", "ADMIN"],
    run: async (c) => {
      const person = await signUp(new GraphQLClient(app.url), "invitee");
      return c.request(`mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: MEMBER) { invitation { role } } }`, {
        w: workspace.id,
        e: person.email,
      });
    },
  },
  "invite an OWNER": {
    allowed: ["OWNER"],
    run: async (c) => {
      const person = await signUp(new GraphQLClient(app.url), "heir");
      return c.request(`mutation($w: ID!, $e: String!) { inviteMember(workspaceId: $w, email: $e, role: OWNER) { invitation { role } } }`, {
        w: workspace.id,
        e: person.email,
      });
    },
  },
  "list invitations": {
    allowed: ["OWNER", "ADMIN"],
    run: (c) => c.request(`query($s: String!) { workspace(slug: $s) { invitations { id } } }`, { s: workspace.slug }),
  },
};

describe.each(Object.entries(operations))("%s", (_name, operation) => {
  it.each(everyone)("as %s", async (who) => {
    const response = await operation.run(callers[who]);
    if (operation.allowed.includes(who)) {
      expect(response.errors, JSON.stringify(response.errors)).toBeUndefined();
    } else {
      expect(response.errors?.[0]?.extensions?.code).toBe("FORBIDDEN");
    }
  });
});

describe("who may not read a secret may not send it somewhere new", () => {
  const UPDATE = `mutation($id: ID!, $patch: ConnectionPatch!) { updateConnection(id: $id, patch: $patch) { host secretFields } }`;
  const TEST = `mutation($id: ID!, $patch: ConnectionPatch) { testConnection(id: $id, patch: $patch) { status errorCode message } }`;

  it("refuses a WRITE-only token repointing a connection that keeps its password", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    for (const patch of [{ host: "attacker.example.net" }, { port: 6543 }, { login: "someone" }, { type: "mysql" }]) {
      const error = await callers["token:WRITE"].fails(UPDATE, { id: conn.id, patch });
      expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "password" });
    }
  });

  it("counts every field that decides where or how protected secrets travel, not only host and port", async () => {
    const s3 = await createConnection(owner.client, workspace.id, {
      type: "s3",
      host: null,
      port: null,
      schema: null,
      login: "AKIAEXAMPLE",
      password: "s3cret-Pa55word!",
      extra: { region_name: "eu-west-1", aws_session_token: "hunter2-extra-secret", bucket: "raw-data" },
    });
    const endpoint = await callers["token:WRITE"].fails(UPDATE, {
      id: s3.id,
      patch: { extra: { region_name: "eu-west-1", bucket: "raw-data", endpoint_url: "http://attacker.example.net" } },
    });
    expect(endpoint.code).toBe("BAD_USER_INPUT");
    expect(["password", "extra.aws_session_token"]).toContain(endpoint.field);
    const tested = await callers["token:WRITE"].ok(TEST, {
      id: s3.id,
      patch: { extra: { region_name: "eu-west-1", bucket: "raw-data", endpoint_url: `http://127.0.0.1:${closedPort}` } },
    });
    expect(tested.testConnection.errorCode).toBe("SECRET_REQUIRED");
    // The bucket is on the same service: changing it needs no secret.
    const bucket = await callers["token:WRITE"].ok(UPDATE, {
      id: s3.id,
      patch: { extra: { region_name: "eu-west-1", bucket: "other-bucket" } },
    });
    expect(bucket.updateConnection.secretFields).toEqual(["extra.aws_session_token", "password"]);

    const http = await createConnection(owner.client, workspace.id, {
      type: "http",
      host: "api.example.com",
      port: null,
      schema: "https",
      login: "svc",
      password: "s3cret-Pa55word!",
      extra: {},
    });
    for (const patch of [{ schema: "http" }, { host: "http://api.example.com" }, { extra: { verify_tls: false } }]) {
      expect((await callers["token:WRITE"].fails(UPDATE, { id: http.id, patch })).code).toBe("BAD_USER_INPUT");
    }
    const pg = await createConnection(owner.client, workspace.id, { extra: { sslmode: "verify-full" } });
    expect((await callers["token:WRITE"].fails(UPDATE, { id: pg.id, patch: { extra: { sslmode: "disable" } } })).field).toBe("password");
  });

  it("lets the WRITE-only token repoint when it supplies the password again", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    const data = await callers["token:WRITE"].ok(UPDATE, { id: conn.id, patch: { host: "new.example.net", password: "rotated-Pa55word#2" } });
    expect(data.updateConnection).toEqual({ host: "new.example.net", secretFields: ["password"] });
  });

  it("lets the WRITE-only token change fields that do not repoint", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    const data = await callers["token:WRITE"].ok(UPDATE, { id: conn.id, patch: { schema: "other_db", description: "fine" } });
    expect(data.updateConnection.secretFields).toEqual(["password"]);
  });

  it("lets an admin, who may resolve, repoint and keep the password", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    const data = await callers.ADMIN.ok(UPDATE, { id: conn.id, patch: { host: "moved.example.net" } });
    expect(data.updateConnection).toEqual({ host: "moved.example.net", secretFields: ["password"] });
  });

  it("answers a WRITE-only token's test of a repointing patch with SECRET_REQUIRED, before any connection", async () => {
    const conn = await createConnection(owner.client, workspace.id);
    const data = await callers["token:WRITE"].ok(TEST, { id: conn.id, patch: { host: "127.0.0.1", port: closedPort } });
    expect(data.testConnection).toMatchObject({ status: "FAILURE", errorCode: "SECRET_REQUIRED" });
    const withPassword = await callers["token:WRITE"].ok(TEST, {
      id: conn.id,
      patch: { host: "127.0.0.1", port: closedPort, password: "rotated-Pa55word#2" },
    });
    expect(withPassword.testConnection.errorCode).toBe("CONNECTION_REFUSED");
  });
});

describe("members", () => {
  it("keeps the last owner: no demotion, no leaving", async () => {
    const ws = await createWorkspace(owner.client);
    const demote = await owner.client.fails(`mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: ADMIN) { role } }`, {
      w: ws.id,
      u: owner.userId,
    });
    expect(demote.code).toBe("CONFLICT");
    const leave = await owner.client.fails(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, { w: ws.id, u: owner.userId });
    expect(leave.code).toBe("CONFLICT");
  });

  it("lets only one of two owners demoting each other at once succeed", async () => {
    const ws = await createWorkspace(owner.client);
    const second = await signUp(new GraphQLClient(app.url), "co-owner");
    await addMember(owner.client, ws.id, second.email, "OWNER");
    const demote = `mutation($w: ID!, $u: ID!) { setMemberRole(workspaceId: $w, userId: $u, role: ADMIN) { role } }`;
    const results = await Promise.all([
      owner.client.request(demote, { w: ws.id, u: second.userId }),
      second.client.request(demote, { w: ws.id, u: owner.userId }),
    ]);
    const errors = results.map((r) => r.errors?.[0]?.extensions?.code ?? null).sort();
    // One demotion wins; the other finds itself the last owner (CONFLICT) or no longer
    // an owner at all (FORBIDDEN), depending on which statement ran first.
    expect(errors[1]).toBeNull();
    expect(["CONFLICT", "FORBIDDEN"]).toContain(errors[0]);
    const members = await owner.client.request(`query($s: String!) { workspace(slug: $s) { members { role } } }`, { s: ws.slug });
    const viaSecond = await second.client.request(`query($s: String!) { workspace(slug: $s) { members { role } } }`, { s: ws.slug });
    const roles = (members.data?.workspace ?? viaSecond.data?.workspace).members.map((m: any) => m.role);
    expect(roles.filter((r: string) => r === "OWNER")).toHaveLength(1);
  });

  it("does not let an admin touch an owner", async () => {
    const error = await callers.ADMIN.fails(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, {
      w: workspace.id,
      u: owner.userId,
    });
    expect(error.code).toBe("FORBIDDEN");
  });

  it("lets a member leave", async () => {
    const person = await signUp(new GraphQLClient(app.url), "leaver");
    await addMember(owner.client, workspace.id, person.email, "VIEWER");
    const data = await person.client.ok(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, {
      w: workspace.id,
      u: person.userId,
    });
    expect(data.removeMember).toBe(true);
    const after = await person.client.ok(`query($s: String!) { workspace(slug: $s) { id } }`, { s: workspace.slug });
    expect(after.workspace).toBeNull();
  });
});
