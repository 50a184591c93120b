/**
 * The egress policy through the API: a server started with PATCHBAY_EGRESS_MODE=strict refuses
 * to test a connection to loopback, and the listener there never sees a connection attempt.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentServer, type FakeServer } from "../adapters/support/fake-servers";
import { respond, startHttpServer } from "../adapters/support/http-servers";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createWorkspace, signUp, type SignedUp } from "../support/factories";

const TEST_INPUT = `mutation($w: ID!, $i: ConnectionInput!) { testConnectionInput(workspaceId: $w, input: $i) { status errorCode message } }`;

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string };
let listener: FakeServer;

beforeAll(async () => {
  app = await startTestApp({
    PATCHBAY_EGRESS_MODE: "strict",
    PATCHBAY_EGRESS_ALLOW: "127.0.0.2/32",
    PATCHBAY_EGRESS_DENY: "198.51.100.0/24",
  });
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  listener = await silentServer();
});

afterAll(async () => {
  await listener?.close();
  await app?.stop();
});

describe("a server in strict egress mode", () => {
  it.each(["127.0.0.1", "127.1", "0x7f000001", "::ffff:127.0.0.1", "localhost"])(
    "answers EGRESS_DENIED for a postgres test to %s, and nothing connects",
    async (host) => {
      const input = { name: "draft", type: "postgres", host, port: listener.port, login: "app", password: "s3cret-Pa55word!" };
      const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
      expect(result).toMatchObject({ status: "FAILURE", errorCode: "EGRESS_DENIED" });
      expect(result.message).toMatch(/loopback address; this server's egress policy does not allow connecting to it/);
      expect(listener.accepted()).toBe(0);
    },
  );

  it("answers EGRESS_DENIED for an http test to a range PATCHBAY_EGRESS_DENY names", async () => {
    const input = { name: "draft", type: "http", host: "198.51.100.7", schema: "http" };
    const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
    expect(result, result.message).toMatchObject({ status: "FAILURE", errorCode: "EGRESS_DENIED" });
  });

  it("tests an address PATCHBAY_EGRESS_ALLOW lets through", async () => {
    const api = await startHttpServer((_req, res) => respond(res, 200, "", { server: "allowed-api" }), { host: "127.0.0.2" });
    try {
      const input = { name: "draft", type: "http", host: "127.0.0.2", port: api.port, schema: "http" };
      const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
      expect(result, result.message).toMatchObject({ status: "SUCCESS", errorCode: null });
      expect(api.connections()).toBe(1);
    } finally {
      await api.close();
    }
  });
});
