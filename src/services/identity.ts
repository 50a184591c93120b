/**
 * People: sign-up, log-in, sessions (log-out, password change), and turning a session token
 * back into a user. A session token is a signed JWT naming a Session row; the row is checked
 * on every request (cached briefly, invalidated across processes), so ending a session takes
 * effect at once everywhere.
 */
import { randomUUID } from "node:crypto";
import type { UserActor } from "../auth/actor";
import type { InvalidationBus } from "../cache/invalidation-bus";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import { ExpiringCache } from "../cache/expiring-cache";
import type { Caller } from "../policy/caller";
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from "../auth/passwords";
import { issueSessionToken, verifySessionToken } from "../auth/session-tokens";
import type { Db, DbOrTx } from "../db/prisma";
import { type Sql, type Statement, utc } from "../db/sql";
import { BadUserInputError, ConflictError, ForbiddenError, UnauthenticatedError } from "../errors";
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

export interface SessionCacheOptions {
  /** How long a checked session is trusted without asking the database again. */
  ttlMs: number;
  /** Whether invalidations are heard (InvalidationBus.listening); nothing is cached otherwise. */
  storing: () => boolean;
}

interface CachedSession {
  userId: string;
  email: string;
  expiresAt: number;
}

const MAX_CACHED_SESSIONS = 50_000;

/** A session and its user, on the pg pool (the check runs on every request the cache misses). */
const SWEEP_EXPIRED_SESSIONS: Statement = {
  name: "session-sweep-expired",
  text: `DELETE FROM "Session" WHERE "expiresAt" < $1::timestamptz AT TIME ZONE 'UTC' RETURNING 1`,
};

const LOAD_SESSION: Statement = {
  name: "session-check",
  text: `
    SELECT u."id" AS "userId", u."email", s."expiresAt"
    FROM "Session" s JOIN "User" u ON u."id" = s."userId"
    WHERE s."id" = $1`,
};

// Serialises sign-ups while the sign-up policy reads the user count (first account).
const SIGN_UP_LOCK = 7_307_601;

export class IdentityService implements InvalidationListener {
  private readonly sessions: ExpiringCache<string, CachedSession | null>;

  constructor(
    private readonly db: Db,
    private readonly sessionKey: Buffer,
    private readonly sessionTtlSeconds: number,
    private readonly bus: InvalidationBus,
    cache: SessionCacheOptions,
    private readonly guards: IdentityGuards,
    private readonly sql: Sql,
  ) {
    this.sessions = new ExpiringCache({ ttlMs: cache.ttlMs, maxEntries: MAX_CACHED_SESSIONS, storing: cache.storing });
  }

  invalidate(change: Invalidation): void {
    if (change.kind === "session") this.sessions.delete(change.sessionId);
    else if (change.kind === "user-sessions") this.sessions.deleteWhere((session) => session?.userId === change.userId);
  }

  reset(): void {
    this.sessions.clear();
  }

