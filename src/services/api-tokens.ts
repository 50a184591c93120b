/**
 * API tokens: created by workspace admins, shown once, stored as a keyed hash, scoped,
 * optionally expiring, revocable. A token acts for its creator: its scopes are capped by the
 * creator's current role (policy.ts), and it stops working when the creator leaves the
 * workspace. Checking one costs an HMAC and two indexed lookups, then nothing while the
 * verified token is cached: a cached token carries its expiry (checked on every use), and
 * revocation, a change to its creator's membership and workspace deletion drop it in every
 * process at once (src/cache/invalidation.ts). The check runs on the pg pool in one statement
 * (the token and its creator's membership), and lastUsedAt is noted in memory and written in
 * the background (token-last-uses.ts), never on the request path.
 */
import { randomUUID } from "node:crypto";
import type { TokenActor } from "../auth/actor";
import { ExpiringCache } from "../cache/expiring-cache";
import type { Invalidation, InvalidationListener } from "../cache/invalidation";
import type { InvalidationBus } from "../cache/invalidation-bus";
import { apiTokenHashesEqual, generateApiToken, hashApiToken, isWellFormedApiToken } from "../auth/api-token-format";
import type { Db } from "../db/prisma";
import type { Sql, Statement } from "../db/sql";
import type { TokenLastUses } from "./token-last-uses";
import { BadUserInputError, NotFoundError } from "../errors";
import type { ApiToken } from "../generated/prisma/client";
import type { Role, TokenScope } from "../generated/prisma/enums";
import type { Caller } from "../policy/caller";
import { recordAudit } from "./audit";
import { checkEnvironment } from "./connections/override-draft";

// lastUsedAt is written at most this often per token, so busy tokens do not write per request.
const LAST_USED_PRECISION_MS = 60_000;

export interface CreateApiTokenInput {
  workspaceId: string;
  name: string;
  scopes: TokenScope[];
  expiresAt?: Date | null;
  /** Bind the token to one environment. */
  environment?: string | null;
}

export interface TokenCacheOptions {
  /** How long a verified token is trusted without asking the database again. */
  ttlMs: number;
  /** Whether invalidations are heard (InvalidationBus.listening); nothing is cached otherwise. */
  storing: () => boolean;
}

/** A verified live token as cached: the actor, its expiry, who made it, when its use was last written. */
interface CachedToken {
  actor: TokenActor;
  expiresAt: number | null;
  createdById: string | null;
  lastUsedWrittenAt: number;
}

const MAX_CACHED_TOKENS = 50_000;

/** The token with this keyed hash and its creator's role in the token's workspace (null: not a member). */
const LOAD: Statement = {
  name: "api-token-check",
  text: `
    SELECT t."id", t."workspaceId", t."name", t."prefix", t."tokenHash", t."scopes"::text[] AS "scopes", t."createdById",
           t."expiresAt", t."lastUsedAt", t."revokedAt", t."environment", m."role"::text AS "creatorRole"
    FROM "ApiToken" t
    LEFT JOIN "Membership" m ON m."workspaceId" = t."workspaceId" AND m."userId" = t."createdById"
    WHERE t."tokenHash" = $1`,
};

interface TokenRow {
  id: string;
  workspaceId: string;
  name: string;
  prefix: string;
  tokenHash: string;
  scopes: TokenScope[];
  createdById: string | null;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  creatorRole: Role | null;
  environment: string | null;
}

export class ApiTokenService implements InvalidationListener {
  /** Keyed by the token's keyed hash, never by the token. */
  private readonly verified: ExpiringCache<string, CachedToken | null>;

  constructor(
    private readonly db: Db,
    private readonly hashKey: Buffer,
    private readonly bus: InvalidationBus,
    cache: TokenCacheOptions,
    private readonly sql: Sql,
    private readonly lastUses: TokenLastUses,
  ) {
    this.verified = new ExpiringCache({ ttlMs: cache.ttlMs, maxEntries: MAX_CACHED_TOKENS, storing: cache.storing });
  }

  invalidate(change: Invalidation): void {
    if (change.kind === "api-token") this.verified.deleteWhere((entry) => entry?.actor.tokenId === change.tokenId);
    else if (change.kind === "workspace") this.verified.deleteWhere((entry) => entry?.actor.workspaceId === change.workspaceId);
    else if (change.kind === "membership") {
      // A token acts for its creator: a change to the creator's membership changes the token.
      this.verified.deleteWhere((entry) => entry?.actor.workspaceId === change.workspaceId && entry.createdById === change.userId);
    }
  }

  reset(): void {
    this.verified.clear();
  }

