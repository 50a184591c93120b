/**
 * The one way a connection's state is written: every writer (create, update, rollback,
 * upsert, import, an environment's override, a bundle) prepares its change here and writes it
 * here, inside its own transaction, so the row, its overrides and its new version are
 * committed together or not at all.
 *
 * A connection's state is its own values and its overrides by environment: a version holds
 * both (versions.ts, snapshot format 2), so a rollback brings back the environments as they
 * were too.
 *
 * prepare() does the slow part outside the transaction (sealing the row's, the changed
 * overrides' and the version's secrets); write() runs the statements: the names' locks and
 * alias checks (aliases.ts), the row (created, or updated only if it is still at the version
 * it was read at, else CONFLICT; an override's change is a change of its connection, so this
 * also orders override writers), the overrides that changed, a renamed connection's old name
 * as an alias, the version, and the retention cut.
 */
import { actorId, actorLabel } from "../../auth/actor";
import type { DbOrTx } from "../../db/prisma";
import { ConflictError } from "../../errors";
import { randomUUID } from "node:crypto";
import type { Connection, Prisma } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { assertNamesFree, DEFAULT_KEEP_ALIAS_DAYS, lockNames, moveName } from "./aliases";
import { plainColumns } from "./columns";
import type { ConnectionDraft } from "./draft";
import { changedOverrideFields, type EnvironmentValues, isEmpty } from "./override-draft";
import type { ConnectionSecrets, SealedColumns } from "./secrets";
import { changedFields, changedOverrideStates, snapshotOf, sortedOverrides, type VersionAction, versionSecretsOf } from "./versions";

/** A stored override: its row id (the AAD of its secrets, and its test history) and values. */
export interface StoredOverride extends EnvironmentValues {
  id: string;
}

/** A connection as stored: the row, its values with secrets opened, and its overrides. */
export interface StoredState {
  row: Connection;
  draft: ConnectionDraft;
  overrides: StoredOverride[];
}

/** An override to write: a new row, or an existing row whose values changed. */
interface OverrideWrite {
  id: string;
  environment: string;
  values: EnvironmentValues;
  sealed: SealedColumns;
  isNew: boolean;
}

export interface ConnectionChange {
  workspaceId: string;
  id: string;
  /** The state to store. */
  draft: ConnectionDraft;
  /** The stored row and its state as read; null creates the connection. */
  previous: StoredState | null;
  /**
   * The connection's overrides after the change, one per environment (an empty one is none);
   * absent keeps them as they are.
   */
  overrides?: readonly EnvironmentValues[];
  action: VersionAction;
  /** When the name changes: days the old name keeps resolving (DEFAULT_KEEP_ALIAS_DAYS; 0 keeps none). */
  keepAliasDays?: number;
  /** The input field that carries the name, for a CONFLICT over it (default "name"). */
  nameField?: string;
}

export interface PreparedChange extends ConnectionChange {
  /** The connection's sealed columns. */
  sealed: SealedColumns;
  /** The version this change makes. */
  version: number;
  changedFields: string[];
  versionRow: Prisma.ConnectionVersionCreateManyInput;
  /** The previous state as a version, for a connection from before versions were kept. */
  baseline: Prisma.ConnectionVersionCreateManyInput | null;
  /** Overrides created or changed, sealed. */
  overrideWrites: OverrideWrite[];
  /** Row ids of overrides the change removes. */
  overrideRemovals: string[];
}

/** Names the state from before versions were kept, whose author is unknown. */
const BASELINE_AUTHOR = "(before version history)";

export class ConnectionStore {
  constructor(
    private readonly secrets: ConnectionSecrets,
    /** How many versions each connection keeps (PATCHBAY_CONNECTION_VERSIONS_KEPT). */
    readonly versionsKept: number,
  ) {}

  async prepare(change: ConnectionChange): Promise<PreparedChange> {
    const { workspaceId, id, draft, previous } = change;
    const version = previous ? previous.row.version + 1 : 1;
    const before = previous?.overrides ?? [];
    const after = sortedOverrides((change.overrides ?? before).filter((o) => !isEmpty(o)));
    const fields = [...changedFields(previous?.draft ?? null, draft), ...changedOverrideStates(before, after)];

    // An override that is unchanged keeps its row as it is (and so its test history); a
    // changed one keeps its row id; a new one gets its own.
    const stored = new Map(before.map((o) => [o.environment, o]));
    const pending = after.flatMap((values) => {
      const old = stored.get(values.environment);
      if (old && changedOverrideFields(old, values).length === 0) return [];
      return [{ id: old?.id ?? randomUUID(), environment: values.environment, values, isNew: !old }];
    });
    const kept = new Set(after.map((o) => o.environment));
    const overrideRemovals = before.filter((o) => !kept.has(o.environment)).map((o) => o.id);

    const [sealed, versionSecrets, baselineSecrets, overrideSeals] = await Promise.all([
      this.secrets.seal(workspaceId, id, draft.secrets),
      this.secrets.sealVersion(workspaceId, id, version, versionSecretsOf({ draft, overrides: after })),
      previous ? this.secrets.sealVersion(workspaceId, id, previous.row.version, versionSecretsOf(previous)) : null,
      Promise.all(pending.map((o) => this.secrets.seal(workspaceId, o.id, o.values.secrets))),
    ]);
    const versionRow: Prisma.ConnectionVersionCreateManyInput = {
      connectionId: id,
      workspaceId,
      version,
      action: change.action,
      snapshot: snapshotOf({ draft, overrides: after }) as unknown as Prisma.InputJsonObject,
      changedFields: fields,
      ...versionSecrets,
      actorLabel: "",
    };
    const baseline =
      previous && baselineSecrets
        ? {
            connectionId: id,
            workspaceId,
            version: previous.row.version,
            action: "baseline",
            snapshot: snapshotOf(previous) as unknown as Prisma.InputJsonObject,
            changedFields: [],
            ...baselineSecrets,
            actorLabel: BASELINE_AUTHOR,
            createdAt: previous.row.updatedAt,
          }
        : null;
    const overrideWrites = pending.map((o, i) => ({ ...o, sealed: overrideSeals[i] }));
    return { ...change, sealed, version, changedFields: fields, versionRow, baseline, overrideWrites, overrideRemovals };
  }

