/**
 * Testing connections: a saved one (recorded as history), a saved one with unsaved edits,
 * and unsaved input (neither recorded). Every test runs under the process's limiter and a
 * hard deadline, whatever the adapter or the peer does, and its message is scrubbed of
 * every secret the test used. A failed test is a result, not an error.
 */
import { formatDuration } from "../../adapters/common/progress";
import { randomUUID } from "node:crypto";
import type { ConnectionAdapter, Egress, TestErrorCode, TestOutcome } from "../../adapters/types";
import type { Db, DbOrTx } from "../../db/prisma";
import type { Sql, Statement } from "../../db/sql";
import type { OverrideTestResult, TestResult } from "../../generated/prisma/client";
import { actingUserId, actorId } from "../../auth/actor";
import type { Caller } from "../../policy/caller";
import { metrics } from "../../observability/metrics";
import { inSpan } from "../../observability/tracing";
import { eventOf, recordAudit } from "../audit";
import { recordTest } from "./test-record";
import {
  adapterFor,
  applyPatch,
  type ConnectionDraft,
  type ConnectionInputData,
  type ConnectionPatchData,
  draftFromInput,
  settingsOf,
} from "./draft";
import type { ConnectionService } from "./service";
import { checkEnvironment, effectiveDraft } from "./override-draft";
import type { OverrideStore } from "./overrides";
import { scrubSecrets } from "../../adapters/common/scrub";
import { validateSettings } from "../../adapters/registry";
import type { TestLimiter } from "../../limits/test-limiter";
import type { StatusChange } from "../health/webhooks";
import { type ResultActor, type ResultTarget, type StoredResult, storeTestResult } from "./test-results";

const MAX_HISTORY = 100;

const LAST_TESTS: Statement = {
  name: "connection-last-tests",
  text: `
    SELECT t.*
    FROM unnest($1::text[], $2::text[]) AS wanted(id, workspace_id)
    CROSS JOIN LATERAL (
      SELECT * FROM "TestResult" r
      WHERE r."connectionId" = wanted.id
      ORDER BY r."testedAt" DESC, r."id" DESC
      LIMIT 1
    ) AS t
    -- Checked on the row found, not in the lookup, so the newest entry of the connection's
    -- index is read instead of the workspace's whole index being ANDed in (listing.ts).
    WHERE t."workspaceId" = wanted.workspace_id`,
};

/** A test outcome as the API returns it; unrecorded tests get an id that is never stored. */
export interface TestReport {
  id: string;
  status: "SUCCESS" | "FAILURE";
  errorCode: TestErrorCode | null;
  message: string;
  latencyMs: number;
  serverVersion: string | null;
  testedAt: Date;
}

/** What every test gets from the configuration. */
export interface TestEnvironment {
  timeoutMs: number;
  egress: Egress;
  sqliteRoot: string | null;
}

/** Hears of a stored result whose status differs from the previous one (webhooks.ts queues it). */
export interface StatusChangeListener {
  /** In the transaction that stores the result: what it writes commits with the result, or not at all. */
  inTransaction(tx: DbOrTx, change: StatusChange): Promise<void>;
  /** After that transaction committed. */
  committed?(change: StatusChange): void;
}

