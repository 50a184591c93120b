/**
 * Bringing a workspace's connections to a described state in one transaction: the engine
 * behind upsertConnections (sync from a team's own secret manager) and importConnections.
 * A described connection is complete: what it leaves out is empty, so applying the same
 * description twice changes nothing and keeps every version.
 */
import { randomUUID } from "node:crypto";
import type { Db, DbOrTx } from "../../db/prisma";
import { isUniqueViolation } from "../../db/errors";
import { BadUserInputError, ConflictError } from "../../errors";
import type { Connection } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { type AuditEntry, recordAudits } from "../audit";
import { changesDestination, getAdapter } from "../../adapters/registry";
import { emptyObject } from "../../input/json";
import { assertValid, type ConnectionDraft, type ConnectionInputData, draftFromInput, sameDraft, settingsOf } from "./draft";
import { fieldOf, isAllowedSecretField, isSealedMarker, type JsonObject } from "./extra-secrets";
import type { ConnectionStore } from "./store";
import { sameInAirflow } from "./airflow-equivalence";
import type { ConnectionService } from "./service";

export type SyncOutcome = "CREATED" | "UPDATED" | "UNCHANGED";

/** The most connections one upsert or import may carry. */
export const MAX_BATCH = 1000;

export interface UpsertReport {
  created: number;
  updated: number;
  unchanged: number;
  connections: Connection[];
}

/** Runs `build`, re-labelling a BAD_USER_INPUT's field as `<prefix>.<field>`. */
export function withFieldPrefix<T>(prefix: string, build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof BadUserInputError) throw new BadUserInputError(error.message, `${prefix}.${error.field}`);
    throw error;
  }
}

export interface SyncPlanItem {
  draft: ConnectionDraft;
  existing: Connection | null;
  /** The existing connection's state, secrets opened. */
  stored: ConnectionDraft | null;
  outcome: SyncOutcome;
  /** For a name to create: the live alias that holds it (aliases.ts), which refuses it. */
  heldBy: AliasHolder | null;
  /** Stored secrets the description left out and the plan keeps (keepMissingSecrets). */
  keptSecrets: string[];
  /** The description points the connection somewhere new (type, host, port, login, ...). */
  repointed: boolean;
}

export interface PlanOptions {
  /**
   * A secret the description leaves out keeps its stored value (a stub export imported back),
   * instead of being cleared. Default false: a described connection is complete.
   */
  keepMissingSecrets?: boolean;
  /**
   * The descriptions were read from an Airflow file: one whose Airflow form equals the stored
   * connection's is UNCHANGED and keeps the stored state (airflow-equivalence.ts), so a file
   * exported and imported back changes nothing even where the file cannot say everything.
   */
  fromAirflowFile?: boolean;
}

export interface ApplyOptions {
  /** Runs first in the transaction (a staged import claims its session there, so it commits once). */
  first?: (tx: DbOrTx) => Promise<void>;
  /** The whole transaction's deadline, when a large plan needs more than Prisma's default 5 s. */
  timeoutMs?: number;
}

export interface AliasHolder {
  /** The current name of the connection the alias belongs to. */
  of: string;
  expiresAt: Date;
}

/** Why a name held by an alias cannot be created. */
export function heldMessage(name: string, holder: AliasHolder): string {
  return `${name} is a former name of ${holder.of}, kept as an alias until ${holder.expiresAt.toISOString()}; it cannot be taken until then.`;
}

