/**
 * Issue 7, "Smaller holes", over HTTP against real servers: log-in throttling per account,
 * per address and for hashing; the client address from the right of X-Forwarded-For; tokens
 * capped by their creator's role; tests and workspaces bounded per person; sign-up modes;
 * and production's egress denials. Each server here is started with the limits it tests.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { silentServer, type FakeServer } from "../adapters/support/fake-servers";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { addMember, createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

const PASSWORD = "correct horse battery";
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`;
const SIGN_UP = `mutation($e: String!, $p: String!, $i: String) { signUp(email: $e, password: $p, invitationToken: $i) { token user { id } } }`;
const TEST_INPUT = `mutation($w: ID!, $i: ConnectionInput!) { testConnectionInput(workspaceId: $w, input: $i) { status errorCode message } }`;

interface RawResponse {
  status: number;
  retryAfter: string | null;
  body: any;
}

/** A GraphQL request with headers of our choosing (X-Forwarded-For), answered raw. */
async function graphql(app: TestApp, query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}): Promise<RawResponse> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, retryAfter: response.headers.get("retry-after"), body: await response.json() };
}

function codeOf(response: RawResponse): string | null {
  return response.body.errors?.[0]?.extensions?.code ?? null;
}

const apps: TestApp[] = [];
async function start(env: Record<string, string>): Promise<TestApp> {
  const app = await startTestApp(env);
  apps.push(app);
  return app;
}

afterAll(async () => {
  for (const app of apps) await app.stop();
});

