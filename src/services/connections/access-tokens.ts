/**
 * Access tokens for the connection types that issue them (adapter.tokens: oauth2). Resolving
 * such a connection hands out a current access token instead of the stored credentials:
 *
 * - The token is kept in "AccessToken", sealed with the workspace key (like a connection's
 *   secrets, under its own seal context), so every process and every restart shares it.
 * - It is refreshed proactively, before it expires (REFRESH_MARGIN), and once: concurrent
 *   resolves in a process share one refresh (inFlight), and processes take a PostgreSQL
 *   advisory transaction lock on the connection, then look again before asking the server.
 * - A refresh token the server rotates is written back into the connection's sealed secrets,
 *   sealed the normal way (ConnectionSecrets), so key rotation covers it like any secret.
 * - A failed refresh is recorded as a failed test result of the connection (or of the
 *   environment's override), and the resolve fails with SERVICE_UNAVAILABLE saying why (the
 *   message holds no secret).
 * - Environments: an environment with an override of the connection has its own token (its
 *   own row, seal context, in-process key and advisory lock), granted with what that
 *   environment sees (a client secret or token URL of its own, say); an environment without
 *   one sees the connection itself and shares its token. A refresh token the server rotates
 *   goes back where the environment got it from: its override when the override holds one,
 *   else the connection.
 */
import { randomUUID } from "node:crypto";
import type { AccessToken, TestErrorCode, TokenIssuer } from "../../adapters/types";
import { actorId } from "../../auth/actor";
import { openSecrets, SecretDecryptionError, sealedKeyVersion, sealSecrets } from "../../crypto/sealed-secrets";
import type { Keyring } from "../../crypto/keyring";
import { toBytes } from "../../db/bytes";
import type { Db } from "../../db/prisma";
import { NotFoundError, PublicError } from "../../errors";
import type { Connection, ConnectionOverride } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { recordAudit } from "../audit";
import { type ConnectionDraft, settingsOf } from "./draft";
import { effectiveDraft } from "./override-draft";
import type { OverrideStore } from "./overrides";
import type { ResultActor, ResultTarget } from "./test-results";
import type { ConnectionSecrets } from "./secrets";
import type { TestEnvironment, TestReport } from "./testing";

/** Stores a test result that did not come from a test, with what a status change it makes writes. */
export interface ResultStore {
  storeResult(target: ResultTarget, report: TestReport, actor: ResultActor): Promise<void>;
}

/** Refresh this long before expiry, at most; a short-lived token is refreshed at 80% of its life. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** A token whose answer gave no expiry is used this long, then asked for again. */
const UNDATED_LIFETIME_MS = 5 * 60_000;
/** How long a process waits for another one's refresh before giving up. */
const LOCK_WAIT_MS = 30_000;

interface StoredToken {
  connectionId: string;
  environment: string;
  workspaceId: string;
  connectionVersion: number;
  ciphertext: Uint8Array;
  expiresAt: Date | null;
  refreshAt: Date;
}

/** The refresh failed: the server refused, or could not be reached. Recorded as a test result. */
export class TokenRefreshFailed extends PublicError {
  constructor(code: string, message: string) {
    super(`The access token could not be obtained (${code}): ${message}`, "SERVICE_UNAVAILABLE", { testErrorCode: code });
  }
}

