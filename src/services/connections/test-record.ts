/**
 * Stores a saved connection's test result and its audit event on the pg pool (DESIGN.md,
 * "Persistence": a test's writes are a hot path), when the result does not change the
 * connection's status. Measured against Prisma's interactive transaction (the status lock,
 * the previous result, the insert, the chain head's lock, the event, the head's move, each a
 * round trip through Prisma's client): that took as long as the test itself (issue 10, P3).
 *
 * One transaction of two statements: the same transaction-scoped advisory lock as
 * test-results.ts (so two tests finishing at once see each other's result), then one
 * statement that reads the previous status, locks the workspace's audit chain head (the row
 * appendAuditEvents locks, so appends stay one chain), inserts the result, chains the event
 * after the head, computing its hash in PostgreSQL from the canonical form built here
 * (src/audit/chain-hash.ts: canonicalFormAround), and moves the head. The result is committed
 * before anyone is answered; the result and its event are written both or neither.
 *
 * A result that changes the status writes nothing here: its listeners (the webhooks' outbox)
 * write in the same transaction through Prisma, so the caller stores it that way
 * (storeTestResult) instead; status changes are rare. A workspace whose chain has no head
 * yet (no event ever) writes nothing either: the head is created and the transaction run once
 * more.
 */
import type { NewAuditEvent } from "../../audit/append";
import { canonicalFormAround, GENESIS_HASH } from "../../audit/chain-hash";
import type { Sql, Statement } from "../../db/sql";
import { utc } from "../../db/sql";
import type { TestResult } from "../../generated/prisma/client";
import type { TestReport } from "./testing";

const STATUS_LOCK: Statement = {
  name: "connection-test-status-lock",
  text: `SELECT pg_advisory_xact_lock(hashtextextended($1::text, 0))`,
};

const RECORD_TEST: Statement = {
  name: "connection-test-record",
  text: `
    WITH prev AS (
      -- The workspace is checked on the row found, not in the lookup (listing.ts says why).
      SELECT newest."status" FROM (
        SELECT r."status", r."workspaceId" FROM "TestResult" r
        WHERE r."connectionId" = $2
        ORDER BY r."testedAt" DESC, r."id" DESC
        LIMIT 1
      ) newest
      WHERE newest."workspaceId" = $1
    ), head AS MATERIALIZED (
      SELECT h."seq", h."hash" FROM "AuditChainHead" h WHERE h."chainId" = $1 FOR UPDATE
    ), go AS MATERIALIZED (
      SELECT h.* FROM head h WHERE NOT EXISTS (SELECT 1 FROM prev p WHERE p."status" <> $4::"TestStatus")
    ), link AS (
      SELECT g."seq" + 1 AS seq, g."hash" AS prev_hash,
             encode(sha256(convert_to($12::text || to_json((g."seq" + 1)::text)::text || $13::text || to_json(g."hash")::text
                                      || $14::text || to_json($2::text)::text || $15::text, 'UTF8')), 'hex') AS hash
      FROM go g
    ), stored AS (
      INSERT INTO "TestResult" ("id", "workspaceId", "connectionId", "status", "errorCode", "message", "latencyMs", "serverVersion", "testedAt", "actorKind", "actorId")
      SELECT $3, $1, $2, $4::"TestStatus", $5, $6, $7::int, $8, $9::timestamptz AT TIME ZONE 'UTC', $10::"ActorKind", $11
      FROM go
      RETURNING *
    ), appended AS (
      INSERT INTO "AuditEvent" ("id", "workspaceId", "seq", "action", "actorKind", "actorId", "actorLabel", "targetType", "targetId", "clientIp", "details", "at", "prevHash", "hash")
      SELECT $16, $1, l.seq, $17, $18::"ActorKind", $19, $20, 'Connection', $2, $21, $22::jsonb, $23::timestamptz AT TIME ZONE 'UTC', l.prev_hash, l.hash
      FROM link l
      RETURNING "seq"
    ), moved AS (
      UPDATE "AuditChainHead" h SET "seq" = l.seq, "hash" = l.hash, "updatedAt" = now()
      FROM link l WHERE h."chainId" = $1
    )
    SELECT (SELECT p."status" FROM prev p) AS "previousStatus", EXISTS (SELECT 1 FROM head) AS "hasHead", s.*
    FROM (SELECT 1) AS one LEFT JOIN stored s ON true`,
};

const CREATE_HEAD: Statement = {
  name: "connection-test-create-head",
  text: `INSERT INTO "AuditChainHead" ("chainId", "seq", "hash") VALUES ($1, 0, $2) ON CONFLICT ("chainId") DO NOTHING`,
};

export interface TestRecord {
  workspaceId: string;
  connectionId: string;
  report: TestReport;
  actorKind: NonNullable<NewAuditEvent["actorKind"]>;
  actorId: string;
  /** The audit event, but for its target (the connection) and time (the test's). */
  event: Omit<NewAuditEvent, "targetType" | "targetId">;
}

export interface RecordedTest {
  stored: TestResult;
  /** The connection's status before this result (null: never tested). */
  previousStatus: TestResult["status"] | null;
}

type Row = TestResult & { previousStatus: TestResult["status"] | null; hasHead: boolean };

/**
 * Stores the result and its audit event, committed; null, having written nothing, when the
 * result changes the connection's status (the caller stores it with its listeners).
 */
export async function recordTest(sql: Sql, record: TestRecord, eventId: string): Promise<RecordedTest | null> {
  const { workspaceId, connectionId, report, event } = record;
  const at = new Date();
  // JSON-only values, as the database will hand them back (chainLinks does the same).
  const details = event.details === undefined || event.details === null ? null : JSON.parse(JSON.stringify(event.details));
  const form = canonicalFormAround({
    chainId: workspaceId,
    id: eventId,
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
    workspaceId,
    connectionId,
    report.id,
    report.status,
    report.errorCode,
    report.message,
    report.latencyMs,
    report.serverVersion,
    utc(report.testedAt),
    record.actorKind,
    record.actorId,
    ...form,
    eventId,
    event.action,
    event.actorKind,
    event.actorId,
    event.actorLabel,
    event.clientIp ?? null,
    details === null ? null : JSON.stringify(details),
    utc(at),
  ];
  for (let attempt = 0; ; attempt++) {
    const row = await sql.transaction(async (client) => {
      // The key test-results.ts locks for the same connection.
      await sql.rows(STATUS_LOCK, [`patchbay:test-status:${connectionId}`], client);
      const [found] = await sql.rows<Row>(RECORD_TEST, values, client);
      return found;
    });
    const { previousStatus, hasHead, ...stored } = row;
    if (stored.id !== null) return { stored, previousStatus };
    if (previousStatus !== null && previousStatus !== report.status) return null;
    if (hasHead || attempt > 0) throw new Error("The test result was not recorded: the workspace's audit chain has no head.");
    await sql.rows(CREATE_HEAD, [workspaceId, GENESIS_HASH]);
  }
}