describe("log-in throttling", () => {
  let app: TestApp;
  let anonymous: GraphQLClient;

  beforeAll(async () => {
    app = await start({
      PATCHBAY_TRUST_PROXY: "1",
      PATCHBAY_LOGIN_FAILURES_PER_ADDRESS: "5",
      PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT: "5",
      // The production defaults of the hash gate (test/support/app.ts relaxes them for other files).
      PATCHBAY_PASSWORD_HASH_QUEUE: "8",
      PATCHBAY_PASSWORD_HASH_PER_ADDRESS: "4",
    });
    anonymous = new GraphQLClient(app.url);
  });

  it("stops one address spraying many accounts, with 429 and Retry-After, and not other addresses", async () => {
    const victims: SignedUp[] = [];
    // One after the other: this server keeps the hash gate's per-address share of 4.
    for (let i = 0; i < 6; i++) victims.push(await signUp(anonymous, "sprayed"));
    const from = { "x-forwarded-for": "198.51.100.10" };
    const answers = [];
    for (const victim of victims) answers.push(await graphql(app, LOG_IN, { e: victim.email, p: "Summer2026!!" }, from));
    expect(answers.slice(0, 5).map(codeOf)).toEqual(Array(5).fill("UNAUTHENTICATED"));
    const limited = answers[5];
    expect(codeOf(limited)).toBe("RATE_LIMITED");
    expect(limited.status).toBe(429);
    const retryAfter = limited.body.errors[0].extensions.retryAfterSeconds;
    expect(retryAfter).toBeGreaterThan(0);
    expect(limited.retryAfter).toBe(String(retryAfter));
    // Another address still logs in.
    const ok = await graphql(app, LOG_IN, { e: victims[5].email, p: PASSWORD }, { "x-forwarded-for": "198.51.100.11" });
    expect(ok.status).toBe(200);
    expect(ok.body.data.logIn.token).toBeTruthy();
  });

  it("locks one account guessed from rotating addresses, the right password included", async () => {
    const target = await signUp(anonymous, "rotated");
    const codes: Array<string | null> = [];
    for (let i = 0; i < 6; i++) {
      codes.push(codeOf(await graphql(app, LOG_IN, { e: target.email, p: `guess ${i} guess` }, { "x-forwarded-for": `203.0.113.${i + 1}` })));
    }
    expect(codes).toEqual([...Array(5).fill("UNAUTHENTICATED"), "RATE_LIMITED"]);
    const right = await graphql(app, LOG_IN, { e: target.email, p: PASSWORD }, { "x-forwarded-for": "203.0.113.99" });
    expect(codeOf(right)).toBe("RATE_LIMITED");
  });

  it("does not let a spoofed left-most X-Forwarded-For entry escape the address limit", async () => {
    const target = await signUp(anonymous, "spoofer-target");
    const codes: Array<string | null> = [];
    for (let i = 0; i < 6; i++) {
      // The client writes anything on the left; the one proxy appends the real address.
      const header = { "x-forwarded-for": `10.9.9.${i}, 192.0.2.77` };
      codes.push(codeOf(await graphql(app, LOG_IN, { e: `nobody-${i}@example.com`, p: "wrong password!!" }, header)));
    }
    expect(codes.at(-1)).toBe("RATE_LIMITED");
    const other = await graphql(app, LOG_IN, { e: target.email, p: PASSWORD }, { "x-forwarded-for": "10.9.9.1, 192.0.2.78" });
    expect(other.body.data?.logIn?.token).toBeTruthy();
  });

  it("counts an IPv6 client by its /64, so rotating through its own addresses does not help", async () => {
    const codes: Array<string | null> = [];
    for (let i = 1; i <= 6; i++) {
      const header = { "x-forwarded-for": `2001:db8:7:7:${i}::${i}` };
      codes.push(codeOf(await graphql(app, LOG_IN, { e: `v6-${i}@example.com`, p: "wrong password!!" }, header)));
    }
    expect(codes).toEqual([...Array(5).fill("UNAUTHENTICATED"), "RATE_LIMITED"]);
    const neighbour = await graphql(app, LOG_IN, { e: "v6-next@example.com", p: "wrong password!!" }, { "x-forwarded-for": "2001:db8:7:8::1" });
    expect(codeOf(neighbour)).toBe("UNAUTHENTICATED");
  });

  it("sheds a burst of 100 concurrent wrong log-ins with RATE_LIMITED and still logs the right person in", async () => {
    const user = await signUp(anonymous, "patient");
    // From 100 addresses, so the per-address limits do not stop them first: only the hash gate does.
    const burst = Array.from({ length: 100 }, (_, i) =>
      graphql(app, LOG_IN, { e: `ghost-${i}@example.com`, p: "wrong password!!" }, { "x-forwarded-for": `100.64.${i >> 8}.${i & 255}` }),
    );
    const legitimate = (async () => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const answer = await graphql(app, LOG_IN, { e: user.email, p: PASSWORD }, { "x-forwarded-for": "192.0.2.200" });
        if (codeOf(answer) !== "RATE_LIMITED") return answer;
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      throw new Error("never admitted");
    })();
    const answers = await Promise.all(burst);
    const codes = answers.map(codeOf);
    expect(codes.every((code) => code === "UNAUTHENTICATED" || code === "RATE_LIMITED")).toBe(true);
    // The gate holds 2 running + 8 waiting by default: most of the burst is shed at once.
    expect(codes.filter((code) => code === "RATE_LIMITED").length).toBeGreaterThan(50);
    expect(answers.filter((a) => codeOf(a) === "RATE_LIMITED").every((a) => a.status === 429 && a.retryAfter === "1")).toBe(true);
    expect((await legitimate).body.data.logIn.token).toBeTruthy();
  });
});