  async create(caller: Caller, input: CreateApiTokenInput): Promise<{ token: string; apiToken: ApiToken }> {
    await caller.authorize(input.workspaceId, "workspace.admin");
    const person = caller.person;
    const name = input.name.trim();
    if (!name || name.length > 100) throw new BadUserInputError("Give the token a name of 1 to 100 characters.", "name");
    const scopes = [...new Set(input.scopes)];
    if (scopes.length === 0) throw new BadUserInputError("Choose at least one scope.", "scopes");
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now()) {
      throw new BadUserInputError("The expiry must be in the future.", "expiresAt");
    }
    const environment = input.environment == null ? null : checkEnvironment(input.environment);
    const { token, prefix } = generateApiToken();
    const apiToken = await this.db.$transaction(async (tx) => {
      const created = await tx.apiToken.create({
        data: {
          id: randomUUID(),
          workspaceId: input.workspaceId,
          name,
          prefix,
          tokenHash: hashApiToken(this.hashKey, token),
          scopes,
          createdById: person.userId,
          expiresAt: input.expiresAt ?? null,
          environment,
        },
      });
      await recordAudit(tx, caller, {
        workspaceId: input.workspaceId,
        action: "api_token.create",
        targetType: "ApiToken",
        targetId: created.id,
        details: { name, scopes, expiresAt: created.expiresAt?.toISOString() ?? null, environment },
      });
      return created;
    });
    return { token, apiToken };
  }

  async revoke(caller: Caller, id: string): Promise<ApiToken> {
    const existing = await this.db.apiToken.findUnique({ where: { id } });
    if (!existing) throw new NotFoundError("API token");
    await caller.authorize(existing.workspaceId, "workspace.admin", "API token");
    if (existing.revokedAt) return existing;
    return this.bus.transaction(this.db, async (tx, announce) => {
      const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
      await announce({ kind: "api-token", tokenId: id });
      await recordAudit(tx, caller, {
        workspaceId: existing.workspaceId,
        action: "api_token.revoke",
        targetType: "ApiToken",
        targetId: id,
        details: { name: existing.name },
      });
      return revoked;
    });
  }

  async list(caller: Caller, workspaceId: string): Promise<ApiToken[]> {
    await caller.authorize(workspaceId, "workspace.admin");
    const rows = await this.db.apiToken.findMany({ where: { workspaceId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] });
    return rows.map((row) => this.lastUses.applied(row));
  }

  /** list() of several workspaces in one statement; an Error in place of each refused one. */
  async listOf(caller: Caller, workspaceIds: readonly string[]): Promise<Array<ApiToken[] | Error>> {
    const refusals = await caller.authorizeEach(workspaceIds, "workspace.admin");
    const allowed = workspaceIds.filter((_, i) => !refusals[i]);
    const rows = allowed.length
      ? await this.db.apiToken.findMany({ where: { workspaceId: { in: allowed } }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] })
      : [];
    return workspaceIds.map((id, i) => refusals[i] ?? rows.filter((row) => row.workspaceId === id).map((row) => this.lastUses.applied(row)));
  }

  /** The calling API token itself; null for a person. */
  async ofCaller(caller: Caller): Promise<ApiToken | null> {
    const actor = caller.signedIn;
    if (actor.kind !== "API_TOKEN") return null;
    const row = await this.db.apiToken.findUnique({ where: { id: actor.tokenId } });
    return row && this.lastUses.applied(row);
  }

  /** The token's actor, or null for anything that is not a live token. */
  async authenticate(token: string): Promise<TokenActor | null> {
    if (!isWellFormedApiToken(token)) return null;
    const hash = hashApiToken(this.hashKey, token);
    const entry = await this.verified.get(hash, () => this.load(hash), (found) => found !== null);
    if (!entry) return null;
    const now = Date.now();
    if (entry.expiresAt !== null && entry.expiresAt <= now) {
      this.verified.delete(hash);
      return null;
    }
    if (now - entry.lastUsedWrittenAt > LAST_USED_PRECISION_MS) {
      entry.lastUsedWrittenAt = now;
      // Written in the background (token-last-uses.ts): the request does not wait for it.
      this.lastUses.record(entry.actor.tokenId, entry.actor.workspaceId, new Date(now));
    }
    return entry.actor;
  }

  /** The live token with this hash, or null (revoked, expired, unknown). */
  private async load(hash: string): Promise<CachedToken | null> {
    const [row] = await this.sql.rows<TokenRow>(LOAD, [hash]);
    if (!row || !apiTokenHashesEqual(row.tokenHash, hash)) return null;
    if (row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= Date.now())) return null;
    // A token never outlives its creator's membership: removed creator, dead token.
    if (!row.createdById || !row.creatorRole) return null;
    return {
      actor: {
        kind: "API_TOKEN",
        tokenId: row.id,
        workspaceId: row.workspaceId,
        scopes: row.scopes,
        name: row.name,
        prefix: row.prefix,
        createdById: row.createdById,
        creatorRole: row.creatorRole,
        environment: row.environment,
      },
      expiresAt: row.expiresAt?.getTime() ?? null,
      createdById: row.createdById,
      lastUsedWrittenAt: row.lastUsedAt?.getTime() ?? 0,
    };
  }
}