export class ConnectionTestService {
  private readonly statusListeners: StatusChangeListener[] = [];

  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly connections: ConnectionService,
    private readonly limiter: TestLimiter,
    private readonly environment: TestEnvironment,
    private readonly overrides: OverrideStore,
  ) {}

  /** Called after a stored test changed the connection's status (SUCCESS ↔ FAILURE). */
  onStatusChange(listener: StatusChangeListener): void {
    this.statusListeners.push(listener);
  }

  /** Stores a result in the caller's transaction, and what a status change it made writes. */
  private async store(tx: DbOrTx, target: ResultTarget, report: TestReport, actor: ResultActor): Promise<StoredResult> {
    const result = await storeTestResult(tx, target, report, actor);
    if (result.change) for (const listener of this.statusListeners) await listener.inTransaction(tx, result.change);
    return result;
  }

  /** A result that did not come from a test here (a failed token refresh): stored like one, status changes included. */
  async storeResult(target: ResultTarget, report: TestReport, actor: ResultActor): Promise<void> {
    const { change } = await this.db.$transaction((tx) => this.store(tx, target, report, actor));
    this.emit(change);
  }

  private emit(change: StatusChange | null): void {
    if (change) for (const listener of this.statusListeners) listener.committed?.(change);
  }

  private get timeoutMs(): number {
    return this.environment.timeoutMs;
  }

  /** Tests a saved connection; with a patch, tests the unsaved edits and records nothing. */
  async testSaved(caller: Caller, id: string, patch?: ConnectionPatchData | null): Promise<TestReport | TestResult> {
    if (patch) return this.testPatched(caller, id, patch);
    const row = await this.connections.visible(caller, id, "connection.test");
    const draft = await this.connections.storedDraft(row);
    const report = await this.run(actingUserId(caller.signedIn), row.workspaceId, draft);
    const actor = caller.signedIn;
    const audit = {
      workspaceId: row.workspaceId,
      action: "connection.test",
      targetType: "Connection",
      targetId: row.id,
      details: { name: row.name, status: report.status, errorCode: report.errorCode },
    };
    // Most results leave the status as it was: stored with their event on the pg pool (test-record.ts).
    const recorded = await recordTest(
      this.sql,
      { workspaceId: row.workspaceId, connectionId: row.id, report, actorKind: actor.kind, actorId: actorId(actor), event: eventOf(caller, audit) },
      randomUUID(),
    );
    if (recorded) return recorded.stored;
    // A status change: stored with what its listeners write, in one Prisma transaction.
    const { stored, change } = await this.db.$transaction(async (tx) => {
      const result = await this.store(tx, targetOf(row, null), report, { kind: actor.kind, id: actorId(actor) });
      await recordAudit(tx, caller, audit);
      return result;
    });
    this.emit(change);
    return stored as TestResult;
  }

  /**
   * A scheduled re-test (src/jobs/scheduled-tests.ts): the connection is read within its
   * workspace, the test runs on behalf of the schedule's owner (their limiter share) and is
   * stored as that user's test, as a manual one would be. With an environment, what that
   * environment sees is tested and the result joins its override's history. False when the
   * connection, or the environment's override, is gone.
   */
  async testScheduled(workspaceId: string, connectionId: string, userId: string, environment: string | null = null): Promise<boolean> {
    const row = await this.db.connection.findFirst({ where: { id: connectionId, workspaceId } });
    if (!row) return false;
    const base = await this.connections.storedDraft(row);
    const override = environment === null ? null : await this.overrides.find(workspaceId, connectionId, environment);
    if (environment !== null && !override) return false;
    const draft = override ? effectiveDraft(base, await this.overrides.valuesOf(override)) : base;
    const report = await this.run(userId, workspaceId, draft);
    const target = targetOf(row, override);
    const { change } = await this.db.$transaction((tx) => this.store(tx, target, report, { kind: "USER", id: userId }));
    this.emit(change);
    return true;
  }

  /**
   * Tests a saved connection as an environment sees it (testConnectionIn). The result is
   * recorded on the environment's override, apart from the connection's own history; an
   * environment without an override tests the connection's own values and records nothing.
   */
  async testIn(caller: Caller, id: string, environmentName: string): Promise<TestReport | OverrideTestResult> {
    const environment = caller.environment(checkEnvironment(environmentName))!;
    const row = await this.connections.visible(caller, id, "connection.test");
    const base = await this.connections.storedDraft(row);
    const override = await this.overrides.find(row.workspaceId, row.id, environment);
    const draft = override ? effectiveDraft(base, await this.overrides.valuesOf(override)) : base;
    const report = await this.run(actingUserId(caller.signedIn), row.workspaceId, draft);
    const actor = caller.signedIn;
    const { stored, change } = await this.db.$transaction(async (tx) => {
      const result = override ? await this.store(tx, targetOf(row, override), report, { kind: actor.kind, id: actorId(actor) }) : { stored: report, change: null };
      await recordAudit(tx, caller, {
        workspaceId: row.workspaceId,
        action: "connection.test",
        targetType: "Connection",
        targetId: row.id,
        details: { name: row.name, environment, status: report.status, errorCode: report.errorCode },
      });
      return result;
    });
    this.emit(change);
    return stored as TestReport | OverrideTestResult;
  }

  /**
   * The newest test results of several connections, at most `first` (1 to 100) each, in one
   * statement: a page of connections with their history costs the same as one connection.
   * The connections are already visible to the caller; each row is matched on its workspace too.
   */
  async histories(connections: ReadonlyArray<{ id: string; workspaceId: string }>, first: number): Promise<TestResult[][]> {
    const take = Math.min(Math.max(first, 1), MAX_HISTORY);
    const rows = await this.db.$queryRaw<TestResult[]>`
      SELECT recent.*
      FROM unnest(${connections.map((c) => c.id)}::text[], ${connections.map((c) => c.workspaceId)}::text[]) AS wanted(id, workspace_id)
      CROSS JOIN LATERAL (
        SELECT * FROM "TestResult" t
        WHERE t."connectionId" = wanted.id
        ORDER BY t."testedAt" DESC, t."id" DESC
        LIMIT ${take}
      ) AS recent
      WHERE recent."workspaceId" = wanted.workspace_id
      ORDER BY recent."connectionId", recent."testedAt" DESC, recent."id" DESC`;
    const byConnection = new Map<string, TestResult[]>();
    for (const row of rows) {
      const list = byConnection.get(row.connectionId) ?? [];
      list.push(row);
      byConnection.set(row.connectionId, list);
    }
    return connections.map((c) => byConnection.get(c.id) ?? []);
  }

  /** The newest test result of each connection (already visible to the caller), or null. */
  async lastTests(connections: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<Array<TestResult | null>> {
    const rows = await this.sql.rows<TestResult>(LAST_TESTS, [connections.map((c) => c.id), connections.map((c) => c.workspaceId)]);
    const byConnection = new Map(rows.map((row) => [row.connectionId, row]));
    return connections.map((c) => byConnection.get(c.id) ?? null);
  }

  async testInput(caller: Caller, workspaceId: string, input: ConnectionInputData): Promise<TestReport> {
    await caller.authorize(workspaceId, "connection.write");
    const draft = draftFromInput({ ...input, name: input.name || "unsaved" });
    const report = await this.run(actingUserId(caller.signedIn), workspaceId, draft);
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "connection.test_input",
      targetType: "Connection",
      details: { name: draft.name, type: draft.type, status: report.status, errorCode: report.errorCode },
    });
    return report;
  }

  private async testPatched(caller: Caller, id: string, patch: ConnectionPatchData): Promise<TestReport> {
    const row = await this.connections.visible(caller, id, "connection.write");
    const { draft, ...change } = applyPatch(await this.connections.storedDraft(row), patch);
    let report: TestReport;
    if (!(await caller.mayKeepSecretsWhenRepointing(row.workspaceId, change))) {
      report = failure(
        "SECRET_REQUIRED",
        `Testing against a new type, host, port or login needs ${change.keptSecrets.join(", ")} entered again.`,
        0,
      );
    } else {
      report = await this.run(actingUserId(caller.signedIn), row.workspaceId, draft);
    }
    await recordAudit(this.db, caller, {
      workspaceId: row.workspaceId,
      action: "connection.test_patch",
      targetType: "Connection",
      targetId: row.id,
      details: { name: row.name, status: report.status, errorCode: report.errorCode },
    });
    return report;
  }

  /** One test, in a span when tracing is on, counted by type, status and code. */
  private run(userId: string, workspaceId: string, draft: ConnectionDraft): Promise<TestReport> {
    const type = adapterFor(draft.type).id;
    return inSpan("connection test", { "patchbay.connection.type": type }, async (span) => {
      const report = await this.runUnobserved(userId, workspaceId, draft);
      metrics.connectionTests.inc({ type, status: report.status, code: report.errorCode ?? "none" });
      metrics.connectionTestDuration.observe({ type }, report.latencyMs / 1000);
      span.set({ "patchbay.test.status": report.status, ...(report.errorCode ? { "patchbay.test.code": report.errorCode } : {}) });
      return report;
    });
  }

  private async runUnobserved(userId: string, workspaceId: string, draft: ConnectionDraft): Promise<TestReport> {
    const adapter = adapterFor(draft.type);
    const settings = settingsOf(draft);
    const problems = validateSettings(adapter, settings);
    if (problems.length > 0) {
      return failure("INVALID_CONFIG", problems.map((p) => `${p.field}: ${p.message}`).join(" "), 0);
    }
    if (!adapter.test) return failure("INVALID_CONFIG", `${adapter.label} connections cannot be tested.`, 0);

    const controller = new AbortController();
    const deadline = setTimeout(() => controller.abort(), this.timeoutMs);
    const started = performance.now();
    let release: (() => void) | undefined;
    try {
      release = await this.limiter.acquire(workspaceId, controller.signal, userId);
      const queuedMs = performance.now() - started;
      const timeLeft = Math.max(1, Math.round(this.timeoutMs - queuedMs));
      const context = { signal: controller.signal, timeoutMs: timeLeft, egress: this.environment.egress, sqliteRoot: this.environment.sqliteRoot };
      const outcome = await settleBeforeAbort(adapter, adapter.test(settings, context), controller.signal);
      return withQueueNote(toReport(outcome, Math.round(performance.now() - started), draft), queuedMs);
    } catch (error) {
      const waited = Math.round(performance.now() - started);
      if (controller.signal.aborted) {
        const what = release ? "did not answer" : "waited for a free test slot and found none";
        return failure("TIMEOUT", `The test ${what} within ${formatDuration(this.timeoutMs)}.`, waited);
      }
      return toReport({ ok: false, code: "UNKNOWN", message: (error as Error).message ?? "The test failed." }, waited, draft);
    } finally {
      clearTimeout(deadline);
      controller.abort();
      release?.();
    }
  }
}

