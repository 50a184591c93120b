/**
 * Group commit for resolves (DESIGN.md, "Audit before the secret leaves"). Resolves that
 * arrive while a batch is being written wait for the next one; a batch is ONE statement on
 * the pg pool, committed on its own, whatever its size. That statement:
 *
 *   - reads every requested connection by (workspace, name);
 *   - locks the audit chain head of each workspace that has one (in workspace order, so
 *     batches and other appends never deadlock), exactly the row appendAuditEvents locks;
 *   - chains one event per resolve after that head, computing each event's SHA-256 in
 *     PostgreSQL from the canonical form built here (src/audit/chain-hash.ts:
 *     canonicalFormAround leaves only the position, the previous hash and the connection id
 *     for the database to fill in), inserts them and moves the head;
 *   - returns the rows.
 *
 * PostgreSQL answers a statement outside a transaction only after committing it, so when the
 * rows arrive every event is durable; the secrets are opened and handed out only then. If
 * anything fails (the statement, the commit, the connection), every resolve of the batch fails
 * and returns nothing. Appends stay one chain per workspace: the head row stays locked until
 * the commit, and the unique (workspace, seq) index refuses a fork anyway. The rows read are
 * those committed when the statement began.
 *
 * A connection that does not exist gets no event, and its resolve answers null. One whose
 * secrets then fail to open has its event (the attempt is on record) and fails.
 */
import { randomUUID } from "node:crypto";
import type { NewAuditEvent } from "../../audit/append";
import { canonicalFormAround, GENESIS_HASH } from "../../audit/chain-hash";
import type { Sql, Statement } from "../../db/sql";
import type { Connection } from "../../generated/prisma/client";
import { SUMMARY_COLUMNS } from "./listing";

/** The audit event of one resolve, but for its target (the connection found). */
export type ResolveEvent = Omit<NewAuditEvent, "targetType" | "targetId" | "details">;

export interface ResolveRequest {
  workspaceId: string;
  name: string;
  event: ResolveEvent;
  /** Added to the event's details beside the connection's name (e.g. the alias it was reached by). */
  details?: Record<string, unknown>;
}

export interface Resolved<T> {
  row: Connection;
  opened: T;
}

export interface ResolveBatchOptions {
  /** The most resolves one statement carries. */
  maxBatch?: number;
  /** Batches in flight at once (each holds one pooled connection). */
  concurrency?: number;
  /**
   * A batch is sent beside one already in flight only once that one has taken this long.
   * Every commit costs PostgreSQL the same few hundred microseconds of CPU whatever the batch
   * size, so resolves that arrive during a quick statement wait for it and share the next
   * commit; a slow one (a chain head locked by a long transaction) does not hold up the rest.
   */
  overlapAfterMs?: number;
}

interface Pending<T> {
  request: ResolveRequest;
  /** Sent again once after its workspace's chain head was created. */
  retried?: boolean;
  resolve: (value: Resolved<T> | null) => void;
  reject: (error: unknown) => void;
}

type Row = Connection & { ord: string; audited: boolean };

const READ_AND_AUDIT: Statement = {
  name: "resolve-read-and-audit",
  text: `
    WITH RECURSIVE wanted AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                           $10::text[], $11::text[], $12::text[], $13::text[]) WITH ORDINALITY
        AS w(workspace_id, wanted_name, event_id, action, actor_kind, actor_id, actor_label, client_ip, details, form0, form1, form2, form3, ord)
    ), found AS MATERIALIZED (
      SELECT w.*, ${SUMMARY_COLUMNS}, c."secretCiphertext",
             row_number() OVER (PARTITION BY w.workspace_id ORDER BY w.ord) AS n
      FROM wanted w JOIN "Connection" c ON c."workspaceId" = w.workspace_id AND c."name" = w.wanted_name
    ), heads AS MATERIALIZED (
      SELECT h."chainId", h."seq", h."hash" FROM "AuditChainHead" h
      WHERE h."chainId" IN (SELECT f.workspace_id FROM found f)
      ORDER BY h."chainId"
      FOR UPDATE
    ), links AS (
      SELECT f.workspace_id, f.n, h."seq" + 1 AS seq, h."hash" AS prev_hash,
             encode(sha256(convert_to(f.form0 || to_json((h."seq" + 1)::text)::text || f.form1 || to_json(h."hash")::text
                                      || f.form2 || to_json(f."id")::text || f.form3, 'UTF8')), 'hex') AS hash
      FROM found f JOIN heads h ON h."chainId" = f.workspace_id
      WHERE f.n = 1
      UNION ALL
      SELECT f.workspace_id, f.n, l.seq + 1, l.hash,
             encode(sha256(convert_to(f.form0 || to_json((l.seq + 1)::text)::text || f.form1 || to_json(l.hash)::text
                                      || f.form2 || to_json(f."id")::text || f.form3, 'UTF8')), 'hex')
      FROM links l JOIN found f ON f.workspace_id = l.workspace_id AND f.n = l.n + 1
    ), appended AS (
      INSERT INTO "AuditEvent" ("id", "workspaceId", "seq", "action", "actorKind", "actorId", "actorLabel", "targetType", "targetId", "clientIp", "details", "at", "prevHash", "hash")
      SELECT f.event_id, f.workspace_id, l.seq, f.action, f.actor_kind::"ActorKind", f.actor_id, f.actor_label, 'Connection', f."id",
             f.client_ip, f.details::jsonb, $14::timestamptz AT TIME ZONE 'UTC', l.prev_hash, l.hash
      FROM links l JOIN found f ON f.workspace_id = l.workspace_id AND f.n = l.n
      RETURNING "workspaceId", "seq"
    ), moved AS (
      UPDATE "AuditChainHead" h SET "seq" = last.seq, "hash" = last.hash, "updatedAt" = now()
      FROM (SELECT DISTINCT ON (l.workspace_id) l.workspace_id, l.seq, l.hash FROM links l ORDER BY l.workspace_id, l.n DESC) last
      WHERE h."chainId" = last.workspace_id
    )
    SELECT f.ord::text AS "ord", EXISTS (SELECT 1 FROM heads h WHERE h."chainId" = f.workspace_id) AS "audited",
           f."id", f."workspaceId", f."name", f."type", f."description", f."host", f."port", f."schema", f."login", f."extra",
           f."secretFields", f."keyVersion", f."version", f."createdAt", f."updatedAt", f."lastUsedAt", f."secretCiphertext"
    FROM found f`,
};

