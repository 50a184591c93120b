/**
 * Resolving a connection by name: the one path where secrets leave the service, for code
 * that will use them. Every resolution is audited and counted as usage.
 *
 * The order of one resolve:
 *   1. the workspace (the token's, or a person's by slug) and the policy's "connection.resolve";
 *   2. the read and its audit event, committed together with those of concurrent resolves
 *      (resolve-batch.ts: group commit; nothing is returned before the commit);
 *   3. usage counted in memory (usage.ts);
 *   4. the post-processors, in order, on the resolved connection (an environment's overrides,
 *      a fresh OAuth2 access token, ...): `ResolvePostProcessor`.
 */
import type { PortableConnection } from "../../airflow/types";
import { actorId, actorLabel } from "../../auth/actor";
import type { Connection, ConnectionOverride } from "../../generated/prisma/client";
import type { Db } from "../../db/prisma";
import type { Sql } from "../../db/sql";
import { BadUserInputError, NotFoundError } from "../../errors";
import type { Caller } from "../../policy/caller";
import { metrics } from "../../observability/metrics";
import type { AccessTokens } from "./access-tokens";
import { adapterFor, type ConnectionDraft, settingsOf } from "./draft";
import { ResolveBatcher, type ResolveBatchOptions } from "./resolve-batch";
import { actorNameOf, actorNames, usageSince } from "./usage";
import type { ConnectionService } from "./service";
import { checkEnvironment, effectiveDraft } from "./override-draft";
import type { OverrideStore } from "./overrides";

/** A connection with its secrets, `extra` holding the secret keys too. */
export type ResolvedConnectionData = PortableConnection;

/** What one resolve asks for beyond the name; post-processors read their own options here. */
export interface ResolveOptions {
  /** The workspace by slug (a person must name it; a token's, if given, must be its own). */
  workspace?: string | null;
  /** Apply that environment's overrides (a token bound to an environment may name only its own). */
  environment?: string | null;
}

/** What a post-processor knows about the resolve it works on. */
export interface ResolveContext {
  caller: Caller;
  workspaceId: string;
  /** The stored row as read (plain columns; its secrets are in `draft`). */
  row: Connection;
  /** The stored connection, secrets opened (after the environment step, with its overrides). */
  draft: ConnectionDraft;
  options: ResolveOptions;
  /** The environment that applies: the one asked for, or the token's (checked). */
  environment: string | null;
  /** That environment's override of the connection, once the environment step found one. */
  override?: ConnectionOverride | null;
}

/**
 * A step applied to every resolved connection after its audit event is committed, in the
 * order registered; it returns the connection to hand on (or throws a public error).
 */
export type ResolvePostProcessor = (resolved: ResolvedConnectionData, context: ResolveContext) => Promise<ResolvedConnectionData> | ResolvedConnectionData;

export interface ConnectionUsageData {
  actorKind: "USER" | "API_TOKEN";
  actorId: string;
  actorName: string;
  count: number;
  lastUsedAt: Date;
}

const USAGE_WINDOW_DAYS = 30;

export class ResolutionService {
  private readonly batcher: ResolveBatcher<ConnectionDraft>;
  private readonly postProcessors: ResolvePostProcessor[] = [];

  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    sql: Sql,
    tokens?: AccessTokens,
    batchOptions?: ResolveBatchOptions,
    overrides?: OverrideStore,
  ) {
    this.batcher = new ResolveBatcher(sql, (row) => connections.storedDraft(row), batchOptions);
    // The environment's overlay comes first, so the steps after it see the environment's values.
    if (overrides) this.use((resolved, context) => inEnvironment(overrides, resolved, context));
    if (tokens) this.use((resolved, context) => handedOut(tokens, resolved, context));
  }

  /** Adds a step every resolve goes through after its audit event is committed. */
  use(step: ResolvePostProcessor): this {
    this.postProcessors.push(step);
    return this;
  }

  /**
   * An API token resolves in its own workspace (a slug, when given, must name it); a person
   * names the workspace by slug. In an environment, its override shows over the connection's
   * values; a token bound to an environment resolves in that one (caller.environment).
   */
  async resolve(caller: Caller, name: string, options: ResolveOptions = {}): Promise<ResolvedConnectionData> {
    try {
      const resolved = await this.resolveAudited(caller, name, options);
      metrics.resolves.inc({ outcome: "ok" });
      return resolved;
    } catch (error) {
      const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
      metrics.resolves.inc({ outcome: typeof code === "string" ? code : "INTERNAL_SERVER_ERROR" });
      throw error;
    }
  }

  private async resolveAudited(caller: Caller, name: string, options: ResolveOptions): Promise<ResolvedConnectionData> {
    const actor = caller.signedIn;
    const environment = caller.environment(options.environment == null ? null : checkEnvironment(options.environment));
    const workspaceId = await this.workspaceFor(caller, options.workspace);
    await caller.authorize(workspaceId, "connection.resolve", "Connection");
    const event = {
      action: "connection.resolve",
      actorKind: actor.kind,
      actorId: actorId(actor),
      actorLabel: actorLabel(actor),
      clientIp: caller.clientIp,
    };
    const inEnv = environment ? { environment } : {};
    let found = await this.batcher.resolve({ workspaceId, name, event, ...(environment ? { details: inEnv } : {}) });
    // A former name still resolves while its alias lives (aliases.ts): a fallback, only for a
    // name that is not found, so resolving by the current name costs nothing more.
    if (!found) {
      const current = await this.connections.aliases.currentName(workspaceId, name);
      if (current) found = await this.batcher.resolve({ workspaceId, name: current, event, details: { viaAlias: name, ...inEnv } });
    }
    if (!found) throw new NotFoundError("Connection");
    // Committed: the audit event is durable. Usage is counted in memory (usage.ts), and a
    // read leaves the connection's row alone.
    this.connections.usage.record(workspaceId, found.row.id, actor, new Date());
    let resolved = resolvedFrom(found.opened);
    const context: ResolveContext = { caller, workspaceId, row: found.row, draft: found.opened, options, environment };
    for (const step of this.postProcessors) resolved = await step(resolved, context);
    return resolved;
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

/**
 * The environment's overlay: one indexed lookup, only when an environment applies. Later
 * steps read the overlaid draft from the context.
 */
async function inEnvironment(overrides: OverrideStore, resolved: ResolvedConnectionData, context: ResolveContext): Promise<ResolvedConnectionData> {
  if (!context.environment) return resolved;
  context.override = await overrides.find(context.workspaceId, context.row.id, context.environment);
  if (!context.override) return resolved;
  context.draft = effectiveDraft(context.draft, await overrides.valuesOf(context.override));
  return resolvedFrom(context.draft);
}

/**
 * What the caller gets for a type that issues tokens (oauth2): a current access token in place
 * of the credentials. Other types pass through.
 */
async function handedOut(tokens: AccessTokens, resolved: ResolvedConnectionData, { caller, row, draft, override }: ResolveContext): Promise<ResolvedConnectionData> {
  const issuer = adapterFor(draft.type).tokens;
  if (!issuer) return resolved;
  // An environment with an override has its own token; one without sees the connection's.
  const token = await tokens.current(caller, row, issuer, override ?? null);
  return { name: draft.name, type: draft.type, description: draft.description, ...issuer.resolved(settingsOf(draft), token) };
}

export function resolvedFrom(draft: ConnectionDraft): ResolvedConnectionData {
  return { name: draft.name, type: draft.type, description: draft.description, ...settingsOf(draft) };
}