describe("the client address behind proxies", () => {
  const AUDIT = `query($s: String!) { workspace(slug: $s) { auditEvents(first: 1) { nodes { action clientIp } } } }`;

  async function auditedAddress(app: TestApp, forwardedFor: string | null): Promise<string | null> {
    const owner = await signUp(new GraphQLClient(app.url), "proxied");
    const headers: Record<string, string> = { authorization: `Bearer ${owner.token}` };
    if (forwardedFor !== null) headers["x-forwarded-for"] = forwardedFor;
    const slug = `px-${Math.random().toString(16).slice(2, 10)}`;
    const created = await graphql(app, `mutation($s: String!) { createWorkspace(slug: $s, name: "Proxied") { id } }`, { s: slug }, headers);
    expect(created.body.errors).toBeUndefined();
    const audit = await owner.client.ok(AUDIT, { s: slug });
    expect(audit.workspace.auditEvents.nodes[0].action).toBe("workspace.create");
    return audit.workspace.auditEvents.nodes[0].clientIp;
  }

  it("with one trusted proxy, records the right-most X-Forwarded-For entry, not the spoofable left-most", async () => {
    const app = await start({ PATCHBAY_TRUST_PROXY: "1" });
    expect(await auditedAddress(app, "6.6.6.6, 198.51.100.23")).toBe("198.51.100.23");
    expect(await auditedAddress(app, "198.51.100.24")).toBe("198.51.100.24");
  });

  it("with two trusted proxies, skips exactly two", async () => {
    const app = await start({ PATCHBAY_TRUST_PROXY: "2" });
    expect(await auditedAddress(app, "6.6.6.6, 198.51.100.25, 10.0.0.5")).toBe("198.51.100.25");
  });

  it("without a trusted proxy, ignores X-Forwarded-For; a garbage entry falls back to the socket", async () => {
    const plain = await start({});
    expect(await auditedAddress(plain, "198.51.100.26")).toBe("127.0.0.1");
    const proxied = await start({ PATCHBAY_TRUST_PROXY: "1" });
    expect(await auditedAddress(proxied, "198.51.100.27, not-an-address")).toBe("127.0.0.1");
  });
});

describe("tokens act for their creator", () => {
  let app: TestApp;
  let owner: SignedUp;
  let admin: SignedUp;
  let workspace: { id: string; slug: string };

  beforeAll(async () => {
    app = await start({});
    const anonymous = new GraphQLClient(app.url);
    owner = await signUp(anonymous, "owner");
    admin = await signUp(anonymous, "admin");
    workspace = await createWorkspace(owner.client);
    await addMember(owner.client, workspace.id, admin.email, "ADMIN");
  });

  const SET_ROLE = `mutation($w: ID!, $u: ID!, $r: Role!) { setMemberRole(workspaceId: $w, userId: $u, role: $r) { role } }`;
  const RESOLVE = `query($n: String!) { resolveConnection(name: $n) { name } }`;
  const UPDATE = `mutation($id: ID!) { updateConnection(id: $id, patch: { description: "changed by token" }) { description } }`;

  async function rest(token: string, name: string): Promise<number> {
    return (await fetch(`${app.url}/api/v1/connections/${name}`, { headers: { authorization: `Bearer ${token}` } })).status;
  }

  it("an ADMIN's RESOLVE+WRITE token shrinks when the ADMIN is demoted and dies when they are removed", async () => {
    const connection = await createConnection(owner.client, workspace.id);
    const { token } = await createApiToken(admin.client, workspace.id, ["RESOLVE", "WRITE"], "admins-token");
    const byToken = new GraphQLClient(app.url, token);
    expect((await byToken.ok(RESOLVE, { n: connection.name })).resolveConnection.name).toBe(connection.name);
    expect((await byToken.ok(UPDATE, { id: connection.id })).updateConnection.description).toBe("changed by token");

    // MEMBER may resolve but not write: so may the token now.
    await owner.client.ok(SET_ROLE, { w: workspace.id, u: admin.userId, r: "MEMBER" });
    expect((await byToken.ok(RESOLVE, { n: connection.name })).resolveConnection.name).toBe(connection.name);
    expect((await byToken.fails(UPDATE, { id: connection.id })).code).toBe("FORBIDDEN");

    // VIEWER may neither.
    await owner.client.ok(SET_ROLE, { w: workspace.id, u: admin.userId, r: "VIEWER" });
    expect((await byToken.fails(RESOLVE, { n: connection.name })).code).toBe("FORBIDDEN");
    expect(await rest(token, connection.name)).toBe(403);

    // Promoted again, the token's own scopes are back: the cap follows the current role.
    await owner.client.ok(SET_ROLE, { w: workspace.id, u: admin.userId, r: "ADMIN" });
    expect(await rest(token, connection.name)).toBe(200);

    await owner.client.ok(`mutation($w: ID!, $u: ID!) { removeMember(workspaceId: $w, userId: $u) }`, { w: workspace.id, u: admin.userId });
    expect((await byToken.fails(RESOLVE, { n: connection.name })).code).toBe("UNAUTHENTICATED");
    expect(await rest(token, connection.name)).toBe(401);
    // An owner re-issues what is still needed.
    const reissued = await createApiToken(owner.client, workspace.id, ["RESOLVE"], "reissued");
    expect(await rest(reissued.token, connection.name)).toBe(200);
  });
});