export class ConnectionSync {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly store: ConnectionStore,
  ) {}

  /** upsertConnections: idempotent by name, all or nothing. */
  async upsert(caller: Caller, workspaceId: string, inputs: ConnectionInputData[]): Promise<UpsertReport> {
    await caller.authorize(workspaceId, "connection.write");
    if (inputs.length > MAX_BATCH) throw new BadUserInputError(`Send at most ${MAX_BATCH} connections at once.`, "inputs");
    const seen = new Set<string>();
    const drafts = inputs.map((input, index) => {
      const draft = withFieldPrefix(`inputs.${index}`, () => {
        const d = draftFromInput(input);
        assertValid(d);
        return d;
      });
      if (seen.has(draft.name)) throw new BadUserInputError(`${draft.name} appears twice.`, `inputs.${index}.name`);
      seen.add(draft.name);
      return draft;
    });
    const plan = await this.plan(workspaceId, drafts);
    plan.forEach((item, index) => {
      if (item.heldBy) throw new ConflictError(heldMessage(item.draft.name, item.heldBy), { field: `inputs.${index}.name` });
    });
    const connections = await this.apply(caller, workspaceId, plan, "connection.upsert");
    const count = (outcome: SyncOutcome) => plan.filter((p) => p.outcome === outcome).length;
    return { created: count("CREATED"), updated: count("UPDATED"), unchanged: count("UNCHANGED"), connections };
  }

  /** What applying these drafts would do, without writing. */
  async plan(workspaceId: string, drafts: ConnectionDraft[], options: PlanOptions = {}): Promise<SyncPlanItem[]> {
    const existing = await this.db.connection.findMany({ where: { workspaceId, name: { in: drafts.map((d) => d.name) } } });
    const byName = new Map(existing.map((c) => [c.name, c]));
    const held = await this.connections.aliases.holders(
      workspaceId,
      drafts.filter((d) => !byName.has(d.name)).map((d) => d.name),
    );
    return Promise.all(
      drafts.map(async (described) => {
        const row = byName.get(described.name) ?? null;
        if (!row) {
          return { draft: described, existing: null, stored: null, outcome: "CREATED" as const, heldBy: held.get(described.name) ?? null, keptSecrets: [], repointed: false };
        }
        const stored = await this.connections.storedDraft(row);
        const { draft, keptSecrets } = options.keepMissingSecrets ? withStoredSecrets(described, stored) : { draft: described, keptSecrets: [] };
        const adapter = getAdapter(draft.type);
        const repointed = draft.type !== stored.type || (adapter ? changesDestination(adapter, settingsOf(stored), settingsOf(draft)) : true);
        const outcome = sameDraft(stored, draft) ? ("UNCHANGED" as const) : ("UPDATED" as const);
        if (outcome === "UPDATED" && options.fromAirflowFile && sameInAirflow(stored, described, { keepMissingSecrets: Boolean(options.keepMissingSecrets) })) {
          return { draft: stored, existing: row, stored, outcome: "UNCHANGED" as const, heldBy: null, keptSecrets, repointed: false };
        }
        return { draft, existing: row, stored, outcome, heldBy: null, keptSecrets, repointed };
      }),
    );
  }

  /**
   * Writes a plan in one transaction; returns the connections as stored. A row changed since
   * it was planned, or a name taken meanwhile, fails the whole plan with CONFLICT.
   */
  async apply(caller: Caller, workspaceId: string, plan: SyncPlanItem[], action: "connection.upsert" | "connection.import", options: ApplyOptions = {}): Promise<Connection[]> {
    const versionAction = action === "connection.upsert" ? "upsert" : "import";
    // The connections' overrides stay as they are; their versions record them too (one statement).
    const updated = plan.flatMap((item) => (item.outcome !== "UNCHANGED" && item.existing ? [item.existing] : []));
    const overridesOf = new Map((await this.connections.storedOverridesOf(updated)).map((list, i) => [updated[i].id, list]));
    const prepared = await Promise.all(
      plan.map(async (item) => {
        if (item.outcome === "UNCHANGED") return { item, change: null };
        const previous = item.existing ? { row: item.existing, draft: item.stored!, overrides: overridesOf.get(item.existing.id)! } : null;
        const id = item.existing?.id ?? randomUUID();
        return { item, change: await this.store.prepare({ workspaceId, id, draft: item.draft, previous, action: versionAction }) };
      }),
    );
    const changes = prepared.flatMap((p) => (p.change ? [p.change] : []));
    try {
      return await this.db.$transaction(async (tx) => {
        if (options.first) await options.first(tx);
        const written = await this.store.write(tx, caller, changes);
        const byId = new Map(written.map((row) => [row.id, row]));
        const audits: AuditEntry[] = changes.map((change) => ({
          workspaceId,
          action,
          targetType: "Connection",
          targetId: change.id,
          details: {
            name: change.draft.name,
            type: change.draft.type,
            outcome: change.previous ? "UPDATED" : "CREATED",
            version: change.version,
            secretFields: change.sealed.secretFields,
          },
        }));
        await recordAudits(tx, caller, audits);
        return prepared.map((p) => (p.change ? byId.get(p.change.id)! : p.item.existing!));
      }, options.timeoutMs ? { timeout: options.timeoutMs } : undefined);
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("A connection of the same name was created meanwhile; nothing was written.");
      const name = error instanceof ConflictError ? error.extensions.name : undefined;
      if (typeof name === "string") throw new ConflictError(`${name} changed meanwhile; nothing was written.`, { name });
      throw error;
    }
  }
}

/** The described draft with the stored secrets it leaves out (and its type may hold) added back. */
function withStoredSecrets(described: ConnectionDraft, stored: ConnectionDraft): { draft: ConnectionDraft; keptSecrets: string[] } {
  const adapter = getAdapter(described.type);
  const secrets = { ...described.secrets };
  const keptSecrets: string[] = [];
  for (const [field, value] of Object.entries(stored.secrets)) {
    if (Object.hasOwn(secrets, field) || !adapter || !isAllowedSecretField(adapter, field)) continue;
    secrets[field] = value;
    keptSecrets.push(field);
  }
  return { draft: { ...described, secrets, extra: withKeptMarkers(described.extra, stored.extra, new Set(keptSecrets)) }, keptSecrets: keptSecrets.sort() };
}

/**
 * The described extra with a marker for each kept secret where the stored extra had it, at any
 * depth: after the nearest key before it that the described extra also has (or first), so a
 * stub imported back is UNCHANGED and the order stays.
 */
function withKeptMarkers(described: JsonObject, stored: JsonObject, kept: Set<string>, path: string[] = []): JsonObject {
  const isKeptMarker = (key: string) => isSealedMarker(stored[key]) && kept.has(fieldOf([...path, key])) && !Object.hasOwn(described, key);
  // Each kept marker goes after its anchor: the nearest stored key before it that stays.
  const after = new Map<string | null, string[]>();
  let anchor: string | null = null;
  for (const key of Object.keys(stored)) {
    if (isKeptMarker(key)) after.set(anchor, [...(after.get(anchor) ?? []), key]);
    else if (Object.hasOwn(described, key)) anchor = key;
  }
  const out = emptyObject();
  const emit = (at: string | null) => {
    for (const key of after.get(at) ?? []) out[key] = stored[key];
  };
  emit(null);
  for (const [key, value] of Object.entries(described)) {
    const inStored = stored[key];
    out[key] = isPlainObject(value) && isPlainObject(inStored) && !isSealedMarker(inStored)
      ? withKeptMarkers(value, inStored, kept, [...path, key])
      : value;
    emit(key);
  }
  return out;
}

function isPlainObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
