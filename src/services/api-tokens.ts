/**
 * API tokens: created by workspace admins, shown once, stored as a keyed hash, scoped,
 * optionally expiring, revocable. A token acts for its creator: its scopes are capped by the
 * creator's current role (policy.ts), and it stops working when the creator leaves the
 * workspace. Checking one costs an HMAC and two indexed lookups.
 */
import { randomUUID } from "node:crypto";
import type { TokenActor } from "../auth/actor";
import { apiTokenHashesEqual, generateApiToken, hashApiToken, isWellFormedApiToken } from "../auth/api-token-format";
import type { Db } from "../db/prisma";
import { BadUserInputError, NotFoundError } from "../errors";
import type { ApiToken } from "../generated/prisma/client";
import type { TokenScope } from "../generated/prisma/enums";
import type { Caller } from "../policy/caller";
import { recordAudit } from "./audit";

// lastUsedAt is written at most this often per token, so busy tokens do not write per request.
const LAST_USED_PRECISION_MS = 60_000;

export interface CreateApiTokenInput {
  workspaceId: string;
  name: string;
  scopes: TokenScope[];
  expiresAt?: Date | null;
}

export class ApiTokenService {
  constructor(
    private readonly db: Db,
    private readonly hashKey: Buffer,
  ) {}

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
        },
      });
      await recordAudit(tx, caller, {
        workspaceId: input.workspaceId,
        action: "api_token.create",
        targetType: "ApiToken",
        targetId: created.id,
        details: { name, scopes, expiresAt: created.expiresAt?.toISOString() ?? null },
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
    return this.db.$transaction(async (tx) => {
      const revoked = await tx.apiToken.update({ where: { id }, data: { revokedAt: new Date() } });
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
    return this.db.apiToken.findMany({ where: { workspaceId }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] });
  }

  /** list() of several workspaces in one statement; an Error in place of each refused one. */
  async listOf(caller: Caller, workspaceIds: readonly string[]): Promise<Array<ApiToken[] | Error>> {
    const refusals = await caller.authorizeEach(workspaceIds, "workspace.admin");
    const allowed = workspaceIds.filter((_, i) => !refusals[i]);
    const rows = allowed.length
      ? await this.db.apiToken.findMany({ where: { workspaceId: { in: allowed } }, orderBy: [{ createdAt: "desc" }, { id: "asc" }] })
      : [];
    return workspaceIds.map((id, i) => refusals[i] ?? rows.filter((row) => row.workspaceId === id));
  }

  /** The calling API token itself; null for a person. */
  async ofCaller(caller: Caller): Promise<ApiToken | null> {
    const actor = caller.signedIn;
    if (actor.kind !== "API_TOKEN") return null;
    return this.db.apiToken.findUnique({ where: { id: actor.tokenId } });
  }

  /** The token's actor, or null for anything that is not a live token. */
  async authenticate(token: string): Promise<TokenActor | null> {
    if (!isWellFormedApiToken(token)) return null;
    const hash = hashApiToken(this.hashKey, token);
    const row = await this.db.apiToken.findUnique({ where: { tokenHash: hash } });
    if (!row || !apiTokenHashesEqual(row.tokenHash, hash)) return null;
    const now = Date.now();
    if (row.revokedAt || (row.expiresAt && row.expiresAt.getTime() <= now)) return null;
    // A token never outlives its creator's membership: removed creator, dead token.
    const creator = row.createdById
      ? await this.db.membership.findUnique({
          where: { workspaceId_userId: { workspaceId: row.workspaceId, userId: row.createdById } },
          select: { role: true },
        })
      : null;
    if (!creator || !row.createdById) return null;
    if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > LAST_USED_PRECISION_MS) {
      // Best effort: a lost lastUsedAt update must not fail the request.
      await this.db.apiToken.update({ where: { id: row.id }, data: { lastUsedAt: new Date(now) } }).catch(() => {});
    }
    return {
      kind: "API_TOKEN",
      tokenId: row.id,
      workspaceId: row.workspaceId,
      scopes: row.scopes,
      name: row.name,
      prefix: row.prefix,
      createdById: row.createdById,
      creatorRole: creator.role,
    };
  }
}
