/**
 * Session tokens: short JWTs signed with jose, HS256, keyed with the "session-signing"
 * subkey, so the master key itself is never an HMAC key. The token names its session (`jti`):
 * a signature alone cannot be taken back, so the session row must also still exist
 * (IdentityService), which is what lets logOut and changePassword end sessions.
 * Verification pins the algorithm, issuer and audience (no `alg: none`, no token minted for
 * another purpose) and never throws: any failure is null, which the auth layer treats as
 * "not signed in".
 */
import { SignJWT, jwtVerify } from "jose";

export const SESSION_ISSUER = "patchbay";
export const SESSION_AUDIENCE = "patchbay:session";
const ALG = "HS256";
const MIN_KEY_BYTES = 32;

export interface SessionClaims {
  userId: string;
  sessionId: string;
}

export async function issueSessionToken(signingKey: Buffer, session: SessionClaims, ttlSeconds: number): Promise<string> {
  if (signingKey.length < MIN_KEY_BYTES) throw new RangeError(`The session signing key must be at least ${MIN_KEY_BYTES} bytes.`);
  if (!session.userId) throw new RangeError("A session needs a user id.");
  if (!session.sessionId) throw new RangeError("A session needs a session id.");
  if (!Number.isFinite(ttlSeconds)) throw new RangeError("ttlSeconds must be a finite number.");
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg: ALG, typ: "JWT" })
    .setIssuer(SESSION_ISSUER)
    .setAudience(SESSION_AUDIENCE)
    .setSubject(session.userId)
    .setJti(session.sessionId)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.floor(ttlSeconds))
    .sign(signingKey);
}

export async function verifySessionToken(
  signingKey: Buffer,
  token: string,
): Promise<(SessionClaims & { expiresAt: Date }) | null> {
  try {
    if (typeof token !== "string" || token.length > 4096 || signingKey.length < MIN_KEY_BYTES) return null;
    const { payload } = await jwtVerify(token, signingKey, {
      algorithms: [ALG],
      issuer: SESSION_ISSUER,
      audience: SESSION_AUDIENCE,
      requiredClaims: ["sub", "exp", "jti"],
    });
    if (typeof payload.sub !== "string" || payload.sub === "" || typeof payload.exp !== "number") return null;
    if (typeof payload.jti !== "string" || payload.jti === "" || payload.jti.length > 100) return null;
    return { userId: payload.sub, sessionId: payload.jti, expiresAt: new Date(payload.exp * 1000) };
  } catch {
    return null;
  }
}
