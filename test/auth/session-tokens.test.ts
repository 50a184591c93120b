import { randomBytes } from "node:crypto";
import { SignJWT, UnsecuredJWT } from "jose";
import { describe, expect, it } from "vitest";
import { issueSessionToken, verifySessionToken } from "../../src/auth/session-tokens";
import { deriveSubkey } from "../../src/crypto/master-key";

const key = deriveSubkey(randomBytes(32), "session-signing");

function sign(claims: { iss?: string; aud?: string; sub?: string; exp?: number; jti?: string }, alg = "HS256", k: Uint8Array = key) {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT({}).setProtectedHeader({ alg }).setIssuedAt(now);
  if (claims.iss) jwt.setIssuer(claims.iss);
  if (claims.aud) jwt.setAudience(claims.aud);
  if (claims.sub) jwt.setSubject(claims.sub);
  if (claims.jti) jwt.setJti(claims.jti);
  if (claims.exp !== undefined) jwt.setExpirationTime(claims.exp);
  return jwt.sign(k);
}

const good = { iss: "patchbay", aud: "patchbay:session", sub: "user_1", jti: "session_1" };
const user1 = { userId: "user_1", sessionId: "session_1" };
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;

describe("session tokens", () => {
  it("round-trips the user id and expiry", async () => {
    const before = Date.now();
    const token = await issueSessionToken(key, user1, 3600);
    const session = await verifySessionToken(key, token);
    expect(session?.userId).toBe("user_1");
    expect(session?.sessionId).toBe("session_1");
    const ms = session!.expiresAt.getTime() - before;
    expect(ms).toBeGreaterThan(3598_000);
    expect(ms).toBeLessThanOrEqual(3600_000);
    expect(JSON.parse(Buffer.from(token.split(".")[0], "base64url").toString())).toMatchObject({ alg: "HS256" });
  });

  it("returns null for an expired token", async () => {
    expect(await verifySessionToken(key, await issueSessionToken(key, user1, -1))).toBeNull();
    expect(await verifySessionToken(key, await issueSessionToken(key, user1, 0))).toBeNull();
  });

  it("returns null for a token signed with another key", async () => {
    const other = deriveSubkey(randomBytes(32), "session-signing");
    expect(await verifySessionToken(key, await issueSessionToken(other, user1, 3600))).toBeNull();
  });

  it('returns null for an alg "none" token', async () => {
    const unsecured = new UnsecuredJWT({})
      .setIssuer("patchbay")
      .setAudience("patchbay:session")
      .setSubject("user_1")
      .setExpirationTime(inAnHour())
      .encode();
    expect(unsecured.endsWith(".")).toBe(true);
    expect(await verifySessionToken(key, unsecured)).toBeNull();
    // Same with a signature segment left in place.
    const real = await issueSessionToken(key, user1, 3600);
    const [, payload, sig] = real.split(".");
    const noneHeader = Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url");
    expect(await verifySessionToken(key, `${noneHeader}.${payload}.${sig}`)).toBeNull();
    expect(await verifySessionToken(key, `${noneHeader}.${payload}.`)).toBeNull();
  });

  it("returns null for another algorithm, issuer or audience, or missing claims", async () => {
    expect(await verifySessionToken(key, await sign({ ...good, exp: inAnHour() }))).not.toBeNull(); // control
    expect(await verifySessionToken(key, await sign({ ...good, exp: inAnHour() }, "HS512"))).toBeNull();
    expect(await verifySessionToken(key, await sign({ ...good, iss: "someone-else", exp: inAnHour() }))).toBeNull();
    expect(await verifySessionToken(key, await sign({ ...good, aud: "patchbay:other", exp: inAnHour() }))).toBeNull();
    expect(await verifySessionToken(key, await sign({ ...good }))).toBeNull(); // no exp
    expect(await verifySessionToken(key, await sign({ ...good, sub: undefined, exp: inAnHour() }))).toBeNull();
    // A token without a session id (as issued before sessions could end) names no session.
    expect(await verifySessionToken(key, await sign({ ...good, jti: undefined, exp: inAnHour() }))).toBeNull();
  });

  it("returns null for tampered and malformed input without throwing", async () => {
    const token = await issueSessionToken(key, user1, 3600);
    const [h, p, s] = token.split(".");
    const otherUser = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, "base64url").toString()), sub: "user_2" }),
    ).toString("base64url");
    const flipped = s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1);
    for (const bad of [`${h}.${otherUser}.${s}`, `${h}.${p}.${flipped}`, "", "a.b.c", "not a jwt", "pbt_x", `${token}.x`]) {
      expect(await verifySessionToken(key, bad)).toBeNull();
    }
    expect(await verifySessionToken(key, undefined as unknown as string)).toBeNull();
    expect(await verifySessionToken(Buffer.alloc(0), token)).toBeNull();
  });
});