/** A chain without a head row yet (no event ever): the head is created, and the batch's resolves there retried. */
const CREATE_HEADS: Statement = {
  name: "resolve-create-heads",
  text: `
    INSERT INTO "AuditChainHead" ("chainId", "seq", "hash")
    SELECT w.id, 0, $2::text FROM unnest($1::text[]) AS w(id) WHERE EXISTS (SELECT 1 FROM "Workspace" ws WHERE ws."id" = w.id)
    ON CONFLICT ("chainId") DO NOTHING`,
};

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_CONCURRENCY = 2;
const DEFAULT_OVERLAP_AFTER_MS = 10;

export class ResolveBatcher<T> {
  private queue: Pending<T>[] = [];
  /** When each batch in flight was sent (performance.now()), oldest first. */
  private inFlight: { sentAt: number }[] = [];
  private overlapTimer: NodeJS.Timeout | undefined;
  private readonly maxBatch: number;
  private readonly concurrency: number;
  private readonly overlapAfterMs: number;

  /** `open` turns a stored row into what the resolve returns (its secrets opened), once its event is committed. */
  constructor(
    private readonly sql: Sql,
    private readonly open: (row: Connection) => Promise<T>,
    options: ResolveBatchOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
    this.overlapAfterMs = options.overlapAfterMs ?? DEFAULT_OVERLAP_AFTER_MS;
  }

  /** The connection and its opened secrets once its audit event is committed; null when there is no such connection. */
  resolve(request: ResolveRequest): Promise<Resolved<T> | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight.length < this.concurrency && this.queue.length > 0) {
      if (this.inFlight.length > 0) {
        const waited = performance.now() - this.inFlight[0].sentAt;
        if (waited < this.overlapAfterMs) return this.pumpLater(this.overlapAfterMs - waited);
      }
      const batch = this.queue.splice(0, this.maxBatch);
      const sent = { sentAt: performance.now() };
      this.inFlight.push(sent);
      void this.run(batch).finally(() => {
        this.inFlight.splice(this.inFlight.indexOf(sent), 1);
        this.pump();
      });
    }
  }

  private pumpLater(ms: number): void {
    if (this.overlapTimer) return;
    this.overlapTimer = setTimeout(() => {
      this.overlapTimer = undefined;
      this.pump();
    }, Math.ceil(ms));
  }

  private async run(batch: Pending<T>[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await this.write(batch);
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    const byOrd = new Map(rows.map((row) => [Number(row.ord) - 1, row]));
    const headless: Pending<T>[] = [];
    batch.forEach((pending, i) => {
      const found = byOrd.get(i);
      if (!found) return pending.resolve(null);
      if (!found.audited) {
        if (!pending.retried) return headless.push(pending);
        return pending.reject(new Error("The workspace's audit chain has no head; the resolve was not recorded."));
      }
      const { ord: _ord, audited: _audited, ...row } = found;
      // Committed: only now is the secret opened and handed out.
      this.open(row).then((opened) => pending.resolve({ row, opened }), pending.reject);
    });
    if (headless.length === 0) return;
    try {
      await this.sql.rows(CREATE_HEADS, [[...new Set(headless.map((p) => p.request.workspaceId))], GENESIS_HASH]);
    } catch (error) {
      for (const pending of headless) pending.reject(error);
      return;
    }
    // Back in the queue, behind what arrived meanwhile; the next batch finds their heads.
    for (const pending of headless) this.queue.push({ ...pending, retried: true });
  }

  private async write(batch: Pending<T>[]): Promise<Row[]> {
    const at = new Date();
    const columns: string[][] = Array.from({ length: 13 }, () => []);
    for (const { request } of batch) {
      const id = randomUUID();
      const { event } = request;
      const details = JSON.parse(JSON.stringify({ ...request.details, name: request.name })) as Record<string, unknown>;
      const form = canonicalFormAround({
        chainId: request.workspaceId,
        id,
        action: event.action,
        actorKind: event.actorKind,
        actorId: event.actorId,
        actorLabel: event.actorLabel,
        targetType: "Connection",
        clientIp: event.clientIp ?? null,
        details,
        at,
      });
      const values = [
        request.workspaceId,
        request.name,
        id,
        event.action,
        event.actorKind,
        event.actorId,
        event.actorLabel,
        event.clientIp ?? null,
        JSON.stringify(details),
        ...form,
      ];
      values.forEach((value, i) => columns[i].push(value as string));
    }
    return this.sql.rows<Row>(READ_AND_AUDIT, [...columns, at.toISOString()]);
  }
}
