/**
 * Sessions end when people say so: logOut ends the session that asked, changePassword ends
 * every session of the user (the caller gets a new one). Over real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createWorkspace, signUp } from "../support/factories";

const PASSWORD = "correct horse battery";
const LOG_IN = `mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { id } } }`;
const CHANGE = `mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) { token user { id email } } }`;
const ME = `{ viewer { user { id } } }`;

let app: TestApp;
let anonymous: GraphQLClient;

beforeAll(async () => {
  app = await startTestApp();
  anonymous = new GraphQLClient(app.url);
});

afterAll(async () => {
  await app?.stop();
});

async function logIn(email: string, password = PASSWORD): Promise<GraphQLClient> {
  const data = await anonymous.ok(LOG_IN, { e: email, p: password });
  return anonymous.as(data.logIn.token);
}

describe("logOut", () => {
  it("ends the session that made the request, and only that one", async () => {
    const person = await signUp(anonymous, "logout");
    const laptop = await logIn(person.email);
    const phone = await logIn(person.email);
    // Warm every cache first, so the test shows invalidation and not a cold lookup.
    for (const client of [person.client, laptop, phone]) expect((await client.ok(ME)).viewer.user.id).toBe(person.userId);

    expect(await laptop.ok(`mutation { logOut }`)).toEqual({ logOut: true });

    const refused = await laptop.request(ME);
    expect(refused.status).toBe(401);
    expect(refused.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    expect((await phone.ok(ME)).viewer.user.id).toBe(person.userId);
    expect((await person.client.ok(ME)).viewer.user.id).toBe(person.userId);
    // Logging out twice is refused like any ended session.
    expect((await laptop.fails(`mutation { logOut }`)).code).toBe("UNAUTHENTICATED");
  });

  it("is for people: an API token has no session to end", async () => {
    const owner = await signUp(anonymous, "logout-token");
    const workspace = await createWorkspace(owner.client);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ"]);
    expect((await anonymous.as(token).fails(`mutation { logOut }`)).code).toBe("FORBIDDEN");
    expect((await anonymous.fails(`mutation { logOut }`)).code).toBe("UNAUTHENTICATED");
  });

  it("a session token stays bound to its session: a forged token for a live user without a session id is refused", async () => {
    const person = await signUp(anonymous, "forged");
    const [header, payload, signature] = person.token.split(".");
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString());
    expect(typeof claims.jti).toBe("string");
    const tampered = Buffer.from(JSON.stringify({ ...claims, jti: "another-session" })).toString("base64url");
    expect((await anonymous.as(`${header}.${tampered}.${signature}`).fails(ME)).code).toBe("UNAUTHENTICATED");
  });
});

describe("changePassword", () => {
  it("ends every session of the user, the caller's included, and returns a new one", async () => {
    const person = await signUp(anonymous, "change");
    const other = await logIn(person.email);
    for (const client of [person.client, other]) await client.ok(ME);

    const data = await person.client.ok(CHANGE, { c: PASSWORD, n: "a much better passphrase" });
    expect(data.changePassword.user).toEqual({ id: person.userId, email: person.email });
    const fresh = anonymous.as(data.changePassword.token);

    expect((await fresh.ok(ME)).viewer.user.id).toBe(person.userId);
    for (const ended of [person.client, other]) {
      const response = await ended.request(ME);
      expect(response.status).toBe(401);
      expect(response.errors?.[0].extensions?.code).toBe("UNAUTHENTICATED");
    }
    expect((await anonymous.fails(LOG_IN, { e: person.email, p: PASSWORD })).code).toBe("UNAUTHENTICATED");
    expect((await logIn(person.email, "a much better passphrase")).token).toBeTruthy();
  });

  it("refuses a wrong current password or a too short new one, and changes nothing", async () => {
    const person = await signUp(anonymous, "change-bad");
    const wrong = await person.client.fails(CHANGE, { c: "not my password", n: "a much better passphrase" });
    expect(wrong).toMatchObject({ code: "BAD_USER_INPUT", field: "currentPassword" });
    const short = await person.client.fails(CHANGE, { c: PASSWORD, n: "short" });
    expect(short).toMatchObject({ code: "BAD_USER_INPUT", field: "newPassword" });
    // Nothing ended and the old password still works.
    expect((await person.client.ok(ME)).viewer.user.id).toBe(person.userId);
    await logIn(person.email);
  });

  it("is for a signed-in person", async () => {
    expect((await anonymous.fails(CHANGE, { c: PASSWORD, n: "a much better passphrase" })).code).toBe("UNAUTHENTICATED");
    const owner = await signUp(anonymous, "change-token");
    const workspace = await createWorkspace(owner.client);
    const { token } = await createApiToken(owner.client, workspace.id, ["READ", "WRITE"]);
    expect((await anonymous.as(token).fails(CHANGE, { c: PASSWORD, n: "a much better passphrase" })).code).toBe("FORBIDDEN");
  });

  it("never writes either password to the log", async () => {
    const person = await signUp(anonymous, "change-log");
    await person.client.ok(CHANGE, { c: PASSWORD, n: "log-me-not passphrase" });
    const log = app.logs.join("\n");
    expect(log).not.toContain("log-me-not passphrase");
  });
});
