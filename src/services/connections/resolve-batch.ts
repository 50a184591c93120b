/**
 * Group commit for resolves (DESIGN.md, "Audit before the secret leaves"). Resolves that
 * arrive while a batch is being written wait for the next one; a batch is one transaction on
 * the pg pool whatever its size:
 *
 *   BEGIN
 *   one statement: read every requested connection by (workspace, name), and lock the audit
 *     chain head of each workspace that has one (in workspace order, so batches never deadlock)
 *   open the secrets; chain the events in memory (src/audit/append.ts: chainLinks)
 *   one statement: insert every event and move every head
 *   COMMIT
 *
 * and no resolve of the batch is answered before its COMMIT succeeded: a secret never leaves
 * without its audit event durable. When anything fails (the database, the connection, the
 * commit), every resolve of the batch fails with it and returns nothing.
 *
 * Appends stay one chain per workspace: the head row is locked from the first statement to
 * the commit, exactly as appendAuditEvents does for every other event, so a batch and any
 * other append to the same chain take turns. The rows read are those committed when the
 * first statement began.
 *
 * A connection that does not exist (or whose secrets do not open) gets no event; its resolve
 * answers null (or the error), as before.
 */
import type { NewAuditEvent } from "../../audit/append";
import { chainLinks } from "../../audit/append";
import { GENESIS_HASH } from "../../audit/chain-hash";
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
  /** The most resolves one transaction carries. */
  maxBatch?: number;
  /** Batches in flight at once (each holds one pooled connection). */
  concurrency?: number;
}

interface Pending<T> {
  request: ResolveRequest;
  resolve: (value: Resolved<T> | null) => void;
  reject: (error: unknown) => void;
}

type Row = Connection & { headSeq: string; headHash: string };

const READ_AND_LOCK: Statement = {
  name: "resolve-read-and-lock",
  text: `
    WITH found AS MATERIALIZED (
      SELECT ${SUMMARY_COLUMNS}, c."secretCiphertext"
      FROM unnest($1::text[], $2::text[]) AS w(workspace_id, name)
      JOIN "Connection" c ON c."workspaceId" = w.workspace_id AND c."name" = w.name
    ), heads AS MATERIALIZED (
      INSERT INTO "AuditChainHead" ("chainId", "seq", "hash")
      SELECT DISTINCT f."workspaceId", 0, $3::text FROM found f ORDER BY 1
      ON CONFLICT ("chainId") DO UPDATE SET "chainId" = EXCLUDED."chainId"
      RETURNING "chainId", "seq", "hash"
    )
    SELECT h."seq"::text AS "headSeq", h."hash" AS "headHash", f.*
    FROM found f JOIN heads h ON h."chainId" = f."workspaceId"`,
};

const APPEND: Statement = {
  name: "resolve-append",
  text: `
    WITH events AS (
      INSERT INTO "AuditEvent" ("id", "workspaceId", "seq", "action", "actorKind", "actorId", "actorLabel", "targetType", "targetId", "clientIp", "details", "at", "prevHash", "hash")
      SELECT e.id, e.workspace_id, e.seq, e.action, e.actor_kind::"ActorKind", e.actor_id, e.actor_label, e.target_type, e.target_id,
             e.client_ip, e.details::jsonb, e.at::timestamptz AT TIME ZONE 'UTC', e.prev_hash, e.hash
      FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                  $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
        AS e(id, workspace_id, seq, action, actor_kind, actor_id, actor_label, target_type, target_id, client_ip, details, at, prev_hash, hash)
    )
    UPDATE "AuditChainHead" h SET "seq" = n.seq, "hash" = n.hash, "updatedAt" = now()
    FROM unnest($15::text[], $16::bigint[], $17::text[]) AS n(chain_id, seq, hash)
    WHERE h."chainId" = n.chain_id`,
};

const DEFAULT_MAX_BATCH = 64;
const DEFAULT_CONCURRENCY = 2;

export class ResolveBatcher<T> {
  private queue: Pending<T>[] = [];
  private inFlight = 0;
  private readonly maxBatch: number;
  private readonly concurrency: number;

