/**
 * Imports bigger than one request, as one all-or-nothing plan: `beginImport` opens a session,
 * `stageImportBatch` stores a batch (each within importConnections' caps), `commitImport`
 * reads every staged batch and imports them together, in ONE transaction, with the same line
 * per conn_id as importConnections (its dryRun shows them and writes nothing), and
 * `abortImport` drops the session.
 *
 * - Staged content holds secrets: each batch is sealed with the workspace's data key (seal
 *   context: the session id plus "#import", and the batch's seq), and the table is one of the
 *   sealed columns, so key rotation re-encrypts it and a key version it names is kept.
 * - A session belongs to its workspace and to the actor that began it (a person, or one API
 *   token): anyone else gets NOT_FOUND, as for an object of another workspace.
 * - Bounded: connections and bytes per session, sessions open per workspace, and a lifetime;
 *   an expired session reads as absent and is deleted by a sweep every process runs.
 * - Everything is in PostgreSQL: batches staged through one process commit through another,
 *   staging locks the session row, and a commit deletes it in the transaction that writes the
 *   connections, so two commits of one session cannot both write.
 */
import { randomUUID } from "node:crypto";
import type { ParsedEntry } from "../../airflow/files";
import type { AirflowFileFormat } from "../../airflow/types";
import { actorId } from "../../auth/actor";
import type { Keyring } from "../../crypto/keyring";
import { openSecrets, sealedKeyVersion, sealSecrets } from "../../crypto/sealed-secrets";
import type { Db, DbOrTx } from "../../db/prisma";
import { type Sql, type Statement, utc } from "../../db/sql";
import { BadUserInputError, ConflictError, NotFoundError } from "../../errors";
import type { ImportSession } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { importBatchSealContext } from "./import-batch-seal";
import { MAX_BATCH } from "./sync";
import { type ConnectionTransfer, type ImportReport, type OnConflict, parseImportContent } from "./transfer";

export interface StagedImportLimits {
  ttlSeconds: number;
  maxConnections: number;
  maxBytes: number;
  sessionsPerWorkspace: number;
  commitTimeoutMs: number;
}

export interface BeginImportArgs {
  format: AirflowFileFormat;
  onConflict: OnConflict;
  unknownTypesAsGeneric: boolean;
  clearMissingSecrets: boolean;
}

/** A session as the API shows it. */
export interface ImportSessionView {
  id: string;
  workspaceId: string;
  format: AirflowFileFormat;
  onConflict: OnConflict;
  unknownTypesAsGeneric: boolean;
  clearMissingSecrets: boolean;
  batches: number;
  connections: number;
  bytes: number;
  maxConnections: number;
  maxBytes: number;
  createdAt: Date;
  expiresAt: Date;
}

/** One batch's content, like one importConnections request (the HTTP body limit is 1 MiB). */
export const MAX_BATCH_BYTES = 1024 * 1024;

const SESSION = "Import session";

const SWEEP_EXPIRED_SESSIONS: Statement = {
  name: "import-session-sweep-expired",
  text: `DELETE FROM "ImportSession" WHERE "expiresAt" <= $1::timestamptz AT TIME ZONE 'UTC' RETURNING 1`,
};