  /**
   * Writes prepared changes in `tx`, in order; returns the rows as stored. A row changed since
   * it was read makes the whole transaction a CONFLICT (the caller's transaction rolls back).
   */
  async write(tx: DbOrTx, caller: Caller, changes: readonly PreparedChange[]): Promise<Connection[]> {
    // Names taken (a create's, a rename's new one) and given up (a rename's old one) are locked
    // first; a name still living as another connection's alias cannot be taken (aliases.ts).
    const now = new Date();
    const renames = changes.filter((c) => c.previous && c.previous.row.name !== c.draft.name);
    const claims = changes.filter((c) => !c.previous || c.previous.row.name !== c.draft.name);
    await lockNames(tx, [
      ...claims.map((c) => ({ workspaceId: c.workspaceId, name: c.draft.name })),
      ...renames.map((c) => ({ workspaceId: c.workspaceId, name: c.previous!.row.name })),
    ]);
    await assertNamesFree(
      tx,
      claims.map((c) => ({ workspaceId: c.workspaceId, name: c.draft.name, connectionId: c.id, field: c.nameField })),
      now,
    );

    // New rows in one statement (an import may create thousands); changed rows one by one, each
    // guarded by its version.
    const creates = changes.filter((c) => !c.previous);
    const created = creates.length
      ? await tx.connection.createManyAndReturn({
          data: creates.map((c) => ({ id: c.id, workspaceId: c.workspaceId, ...plainColumns(c.draft), ...c.sealed })),
        })
      : [];
    const createdById = new Map(created.map((row) => [row.id, row]));
    const stored: Connection[] = [];
    for (const change of changes) {
      const columns = { ...plainColumns(change.draft), ...change.sealed };
      if (!change.previous) {
        stored.push(createdById.get(change.id)!);
        continue;
      }
      // The version in the WHERE clause makes concurrent changes of one row a CONFLICT instead
      // of a lost update.
      const { count } = await tx.connection.updateMany({
        where: { id: change.id, workspaceId: change.workspaceId, version: change.previous.row.version },
        data: { ...columns, version: { increment: 1 } },
      });
      if (count === 0) {
        throw new ConflictError(`${change.previous.row.name} changed meanwhile; reload it and try again.`, { name: change.previous.row.name });
      }
      stored.push(await tx.connection.findUniqueOrThrow({ where: { id: change.id } }));
    }
    for (const change of changes) await writeOverrides(tx, change, now);
    for (const change of renames) {
      await moveName(tx, {
        workspaceId: change.workspaceId,
        connectionId: change.id,
        from: change.previous!.row.name,
        to: change.draft.name,
        keepDays: change.keepAliasDays ?? DEFAULT_KEEP_ALIAS_DAYS,
        now,
      });
    }

    const actor = caller.actor;
    const by = { actorKind: actor?.kind ?? null, actorId: actor ? actorId(actor) : null, actorLabel: actor ? actorLabel(actor) : "anonymous" };
    // A connection from before versions were kept gets its previous state first (once).
    const baselines = changes.flatMap((c) => (c.baseline ? [c.baseline] : []));
    if (baselines.length) await tx.connectionVersion.createMany({ data: baselines, skipDuplicates: true });
    await tx.connectionVersion.createMany({ data: changes.map((c) => ({ ...c.versionRow, ...by })) });
    const cuts = changes.filter((c) => c.version > this.versionsKept);
    if (cuts.length) {
      await tx.connectionVersion.deleteMany({
        where: { OR: cuts.map((c) => ({ connectionId: c.id, workspaceId: c.workspaceId, version: { lte: c.version - this.versionsKept } })) },
      });
    }
    return stored;
  }
}

/** A change's overrides: removed ones deleted, new and changed ones written with their sealed secrets. */
async function writeOverrides(tx: DbOrTx, change: PreparedChange, now: Date): Promise<void> {
  const { workspaceId, id: connectionId } = change;
  if (change.overrideRemovals.length) {
    await tx.connectionOverride.deleteMany({ where: { id: { in: change.overrideRemovals }, workspaceId, connectionId } });
  }
  for (const o of change.overrideWrites) {
    const columns = {
      host: o.values.host,
      port: o.values.port,
      schema: o.values.schema,
      login: o.values.login,
      extra: o.values.extra as Prisma.InputJsonObject,
      ...o.sealed,
      updatedAt: now,
    };
    if (o.isNew) {
      await tx.connectionOverride.create({ data: { id: o.id, workspaceId, connectionId, environment: o.environment, ...columns } });
    } else {
      await tx.connectionOverride.updateMany({ where: { id: o.id, workspaceId, connectionId }, data: columns });
    }
  }
}