  async signUp(
    input: { email: string; password: string; name?: string | null; invitationToken?: string | null },
    clientIp: string | null,
  ): Promise<AuthResult> {
    const email = normaliseEmail(input.email);
    if (!isEmailAddress(email)) throw new BadUserInputError("Enter a valid email address.", "email");
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
        const created = await tx.user.create({ data: { id: randomUUID(), email, name, passwordHash } });
        await this.guards.signUp.redeem(tx, input.invitationToken, created, clientIp);
        return created;
      });
      return { user, token: await this.startSession(this.db, user.id) };
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
    return { user, token: await this.startSession(this.db, user.id) };
  }

  /** Ends the session that made this request. */
  async logOut(caller: Caller): Promise<boolean> {
    const actor = caller.signedIn;
    if (actor.kind !== "USER") throw new ForbiddenError("An API token has no session to end; revoke the token instead.");
    await this.bus.transaction(this.db, async (tx, announce) => {
      await tx.session.deleteMany({ where: { id: actor.sessionId, userId: actor.userId } });
      await announce({ kind: "session", sessionId: actor.sessionId });
    });
    return true;
  }

  /**
   * Sets a new password after checking the current one, ends every session of this user
   * (the caller's too) and returns a new session for the caller: a stolen token of any
   * session, this one included, stops working.
   */
  async changePassword(caller: Caller, input: { currentPassword: string; newPassword: string }): Promise<AuthResult> {
    const actor = caller.signedIn;
    if (actor.kind !== "USER") throw new ForbiddenError("API tokens cannot change a password; sign in as a person.");
    checkNewPassword(input.newPassword, "newPassword");
    const address = caller.clientIp ?? "unknown";
    // Guessing the current password is guessing a password: the log-in limits apply.
    const pass = this.guards.hashing.admit(address);
    let user: User;
    let passwordHash: string;
    try {
      await this.guards.login.attempt(actor.email, address);
      user = await this.db.user.findUniqueOrThrow({ where: { id: actor.userId } });
      const candidate = input.currentPassword.length <= MAX_PASSWORD ? input.currentPassword : "";
      const valid = await pass.run(() => verifyPassword(candidate, user.passwordHash));
      if (!valid || candidate === "") throw new BadUserInputError("The current password is wrong.", "currentPassword");
      await this.guards.login.succeeded(actor.email, address);
    } finally {
      pass.leave();
    }
    const newPass = this.guards.hashing.admit(address);
    try {
      passwordHash = await newPass.run(() => hashPassword(input.newPassword));
    } finally {
      newPass.leave();
    }
    const token = await this.bus.transaction(this.db, async (tx, announce) => {
      // Compare-and-set: two concurrent changes cannot both succeed from the same old password.
      const { count } = await tx.user.updateMany({ where: { id: user.id, passwordHash: user.passwordHash }, data: { passwordHash } });
      if (count === 0) throw new ConflictError("The password was changed meanwhile; sign in again.");
      await tx.session.deleteMany({ where: { userId: user.id } });
      await announce({ kind: "user-sessions", userId: user.id });
      return this.startSession(tx, user.id);
    });
    return { user: { ...user, passwordHash }, token };
  }

  /**
   * The person a session token names, or null when it is invalid, expired, ended, or the user
   * is gone.
   */
  async authenticateSession(token: string): Promise<UserActor | null> {
    const claims = await verifySessionToken(this.sessionKey, token);
    if (!claims) return null;
    const session = await this.sessions.get(claims.sessionId, () => this.loadSession(claims.sessionId), (found) => found !== null);
    if (!session || session.userId !== claims.userId) return null;
    if (session.expiresAt <= Date.now()) {
      this.sessions.delete(claims.sessionId);
      return null;
    }
    return { kind: "USER", userId: session.userId, email: session.email, sessionId: claims.sessionId };
  }

  /** Deletes sessions that expired; returns how many. */
  async sweepExpiredSessions(): Promise<number> {
    // On the pg pool: the sweep runs at start, and Prisma's engine need not be loaded for it (issue 10, RSS).
    const rows = await this.sql.rows(SWEEP_EXPIRED_SESSIONS, [utc(new Date())]);
    return rows.length;
  }

  private async loadSession(sessionId: string): Promise<CachedSession | null> {
    const [row] = await this.sql.rows<{ userId: string; email: string; expiresAt: Date }>(LOAD_SESSION, [sessionId]);
    return row ? { userId: row.userId, email: row.email, expiresAt: row.expiresAt.getTime() } : null;
  }

  private async startSession(db: DbOrTx, userId: string): Promise<string> {
    const sessionId = randomUUID();
    const expiresAt = new Date(Date.now() + this.sessionTtlSeconds * 1000);
    await db.session.create({ data: { id: sessionId, userId, expiresAt } });
    return issueSessionToken(this.sessionKey, { userId, sessionId }, this.sessionTtlSeconds);
  }
}

function checkNewPassword(password: string, field: string): void {
  if (password.length < MIN_PASSWORD) throw new BadUserInputError(`The password needs at least ${MIN_PASSWORD} characters.`, field);
  if (password.length > MAX_PASSWORD) throw new BadUserInputError("The password is too long.", field);
}

/** An address of the plain form people type (a@b.c), at most 254 characters; give it normalised. */
export function isEmailAddress(email: string): boolean {
  return EMAIL.test(email) && email.length <= 254;
}

export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}