/** Settles with the adapter's outcome, or with a timeout when the deadline passes first. */
function settleBeforeAbort(adapter: ConnectionAdapter, test: Promise<TestOutcome>, signal: AbortSignal): Promise<TestOutcome> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new Error(`${adapter.id} test passed its deadline`));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    test.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function toReport(outcome: TestOutcome, latencyMs: number, draft: ConnectionDraft): TestReport {
  const message = scrubSecrets(outcome.message, Object.values(draft.secrets));
  if (outcome.ok) {
    return {
      id: randomUUID(),
      status: "SUCCESS",
      errorCode: null,
      message,
      latencyMs,
      serverVersion: outcome.serverVersion ? scrubSecrets(outcome.serverVersion, Object.values(draft.secrets)) : null,
      testedAt: new Date(),
    };
  }
  return { ...failure(outcome.code, message, latencyMs) };
}

/** Tests that waited for a free slot say so: the wait is part of latencyMs and of the deadline. */
const QUEUE_NOTE_MS = 100;

function withQueueNote(report: TestReport, queuedMs: number): TestReport {
  if (queuedMs < QUEUE_NOTE_MS) return report;
  return { ...report, message: `${report.message} (It waited ${formatDuration(queuedMs)} for a free test slot first.)` };
}

function targetOf(row: { id: string; workspaceId: string; name: string }, override: { id: string; environment: string } | null): ResultTarget {
  return { workspaceId: row.workspaceId, connectionId: row.id, connectionName: row.name, override: override && { id: override.id, environment: override.environment } };
}

function failure(code: TestErrorCode, message: string, latencyMs: number): TestReport {
  return { id: randomUUID(), status: "FAILURE", errorCode: code, message, latencyMs, serverVersion: null, testedAt: new Date() };
}