export class StagedImports {
  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly transfer: ConnectionTransfer,
    private readonly limits: StagedImportLimits,
    private readonly sql: Sql,
  ) {}

  async begin(caller: Caller, workspaceId: string, args: BeginImportArgs): Promise<ImportSessionView> {
    await caller.authorize(workspaceId, "connection.write");
    const createdById = actorId(caller.signedIn);
    const id = randomUUID();
    const expiresAt = new Date(Date.now() + this.limits.ttlSeconds * 1000);
    const row = await this.db.$transaction(async (tx) => {
      // One workspace's sessions counted under its row's lock, so concurrent begins agree.
      await tx.$queryRaw`SELECT 1 FROM "Workspace" WHERE "id" = ${workspaceId} FOR NO KEY UPDATE`;
      const open = await tx.importSession.count({ where: { workspaceId, expiresAt: { gt: new Date() } } });
      if (open >= this.limits.sessionsPerWorkspace) {
        throw new ConflictError(
          `This workspace has ${open} import sessions open, the most it may have; commit or abort one (abortImport), or wait until one expires.`,
        );
      }
      return tx.importSession.create({ data: { id, workspaceId, createdById, expiresAt, ...args } });
    });
    return this.view(row);
  }

  /**
   * Stores batch `seq` (1 for the first; the next is batches + 1). Staging a seq again replaces
   * that batch, so a client may retry one whose answer it did not get.
   */
  async stage(caller: Caller, sessionId: string, seq: number, content: string): Promise<ImportSessionView> {
    const session = await this.find(caller, sessionId);
    if (!Number.isInteger(seq) || seq < 1 || seq > MAX_BATCH) throw new BadUserInputError(`seq is a whole number from 1 to ${MAX_BATCH}.`, "seq");
    const bytes = Buffer.byteLength(content, "utf8");
    if (bytes > MAX_BATCH_BYTES) throw new BadUserInputError(`A batch holds at most ${MAX_BATCH_BYTES / 1024} KiB; split the file further.`, "content");
    // Read now, so a file that does not parse is refused at once, naming the batch.
    const entries = parseImportContent(content, session.format as AirflowFileFormat, "content");
    if (entries.length > MAX_BATCH) throw new BadUserInputError(`A batch holds at most ${MAX_BATCH} connections.`, "content");

    const { version, key } = await this.keyring.current(session.workspaceId);
    const ciphertext = sealSecrets(key, version, importBatchSealContext({ workspaceId: session.workspaceId, sessionId, seq }), { content });
    const row = await this.db.$transaction(async (tx) => {
      const locked = await this.lock(tx, caller, sessionId);
      if (seq > locked.batches + 1) throw new BadUserInputError(`Stage batch ${locked.batches + 1} next (batches are numbered from 1, in order).`, "seq");
      const previous = seq <= locked.batches ? await tx.importBatch.findUnique({ where: { sessionId_seq: { sessionId, seq } } }) : null;
      const connections = locked.connections - (previous?.connections ?? 0) + entries.length;
      const total = locked.bytes - (previous?.bytes ?? 0) + bytes;
      if (connections > this.limits.maxConnections) {
        throw new BadUserInputError(`An import holds at most ${this.limits.maxConnections} connections; this batch would bring it to ${connections}.`, "content");
      }
      if (total > this.limits.maxBytes) {
        throw new BadUserInputError(`An import holds at most ${Math.floor(this.limits.maxBytes / 1024)} KiB; this batch would bring it to ${Math.ceil(total / 1024)} KiB.`, "content");
      }
      const data = { workspaceId: session.workspaceId, connections: entries.length, bytes, ciphertext: new Uint8Array(ciphertext), keyVersion: version };
      await tx.importBatch.upsert({ where: { sessionId_seq: { sessionId, seq } }, create: { sessionId, seq, ...data }, update: data });
      return tx.importSession.update({
        where: { id: sessionId },
        data: { batches: Math.max(locked.batches, seq), connections, bytes: total, revision: { increment: 1 } },
      });
    });
    return this.view(row);
  }

  /**
   * Imports every staged batch as one file. dryRun reports and keeps the session; otherwise a
   * report with an ERROR line writes nothing and keeps it too (abort it, or stage a batch again
   * and commit again), and an applied one ends it.
   */
  async commit(caller: Caller, sessionId: string, dryRun: boolean): Promise<ImportReport> {
    // The batches as of this revision: a batch staged again meanwhile makes the claim below fail.
    const session = await this.find(caller, sessionId);
    if (session.batches === 0) throw new BadUserInputError("Nothing is staged yet; stage a batch first (stageImportBatch).", "sessionId");
    const batches = await this.db.importBatch.findMany({ where: { sessionId, workspaceId: session.workspaceId }, orderBy: { seq: "asc" } });
    const entries: Array<ParsedEntry & { batch: number }> = [];
    for (const batch of batches) {
      const blob = Buffer.from(batch.ciphertext);
      const key = await this.keyring.version(session.workspaceId, sealedKeyVersion(blob));
      const { content } = openSecrets(key, blob, importBatchSealContext(batch));
      entries.push(...parseImportContent(content, session.format as AirflowFileFormat, `batches.${batch.seq}`).map((entry) => ({ ...entry, batch: batch.seq })));
    }
    return this.transfer.importEntries(caller, session.workspaceId, once(entries), {
      format: session.format as AirflowFileFormat,
      onConflict: session.onConflict as OnConflict,
      dryRun,
      unknownTypesAsGeneric: session.unknownTypesAsGeneric,
      clearMissingSecrets: session.clearMissingSecrets,
      auditDetails: { staged: { batches: batches.length, connections: entries.length } },
      apply: {
        // Claimed in the transaction that writes: a second commit, an abort or the sweep
        // racing this one finds the session gone, and only one of them wins.
        first: async (tx) => {
          const { count } = await tx.importSession.deleteMany({
            where: { id: sessionId, workspaceId: session.workspaceId, revision: session.revision, expiresAt: { gt: new Date() } },
          });
          if (count === 0) throw new ConflictError("The import session was committed, aborted, staged again or expired meanwhile; nothing was written.");
        },
        timeoutMs: this.limits.commitTimeoutMs,
      },
    });
  }

  async abort(caller: Caller, sessionId: string): Promise<boolean> {
    const session = await this.find(caller, sessionId);
    await this.db.importSession.deleteMany({ where: { id: sessionId, workspaceId: session.workspaceId } });
    return true;
  }

  /** Deletes expired sessions and their batches (by cascade); every process runs it now and then. */
  async sweepExpired(now = new Date()): Promise<number> {
    // On the pg pool: the sweep runs at start, and Prisma's engine need not be loaded for it (issue 10, RSS).
    return (await this.sql.rows(SWEEP_EXPIRED_SESSIONS, [utc(now)])).length;
  }

  /** The caller's own live session, after the policy allows writing in its workspace; else NOT_FOUND. */
  private async find(caller: Caller, sessionId: string): Promise<ImportSession> {
    const row = await this.db.importSession.findUnique({ where: { id: sessionId } });
    if (!row || row.createdById !== actorId(caller.signedIn) || row.expiresAt <= new Date()) throw new NotFoundError(SESSION);
    await caller.authorize(row.workspaceId, "connection.write");
    return row;
  }

  private async lock(tx: DbOrTx, caller: Caller, sessionId: string): Promise<ImportSession> {
    const rows = await tx.$queryRaw<Array<{ id: string }>>`SELECT "id" FROM "ImportSession" WHERE "id" = ${sessionId} AND "expiresAt" > now() FOR UPDATE`;
    const row = rows.length ? await tx.importSession.findUnique({ where: { id: sessionId } }) : null;
    if (!row || row.createdById !== actorId(caller.signedIn)) throw new NotFoundError(SESSION);
    return row;
  }

  private view(row: ImportSession): ImportSessionView {
    return {
      id: row.id,
      workspaceId: row.workspaceId,
      format: row.format as AirflowFileFormat,
      onConflict: row.onConflict as OnConflict,
      unknownTypesAsGeneric: row.unknownTypesAsGeneric,
      clearMissingSecrets: row.clearMissingSecrets,
      batches: row.batches,
      connections: row.connections,
      bytes: row.bytes,
      maxConnections: this.limits.maxConnections,
      maxBytes: this.limits.maxBytes,
      createdAt: row.createdAt,
      expiresAt: row.expiresAt,
    };
  }
}

/**
 * Each conn_id once: a name found in more than one batch is one ERROR line where it first
 * appeared, as a name given twice in one file is.
 */
function once(entries: Array<ParsedEntry & { batch: number }>): ParsedEntry[] {
  // How often each name comes, and in which batches (each named once in the message).
  const seenIn = new Map<string, { count: number; batches: number[] }>();
  for (const { name, batch } of entries) {
    const found = seenIn.get(name);
    if (!found) seenIn.set(name, { count: 1, batches: [batch] });
    else {
      found.count += 1;
      if (found.batches[found.batches.length - 1] !== batch) found.batches.push(batch);
    }
  }
  const out: ParsedEntry[] = [];
  const seen = new Set<string>();
  for (const { batch: _batch, ...entry } of entries) {
    if (seen.has(entry.name)) continue;
    seen.add(entry.name);
    const { count, batches } = seenIn.get(entry.name)!;
    out.push(count > 1 ? { name: entry.name, error: `Found multiple values for ${entry.name} (batches ${batches.join(", ")}).` } : entry);
  }
  return out;
}