export class AccessTokens {
  private readonly inFlight = new Map<string, Promise<AccessToken>>();
  /** Requests sent to token endpoints by this process (for tests and the log). */
  grantsRequested = 0;

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly secrets: ConnectionSecrets,
    /** How the service reads a row's draft (ConnectionService.storedDraft), so both agree. */
    private readonly draftOf: (row: Connection) => Promise<ConnectionDraft>,
    private readonly environment: TestEnvironment,
    private readonly overrides: OverrideStore,
    /** Where a failed refresh is stored as a test result (ConnectionTestService.storeResult). */
    private readonly results: ResultStore,
  ) {}

  /**
   * A current token for the connection as `override`'s environment sees it (null: the
   * connection's own values): the stored one while fresh, else one refresh shared by every caller.
   */
  async current(caller: Caller, row: Connection, issuer: TokenIssuer, override: ConnectionOverride | null = null): Promise<AccessToken> {
    const environment = override?.environment ?? "";
    const stored = await this.db.accessToken.findFirst({ where: { connectionId: row.id, environment, workspaceId: row.workspaceId } });
    const fresh = stored ? await this.openFresh(stored, row.version) : null;
    if (fresh) return fresh;
    const key = `${row.workspaceId}:${row.id}:${environment}:${row.version}`;
    let refresh = this.inFlight.get(key);
    if (!refresh) {
      refresh = this.refresh(caller, row, issuer, environment).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, refresh);
    }
    return refresh;
  }

  private async refresh(caller: Caller, row: Connection, issuer: TokenIssuer, environment: string): Promise<AccessToken> {
    const timeoutMs = this.environment.timeoutMs;
    let failure: { code: string; message: string } | null = null;
    const token = await this.db.$transaction(
      async (tx) => {
        // The grant is sent while this transaction holds the lock: the pool's statement and
        // idle-in-transaction deadlines (made for single statements) give way to the grant's.
        const hold = Math.ceil(timeoutMs + 5_000);
        await tx.$executeRawUnsafe(`SET LOCAL statement_timeout = ${hold}`);
        await tx.$executeRawUnsafe(`SET LOCAL idle_in_transaction_session_timeout = ${hold}`);
        // One refresh across processes: the second waits here, then finds the first one's token.
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`patchbay:access-token:${tokenKey(row.id, environment)}`}, 0))`;
        const stored = await tx.accessToken.findFirst({ where: { connectionId: row.id, environment, workspaceId: row.workspaceId } });
        const fresh = stored ? await this.openFresh(stored, row.version) : null;
        if (fresh) return fresh;
        // The secrets as they are now: another process may have stored a rotated refresh token.
        const current = await tx.connection.findFirst({ where: { id: row.id, workspaceId: row.workspaceId } });
        if (!current) throw new NotFoundError("Connection");
        const override = environment ? await this.overrides.find(row.workspaceId, row.id, environment, tx) : null;
        const overrideValues = override ? await this.overrides.valuesOf(override) : null;
        const base = await this.draftOf(current);
        const draft = overrideValues ? effectiveDraft(base, overrideValues) : base;
        this.grantsRequested++;
        const signal = AbortSignal.timeout(timeoutMs);
        const grant = await issuer.grant(settingsOf(draft), { signal, timeoutMs, egress: this.environment.egress, sqliteRoot: null });
        if ("code" in grant) {
          failure = grant;
          return null;
        }
        const now = Date.now();
        const lifetime = grant.expiresAt ? grant.expiresAt.getTime() - now : UNDATED_LIFETIME_MS;
        const refreshAt = new Date(now + Math.max(0, lifetime - Math.min(REFRESH_MARGIN_MS, lifetime * 0.2)));
        const accessToken: AccessToken = { accessToken: grant.accessToken, tokenType: grant.tokenType, expiresAt: grant.expiresAt };
        const sealed = await this.seal(row, environment, accessToken);
        const data = { connectionVersion: current.version, ...sealed, expiresAt: grant.expiresAt, refreshAt, obtainedAt: new Date(now) };
        await tx.accessToken.upsert({
          where: { connectionId_environment: { connectionId: row.id, environment } },
          create: { connectionId: row.id, environment, workspaceId: row.workspaceId, ...data },
          update: data,
        });
        if (grant.refreshToken && issuer.rotatedSecret) {
          const field = issuer.rotatedSecret;
          // In place, not a new version: the server rotated it, nobody edited the connection.
          // Where the environment got it from: its override's own, or the connection's.
          if (override && overrideValues && Object.hasOwn(overrideValues.secrets, field)) {
            const next = await this.secrets.seal(row.workspaceId, override.id, { ...overrideValues.secrets, [field]: grant.refreshToken });
            await tx.connectionOverride.updateMany({ where: { id: override.id, workspaceId: row.workspaceId, updatedAt: override.updatedAt }, data: next });
          } else {
            const next = await this.secrets.seal(row.workspaceId, row.id, { ...base.secrets, [field]: grant.refreshToken });
            await tx.connection.updateMany({ where: { id: row.id, workspaceId: row.workspaceId, version: current.version }, data: next });
          }
          await recordAudit(tx, caller, {
            workspaceId: row.workspaceId,
            action: "connection.refresh_token_rotated",
            targetType: "Connection",
            targetId: row.id,
            details: { name: row.name, field, ...(environment ? { environment } : {}) },
          });
        }
        return accessToken;
      },
      { maxWait: LOCK_WAIT_MS, timeout: LOCK_WAIT_MS + timeoutMs },
    );
    if (token) return token;
    const { code, message } = failure ?? { code: "UNKNOWN", message: "The token request failed." };
    // On the environment's override when the token was its own, else on the connection.
    const override = environment ? await this.overrides.find(row.workspaceId, row.id, environment) : null;
    const report = { id: randomUUID(), status: "FAILURE" as const, errorCode: code as TestErrorCode, message: `Refreshing the access token: ${message}`, latencyMs: 0, serverVersion: null, testedAt: new Date() };
    // Like any stored result: a status it changes reaches the webhooks.
    await this.results.storeResult(
      { workspaceId: row.workspaceId, connectionId: row.id, connectionName: row.name, override: override && { id: override.id, environment: override.environment } },
      report,
      { kind: caller.signedIn.kind, id: actorId(caller.signedIn) },
    );
    throw new TokenRefreshFailed(code, message);
  }

  /** The stored token when it belongs to this version of the connection and is not due for refresh. */
  private async openFresh(stored: StoredToken, version: number): Promise<AccessToken | null> {
    if (stored.connectionVersion !== version || stored.refreshAt.getTime() <= Date.now()) return null;
    try {
      const blob = Buffer.from(stored.ciphertext);
      const key = await this.keyring.version(stored.workspaceId, sealedKeyVersion(blob));
      const opened = openSecrets(key, blob, { workspaceId: stored.workspaceId, connectionId: sealContext(stored.connectionId, stored.environment) });
      return { accessToken: opened.access_token, tokenType: opened.token_type, expiresAt: stored.expiresAt };
    } catch (error) {
      // A key retired since: the token is only a cache, so fetch a new one.
      if (error instanceof SecretDecryptionError) return null;
      throw error;
    }
  }

  private async seal(row: Connection, environment: string, token: AccessToken): Promise<{ ciphertext: Uint8Array<ArrayBuffer>; keyVersion: number }> {
    const { version, key } = await this.keyring.current(row.workspaceId);
    const blob = sealSecrets(key, version, { workspaceId: row.workspaceId, connectionId: sealContext(row.id, environment) }, {
      access_token: token.accessToken,
      token_type: token.tokenType,
    });
    return { ciphertext: toBytes(blob), keyVersion: version };
  }
}

/**
 * The seal context of a connection's access token in an environment ("" for its own values):
 * never the same as its secrets'. Key rotation reseals with it (crypto/sealed-columns.ts).
 */
export function sealContext(connectionId: string, environment = ""): string {
  return `${connectionId}#access-token${environment ? `@${environment}` : ""}`;
}

/** The advisory lock's key: the connection's own token keeps the key it always had. */
function tokenKey(connectionId: string, environment: string): string {
  return environment ? `${connectionId}@${environment}` : connectionId;
}
