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
import { RateLimiter } from "../limits/rate-limiter";
import { Semaphore } from "../limits/semaphore";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 10;
const MAX_PASSWORD = 1024;

export interface AuthResult {
  token: string;
  user: User;
}

export class IdentityService {
  // Ten wrong passwords a quarter hour per account and client address.
  private readonly loginAttempts = new RateLimiter(10, 15 * 60_000);
  // scrypt takes ~160 ms and 32 MiB on libuv's small thread pool, which DNS lookups for
  // connection tests share: a burst of log-ins queues here instead of starving them.
  private readonly hashing = new Semaphore(2);

  constructor(
    private readonly db: Db,
    private readonly sessionKey: Buffer,
    private readonly sessionTtlSeconds: number,
  ) {}

  async signUp(input: { email: string; password: string; name?: string | null }): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    if (!EMAIL.test(email) || email.length > 254) throw new BadUserInputError("Enter a valid email address.", "email");
    if (input.password.length < MIN_PASSWORD) {
      throw new BadUserInputError(`The password needs at least ${MIN_PASSWORD} characters.`, "password");
    }
    if (input.password.length > MAX_PASSWORD) throw new BadUserInputError("The password is too long.", "password");
    const name = input.name?.trim() || null;
    if (name && name.length > 200) throw new BadUserInputError("The name is too long (200 characters at most).", "name");

    const passwordHash = await this.hashing.run(() => hashPassword(input.password));
    try {
      const user = await this.db.user.create({ data: { id: randomUUID(), email, name, passwordHash } });
      return { user, token: await issueSessionToken(this.sessionKey, user.id, this.sessionTtlSeconds) };
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("An account with this email exists; log in instead.", { field: "email" });
      throw error;
    }
  }

  async logIn(input: { email: string; password: string }, clientIp: string | null): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    const attemptKey = `${email}|${clientIp ?? ""}`;
    this.loginAttempts.hit(attemptKey);
    const user = await this.db.user.findUnique({ where: { email } });
    // Hash even for an unknown email, so the answer's timing does not tell which exist.
    const candidate = input.password.length <= MAX_PASSWORD ? input.password : "";
    const valid = await this.hashing.run(() => verifyPassword(candidate, user?.passwordHash ?? DUMMY_PASSWORD_HASH));
    if (!user || !valid || candidate === "") throw new UnauthenticatedError("The email or the password is wrong.");
    this.loginAttempts.reset(attemptKey);
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
