/**
 * The one way a connection's state is written: every writer (create, update, rollback,
 * upsert, import) prepares its change here and writes it here, inside its own transaction,
 * so the row and its new version are committed together or not at all.
 *
 * prepare() does the slow part outside the transaction (sealing the row's and the version's
 * secrets); write() runs the statements: the names' locks and alias checks (aliases.ts), the
 * row (created, or updated only if it is still at the version it was read at, else CONFLICT),
 * a renamed connection's old name as an alias, the version, and the retention cut.
 */
import { actorId, actorLabel } from "../../auth/actor";
import type { DbOrTx } from "../../db/prisma";
import { ConflictError } from "../../errors";
import type { Connection, Prisma } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { assertNamesFree, DEFAULT_KEEP_ALIAS_DAYS, lockNames, moveName } from "./aliases";
import { plainColumns } from "./columns";
import type { ConnectionDraft } from "./draft";
import type { ConnectionSecrets, SealedColumns } from "./secrets";
import { changedFields, snapshotOf, type VersionAction } from "./versions";

export interface ConnectionChange {
  workspaceId: string;
  id: string;
  /** The state to store. */
  draft: ConnectionDraft;
  /** The stored row and its state as read; null creates the connection. */
  previous: { row: Connection; draft: ConnectionDraft } | null;
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
    const fields = changedFields(previous?.draft ?? null, draft);
    const [sealed, versionSecrets, baselineSecrets] = await Promise.all([
      this.secrets.seal(workspaceId, id, draft.secrets),
      this.secrets.sealVersion(workspaceId, id, version, draft.secrets),
      previous ? this.secrets.sealVersion(workspaceId, id, previous.row.version, previous.draft.secrets) : null,
    ]);
    const versionRow: Prisma.ConnectionVersionCreateManyInput = {
      connectionId: id,
      workspaceId,
      version,
      action: change.action,
      snapshot: snapshotOf(draft) as unknown as Prisma.InputJsonObject,
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
            snapshot: snapshotOf(previous.draft) as unknown as Prisma.InputJsonObject,
            changedFields: [],
            ...baselineSecrets,
            actorLabel: BASELINE_AUTHOR,
            createdAt: previous.row.updatedAt,
          }
        : null;
    return { ...change, sealed, version, changedFields: fields, versionRow, baseline };
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

    const stored: Connection[] = [];
    for (const change of changes) {
      const columns = { ...plainColumns(change.draft), ...change.sealed };
      if (!change.previous) {
        stored.push(await tx.connection.create({ data: { id: change.id, workspaceId: change.workspaceId, ...columns } }));
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
