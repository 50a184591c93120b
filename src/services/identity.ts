/**
 * People: sign-up, log-in, and turning a session token back into a user.
 */
import { randomUUID } from "node:crypto";
import type { UserActor } from "../auth/actor";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../auth/passwords";
import { issueSessionToken, verifySessionToken } from "../auth/session-tokens";
import type { Db } from "../db/prisma";
import { BadUserInputError, ConflictError, UnauthenticatedError } from "../errors";
import type { User } from "../generated/prisma/client";
import { isUniqueViolation } from "../db/errors";
import type { HashGate } from "../limits/hash-gate";
import type { SharedLimiter } from "../limits/shared-limiter";
import type { LoginThrottle } from "../auth/login-throttle";
import type { SignUpPolicy } from "../auth/sign-up-policy";
import { addressSubject } from "../net/address-subject";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 1024;

export interface AuthResult {
  token: string;
  user: User;
}

/** What guards sign-up and log-in (README, Security). */
export interface IdentityGuards {
  /** Bounds password hashing in this process; sheds the excess with RATE_LIMITED. */
  hashing: HashGate;
  login: LoginThrottle;
  /** Sign-ups per client address. */
  signUpsPerAddress: SharedLimiter;
  signUp: SignUpPolicy;
}

// Serialises sign-ups while the sign-up policy reads the user count (first account).
const SIGN_UP_LOCK = 7_307_601;

export class IdentityService {
  constructor(
    private readonly db: Db,
    private readonly sessionKey: Buffer,
    private readonly sessionTtlSeconds: number,
    private readonly guards: IdentityGuards,
  ) {}

  async signUp(
    input: { email: string; password: string; name?: string | null; invitationToken?: string | null },
    clientIp: string | null,
  ): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    if (!EMAIL.test(email) || email.length > 254) throw new BadUserInputError("Enter a valid email address.", "email");
    if (input.password.length < MIN_PASSWORD) {
      throw new BadUserInputError(`The password needs at least ${MIN_PASSWORD} characters.`, "password");
    }
    if (input.password.length > MAX_PASSWORD) throw new BadUserInputError("The password is too long.", "password");
    const name = input.name?.trim() || null;
    if (name && name.length > 200) throw new BadUserInputError("The name is too long (200 characters at most).", "name");

    // Refused sign-ups cost no hash: checked once before hashing, and again under the lock.
    await this.guards.signUp.check(this.db, email, input.invitationToken);
    const address = addressSubject(clientIp);
    const pass = this.guards.hashing.admit(address);
    let passwordHash: string;
    try {
      await this.guards.signUpsPerAddress.hit(address);
      passwordHash = await pass.run(() => hashPassword(input.password));
    } finally {
      pass.leave();
    }
    try {
      const user = await this.db.$transaction(async (tx) => {
        if (this.guards.signUp.mode !== "open") await tx.$executeRaw`SELECT pg_advisory_xact_lock(${SIGN_UP_LOCK}::bigint)`;
        await this.guards.signUp.check(tx, email, input.invitationToken);
        return tx.user.create({ data: { id: randomUUID(), email, name, passwordHash } });
      });
      return { user, token: await issueSessionToken(this.sessionKey, user.id, this.sessionTtlSeconds) };
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("An account with this email exists; log in instead.", { field: "email" });
      throw error;
    }
  }

  async logIn(input: { email: string; password: string }, clientIp: string | null): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    const address = addressSubject(clientIp);
    // A place in the hashing queue first: shedding a flood costs no database round trip.
    const pass = this.guards.hashing.admit(address);
    let user: User | null;
    let valid: boolean;
    const candidate = input.password.length <= MAX_PASSWORD ? input.password : "";
    try {
      await this.guards.login.attempt(email, address);
      user = await this.db.user.findUnique({ where: { email } });
      // Hash even for an unknown email, so the answer's timing does not tell which exist.
      valid = await pass.run(() => verifyPassword(candidate, user?.passwordHash ?? DUMMY_PASSWORD_HASH));
    } finally {
      pass.leave();
    }
    if (!user || !valid || candidate === "") throw new UnauthenticatedError("The email or the password is wrong.");
    await this.guards.login.succeeded(email, address);
    return { user, token: await issueSessionToken(this.sessionKey, user.id, this.sessionTtlSeconds) };
  }

  /** The person a session token names, or null when it is invalid, expired or the user is gone. */
  async authenticateSession(token: string): Promise<UserActor | null> {
    const session = await verifySessionToken(this.sessionKey, token);
    if (!session) return null;
    const user = await this.db.user.findUnique({ where: { id: session.userId }, select: { id: true, email: true } });
    return user ? { kind: "USER", userId: user.id, email: user.email } : null;
  }
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
