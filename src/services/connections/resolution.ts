/**
 * Resolving a connection by name: the one path where secrets leave the service, for code
 * that will use them. Every resolution is audited and counted as usage.
 */
import type { PortableConnection } from "../../airflow/types";
import type { Connection } from "../../generated/prisma/client";
import type { Db } from "../../db/prisma";
import { BadUserInputError, NotFoundError } from "../../errors";
import type { Caller } from "../../policy/caller";
import { metrics } from "../../observability/metrics";
import { recordAudit } from "../audit";
import type { AccessTokens } from "./access-tokens";
import { adapterFor, type ConnectionDraft, settingsOf } from "./draft";
import { actorNameOf, actorNames, usageSince } from "./usage";
import type { ConnectionService } from "./service";

/** A connection with its secrets, `extra` holding the secret keys too. */
export type ResolvedConnectionData = PortableConnection;

export interface ConnectionUsageData {
  actorKind: "USER" | "API_TOKEN";
  actorId: string;
  actorName: string;
  count: number;
  lastUsedAt: Date;
}

const USAGE_WINDOW_DAYS = 30;

export class ResolutionService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly tokens?: AccessTokens,
  ) {}

  /**
   * An API token resolves in its own workspace (a slug, when given, must name it); a person
   * names the workspace by slug.
   */
  async resolve(caller: Caller, name: string, workspaceSlug?: string | null): Promise<ResolvedConnectionData> {
    try {
      const resolved = await this.resolveAudited(caller, name, workspaceSlug);
      metrics.resolves.inc({ outcome: "ok" });
      return resolved;
    } catch (error) {
      const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
      metrics.resolves.inc({ outcome: typeof code === "string" ? code : "INTERNAL_SERVER_ERROR" });
      throw error;
    }
  }

  private async resolveAudited(caller: Caller, name: string, workspaceSlug?: string | null): Promise<ResolvedConnectionData> {
    const actor = caller.signedIn;
    const workspaceId = await this.workspaceFor(caller, workspaceSlug);
    await caller.authorize(workspaceId, "connection.resolve", "Connection");
    let row = await this.db.connection.findUnique({ where: { workspaceId_name: { workspaceId, name } } });
    // A former name still resolves while its alias lives (aliases.ts): a fallback, only for a
    // name that is not found, so resolving by the current name costs nothing more.
    let viaAlias: string | null = null;
    if (!row) {
      const current = await this.connections.aliases.currentName(workspaceId, name);
      if (current) {
        row = await this.db.connection.findUnique({ where: { workspaceId_name: { workspaceId, name: current } } });
        viaAlias = name;
      }
    }
    if (!row) throw new NotFoundError("Connection");
    const draft = await this.connections.storedDraft(row);
    // The audit event is committed before the secret leaves; usage is counted in memory
    // (usage.ts), and a read leaves the connection's row alone.
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "connection.resolve",
      targetType: "Connection",
      targetId: row.id,
      details: viaAlias ? { name: row.name, viaAlias } : { name: row.name },
    });
    this.connections.usage.record(workspaceId, row.id, actor, new Date());
    return this.handedOut(caller, row, draft);
  }

  /**
   * What the caller gets for the stored draft: the draft itself, or for a type that issues
   * tokens (oauth2) a current access token in place of the credentials.
   */
  private async handedOut(caller: Caller, row: Connection, draft: ConnectionDraft): Promise<ResolvedConnectionData> {
    const issuer = adapterFor(draft.type).tokens;
    if (!issuer || !this.tokens) return resolvedFrom(draft);
    const token = await this.tokens.current(caller, row, issuer);
    return { name: draft.name, type: draft.type, description: draft.description, ...issuer.resolved(settingsOf(draft), token) };
  }

  /** Usage over the last 30 days for each connection, in one query per batch. */
  async usageOf(connections: readonly Pick<Connection, "id">[]): Promise<ConnectionUsageData[][]> {
    const rows = await usageSince(this.db, this.connections.usage, connections.map((c) => c.id), USAGE_WINDOW_DAYS);
    const names = await actorNames(this.db, rows);
    return connections.map((c) =>
      rows
        .filter((r) => r.connectionId === c.id)
        .map((r) => ({ actorKind: r.actorKind, actorId: r.actorId, actorName: actorNameOf(names, r), count: r.count, lastUsedAt: r.lastUsedAt })),
    );
  }

  private async workspaceFor(caller: Caller, slug?: string | null): Promise<string> {
    const actor = caller.signedIn;
    if (actor.kind === "API_TOKEN" && !slug) return actor.workspaceId;
    if (!slug) throw new BadUserInputError("Name the workspace by its slug.", "workspace");
    const workspace = await this.db.workspace.findUnique({ where: { slug }, select: { id: true } });
    if (!workspace || !(await caller.canSee(workspace.id))) throw new NotFoundError("Connection");
    return workspace.id;
  }
}

export function resolvedFrom(draft: ConnectionDraft): ResolvedConnectionData {
  return { name: draft.name, type: draft.type, description: draft.description, ...settingsOf(draft) };
}