describe("connection tests are bounded per person", () => {
  let app: TestApp;
  let hanging: FakeServer;
  let refusedPort: number;

  beforeAll(async () => {
    app = await start({
      PATCHBAY_MAX_CONCURRENT_TESTS: "4",
      PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE: "2",
      PATCHBAY_MAX_CONCURRENT_TESTS_PER_USER: "2",
      PATCHBAY_TEST_TIMEOUT_MS: "8000",
    });
    hanging = await silentServer();
    // A port nothing listens on: the other tenant's quick test is refused at once.
    const probe: Server = createServer();
    refusedPort = await new Promise((resolve) => probe.listen(0, "127.0.0.1", () => resolve((probe.address() as any).port)));
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    await hanging?.close();
  });

  it("one person with five workspaces cannot fill every slot; another tenant's test runs meanwhile", async () => {
    const anonymous = new GraphQLClient(app.url);
    const busy = await signUp(anonymous, "busy");
    const workspaces = await Promise.all([1, 2, 3, 4, 5].map(() => createWorkspace(busy.client)));
    const hang = { name: "draft", type: "postgres", host: "127.0.0.1", port: hanging.port, login: "app", password: "s3cret-Pa55word!" };
    const slow = workspaces.map((w) => busy.client.request(TEST_INPUT, { w: w.id, i: hang }));
    // Wait until the busy person's tests hold their slots.
    for (let i = 0; i < 100 && hanging.accepted() < 2; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(hanging.accepted()).toBe(2);

    const other = await signUp(anonymous, "other");
    const otherWorkspace = await createWorkspace(other.client);
    const quick = { ...hang, port: refusedPort };
    const answer = (await other.client.ok(TEST_INPUT, { w: otherWorkspace.id, i: quick })).testConnectionInput;
    expect(answer.errorCode).toBe("CONNECTION_REFUSED");
    // The busy person still holds no more than their share.
    expect(hanging.accepted()).toBe(2);
    await hanging.close();
    await Promise.all(slow);
  });
});

describe("workspace creation is bounded per person", () => {
  it("caps the workspaces one person owns, under concurrency too, then rate-limits creating", async () => {
    const app = await start({ PATCHBAY_MAX_WORKSPACES_PER_USER: "3", PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR: "6" });
    const person = await signUp(new GraphQLClient(app.url), "creator");
    const CREATE = `mutation($s: String!) { createWorkspace(slug: $s, name: "W") { id } }`;
    const slug = () => `cap-${Math.random().toString(16).slice(2, 10)}`;
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => person.client.request(CREATE, { s: slug() })));
    const codes = answers.map((a) => a.errors?.[0]?.extensions?.code ?? "OK");
    expect(codes.filter((c) => c === "OK")).toHaveLength(3);
    expect(codes.filter((c) => c === "FORBIDDEN")).toHaveLength(2);
    expect((await person.client.fails(CREATE, { s: slug() })).code).toBe("FORBIDDEN");
    const limited = await person.client.fails(CREATE, { s: slug() });
    expect(limited.code).toBe("RATE_LIMITED");
    expect(limited.extensions.retryAfterSeconds).toBeGreaterThan(0);
    // Another person is not affected.
    const other = await signUp(new GraphQLClient(app.url), "other-creator");
    expect((await other.client.ok(CREATE, { s: slug() })).createWorkspace.id).toBeTruthy();
  });
});

