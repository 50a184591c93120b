/**
 * The `secret` type: one sealed value and a description, no host. It is created, hidden and
 * resolved like any connection (GraphQL and REST), cannot be tested, and refuses the fields a
 * host-bound type has instead of keeping them beside the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getAdapter, validateSettings } from "../../src/adapters/registry";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { CONNECTION_FIELDS, createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";

const VALUE = "sk_live_\u00e9 \"quoted\" #1 /+&:%";
const secret = getAdapter("secret")!;
const none = { host: null, port: null, schema: null, login: null, password: null, extra: {} };

describe("secret settings", () => {
  it("need the value and nothing else", () => {
    expect(validateSettings(secret, { ...none, password: VALUE })).toEqual([]);
    expect(validateSettings(secret, none)).toEqual([{ field: "password", message: "Secret value is required." }]);
    expect(validateSettings(secret, { ...none, password: VALUE, host: "db.example.com", extra: { token: "x" } }).map((p) => p.field)).toEqual([
      "host",
      "extra.token",
    ]);
  });
});

describe("a secret through the API", () => {
  let app: TestApp;
  let owner: SignedUp;
  let workspace: { id: string; slug: string };
  let created: any;

  beforeAll(async () => {
    app = await startTestApp();
    owner = await signUp(new GraphQLClient(app.url), "owner");
    workspace = await createWorkspace(owner.client);
    const data = await owner.client.ok(
      `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { ${CONNECTION_FIELDS} } }`,
      { w: workspace.id, input: { name: "stripe_api_key", type: "secret", description: "Stripe, live", password: VALUE } },
    );
    created = data.createConnection;
  });

  afterAll(async () => {
    await app?.stop();
  });

  it("is listed with its description and the name of its secret field, never the value", async () => {
    expect(created).toMatchObject({ type: "secret", description: "Stripe, live", host: null, port: null, extra: {}, secretFields: ["password"] });
    const page = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "stripe_api_key") { ${CONNECTION_FIELDS} } } }`, {
      s: workspace.slug,
    });
    expect(page.workspace.connection).toMatchObject({ type: "secret", secretFields: ["password"] });
    expect(JSON.stringify(page)).not.toContain("sk_live");
  });

  it("resolves to its value over GraphQL and REST for a RESOLVE token", async () => {
    const token = (await createApiToken(owner.client, workspace.id, ["RESOLVE"])).token;
    const data = await new GraphQLClient(app.url)
      .as(token)
      .ok(`query { resolveConnection(name: "stripe_api_key") { type description password host airflowJson } }`);
    expect(data.resolveConnection).toMatchObject({ type: "secret", description: "Stripe, live", password: VALUE, host: null });
    expect(data.resolveConnection.airflowJson).toMatchObject({ conn_type: "secret", password: VALUE });
    const rest = await fetch(`${app.url}/api/v1/connections/stripe_api_key`, { headers: { authorization: `Bearer ${token}` } });
    expect(rest.status).toBe(200);
    expect(await rest.json()).toMatchObject({ conn_type: "secret", password: VALUE, description: "Stripe, live" });
  });

  it("refuses a host on create, naming the field, and stores nothing", async () => {
    const error = await owner.client.fails(
      `mutation($w: ID!, $input: ConnectionInput!) { createConnection(workspaceId: $w, input: $input) { id } }`,
      { w: workspace.id, input: { name: "with_host", type: "secret", password: VALUE, host: "db.example.com" } },
    );
    expect(error).toMatchObject({ code: "BAD_USER_INPUT", field: "host" });
    const listed = await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connections(first: 50) { nodes { name } } } }`, { s: workspace.slug });
    expect(JSON.stringify(listed)).not.toContain("with_host");
  });

  it("says it cannot be tested, as a failed result rather than an error", async () => {
    const data = await owner.client.ok(`mutation($id: ID!) { testConnection(id: $id) { status errorCode message } }`, { id: created.id });
    expect(data.testConnection).toEqual({ status: "FAILURE", errorCode: "INVALID_CONFIG", message: "Secret connections cannot be tested." });
  });
});