  /**
   * `open` turns a stored row into what the resolve returns (its secrets opened); it runs
   * inside the batch, before the commit, so a row that cannot be opened gets no event.
   */
  constructor(
    private readonly sql: Sql,
    private readonly open: (row: Connection) => Promise<T>,
    options: ResolveBatchOptions = {},
  ) {
    this.maxBatch = options.maxBatch ?? DEFAULT_MAX_BATCH;
    this.concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  }

  /** The connection and its opened secrets once its audit event is committed; null when there is no such connection. */
  resolve(request: ResolveRequest): Promise<Resolved<T> | null> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.concurrency && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      this.inFlight += 1;
      void this.run(batch).finally(() => {
        this.inFlight -= 1;
        this.pump();
      });
    }
  }

  private async run(batch: Pending<T>[]): Promise<void> {
    let outcomes: Array<{ value: Resolved<T> | null } | { error: unknown }>;
    try {
      outcomes = await this.sql.transaction((client) => this.write(batch, client));
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    // Committed: only now does any secret of this batch leave.
    batch.forEach((pending, i) => {
      const outcome = outcomes[i];
      if ("error" in outcome) pending.reject(outcome.error);
      else pending.resolve(outcome.value);
    });
  }

  private async write(batch: Pending<T>[], client: Parameters<Sql["rows"]>[2]) {
    const keyOf = (workspaceId: string, name: string) => `${workspaceId}\u0000${name}`;
    const wanted = new Map<string, ResolveRequest>();
    for (const { request } of batch) wanted.set(keyOf(request.workspaceId, request.name), request);
    const requests = [...wanted.values()];
    const rows = await this.sql.rows<Row>(
      READ_AND_LOCK,
      [requests.map((r) => r.workspaceId), requests.map((r) => r.name), GENESIS_HASH],
      client,
    );
    const found = new Map<string, { row: Connection; head: { seq: bigint; hash: string }; opened: Promise<T> }>();
    for (const { headSeq, headHash, ...row } of rows) {
      const opened = this.open(row);
      opened.catch(() => {});
      found.set(keyOf(row.workspaceId, row.name), { row, head: { seq: BigInt(headSeq), hash: headHash }, opened });
    }

    const outcomes: Array<{ value: Resolved<T> | null } | { error: unknown }> = [];
    const chains = new Map<string, { head: { seq: bigint; hash: string }; events: NewAuditEvent[] }>();
    for (const { request } of batch) {
      const hit = found.get(keyOf(request.workspaceId, request.name));
      if (!hit) {
        outcomes.push({ value: null });
        continue;
      }
      let opened: T;
      try {
        opened = await hit.opened;
      } catch (error) {
        outcomes.push({ error });
        continue;
      }
      outcomes.push({ value: { row: hit.row, opened } });
      let chain = chains.get(hit.row.workspaceId);
      if (!chain) chains.set(hit.row.workspaceId, (chain = { head: hit.head, events: [] }));
      chain.events.push({
        ...request.event,
        targetType: "Connection",
        targetId: hit.row.id,
        details: { ...request.details, name: hit.row.name },
      });
    }
    if (chains.size === 0) return outcomes;

    const at = new Date();
    const links = [...chains].flatMap(([chainId, { head, events }]) => chainLinks(chainId, head, events, at));
    const heads = [...chains.keys()].map((chainId) => links.findLast((link) => link.chainId === chainId)!);
    const iso = at.toISOString();
    await this.sql.rows(
      APPEND,
      [
        links.map((l) => l.id),
        links.map((l) => l.chainId),
        links.map((l) => l.seq.toString()),
        links.map((l) => l.action),
        links.map((l) => l.actorKind),
        links.map((l) => l.actorId),
        links.map((l) => l.actorLabel),
        links.map((l) => l.targetType),
        links.map((l) => l.targetId),
        links.map((l) => l.clientIp),
        links.map((l) => (l.details === null ? null : JSON.stringify(l.details))),
        links.map(() => iso),
        links.map((l) => l.prevHash),
        links.map((l) => l.hash),
        heads.map((h) => h.chainId),
        heads.map((h) => h.seq.toString()),
        heads.map((h) => h.hash),
      ],
      client,
    );
    return outcomes;
  }
}