describe("sign-up modes", () => {
  const email = (label: string) => `${label}-${Math.random().toString(16).slice(2, 10)}@example.com`;

  it("open (the development default) lets anyone sign up", async () => {
    const app = await start({});
    for (const label of ["a", "b"]) expect((await graphql(app, SIGN_UP, { e: email(label), p: PASSWORD })).body.data.signUp.token).toBeTruthy();
  });

  it("invite (the production default) admits the first account only once, then only invitations", async () => {
    const app = await start({ NODE_ENV: "production" });
    // Five people racing to be first: exactly one is.
    const racing = await Promise.all([1, 2, 3, 4, 5].map((i) => graphql(app, SIGN_UP, { e: email(`first${i}`), p: PASSWORD })));
    expect(racing.filter((r) => r.body.data?.signUp?.token)).toHaveLength(1);
    expect(racing.map(codeOf).filter((c) => c === "FORBIDDEN")).toHaveLength(4);
    const later = await graphql(app, SIGN_UP, { e: email("later"), p: PASSWORD });
    expect(codeOf(later)).toBe("FORBIDDEN");
    expect(later.body.errors[0].message).toMatch(/by invitation/);
    // A made-up token invites nobody (test/api/invitations.test.ts redeems real ones).
    expect(codeOf(await graphql(app, SIGN_UP, { e: email("invited"), p: PASSWORD, i: "inv_made-up" }))).toBe("FORBIDDEN");
  });

  it("closed refuses every sign-up after the first account", async () => {
    const app = await start({ PATCHBAY_SIGNUP: "closed" });
    expect((await graphql(app, SIGN_UP, { e: email("operator"), p: PASSWORD })).body.data.signUp.token).toBeTruthy();
    const refused = await graphql(app, SIGN_UP, { e: email("late"), p: PASSWORD, i: "inv_anything" });
    expect(codeOf(refused)).toBe("FORBIDDEN");
    expect(refused.body.errors[0].message).toMatch(/closed/);
  });

  it("limits sign-ups per address", async () => {
    const app = await start({ PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR: "2" });
    const codes = [];
    for (const label of ["s1", "s2", "s3"]) codes.push(codeOf(await graphql(app, SIGN_UP, { e: email(label), p: PASSWORD })));
    expect(codes).toEqual([null, null, "RATE_LIMITED"]);
  });
});

describe("egress in production", () => {
  let listener: FakeServer;
  let app: TestApp;
  let owner: SignedUp;
  let workspace: { id: string };

  beforeAll(async () => {
    listener = await silentServer();
    // 127.0.0.2 allowed, so this test can also see that the allow list works; the database is on 127.0.0.1.
    app = await start({ NODE_ENV: "production", PATCHBAY_SIGNUP: "open", PATCHBAY_EGRESS_ALLOW: "127.0.0.2/32" });
    owner = await signUp(new GraphQLClient(app.url), "owner");
    workspace = await createWorkspace(owner.client);
  });

  afterAll(async () => {
    await listener?.close();
  });

  it.each(["127.0.0.1", "localhost", "127.1", "::ffff:127.0.0.1"])("denies loopback (%s) and nothing connects", async (host) => {
    const input = { name: "probe", type: "postgres", host, port: listener.port, login: "app", password: "s3cret-Pa55word!" };
    const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
    expect(result).toMatchObject({ status: "FAILURE", errorCode: "EGRESS_DENIED" });
    expect(listener.accepted()).toBe(0);
  });

  it("names Patchbay's own database when a test aims at it", async () => {
    const port = Number(new URL(app.databaseUrl).port);
    const input = { name: "own-db", type: "postgres", host: "127.0.0.1", port, login: "postgres", password: "guess-1234" };
    const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
    expect(result.errorCode).toBe("EGRESS_DENIED");
    expect(result.message).toMatch(/own database/);
  });

  it("lets PATCHBAY_EGRESS_ALLOW lift the denial", async () => {
    const sockets: Socket[] = [];
    const allowed = createServer((socket) => {
      sockets.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => allowed.listen(0, "127.0.0.2", resolve));
    try {
      const port = (allowed.address() as any).port;
      const input = { name: "allowed", type: "postgres", host: "127.0.0.2", port, login: "app", password: "s3cret-Pa55word!" };
      const result = (await owner.client.ok(TEST_INPUT, { w: workspace.id, i: input })).testConnectionInput;
      expect(result.errorCode).not.toBe("EGRESS_DENIED");
      expect(sockets.length).toBe(1);
    } finally {
      await new Promise((resolve) => allowed.close(resolve));
    }
  });
});
