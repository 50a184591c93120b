/**
 * Storing a test result — of a connection, or of one environment's override — and telling
 * whether it changed that status (SUCCESS ↔ FAILURE; a first result is no change). The read
 * of the previous result and the insert happen under a transaction-scoped advisory lock on
 * the connection or override, so two tests finishing at once in two processes see each
 * other's result: one flip is reported once, never twice and never missed.
 */
import type { DbOrTx } from "../../db/prisma";
import type { OverrideTestResult, TestResult } from "../../generated/prisma/client";
import type { StatusChange } from "../health/webhooks";
import type { TestReport } from "./testing";

/** Whose history a result joins. */
export interface ResultTarget {
  workspaceId: string;
  connectionId: string;
  connectionName: string;
  /** The environment's override; null: the connection's own history. */
  override: { id: string; environment: string } | null;
}

export interface ResultActor {
  kind: "USER" | "API_TOKEN";
  id: string;
}

export interface StoredResult {
  stored: TestResult | OverrideTestResult;
  /** The status change this result made, or null. */
  change: StatusChange | null;
}

/** Inside the caller's transaction (tx must be one, so that the lock lasts until its commit). */
export async function storeTestResult(tx: DbOrTx, target: ResultTarget, report: TestReport, actor: ResultActor): Promise<StoredResult> {
  const { workspaceId, connectionId, override } = target;
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtextextended(${`patchbay:test-status:${override?.id ?? connectionId}`}, 0))`;
  const newest = [{ testedAt: "desc" as const }, { id: "desc" as const }];
  const result = {
    id: report.id,
    workspaceId,
    status: report.status,
    errorCode: report.errorCode,
    message: report.message,
    latencyMs: report.latencyMs,
    serverVersion: report.serverVersion,
    testedAt: report.testedAt,
    actorKind: actor.kind,
    actorId: actor.id,
  };
  let previous: { status: "SUCCESS" | "FAILURE" } | null;
  let stored: TestResult | OverrideTestResult;
  if (override) {
    previous = await tx.overrideTestResult.findFirst({ where: { overrideId: override.id, workspaceId }, orderBy: newest, select: { status: true } });
    stored = await tx.overrideTestResult.create({ data: { ...result, overrideId: override.id } });
  } else {
    previous = await tx.testResult.findFirst({ where: { connectionId, workspaceId }, orderBy: newest, select: { status: true } });
    stored = await tx.testResult.create({ data: { ...result, connectionId } });
  }
  if (!previous || previous.status === report.status) return { stored, change: null };
  return {
    stored,
    change: {
      workspaceId,
      connectionId,
      connectionName: target.connectionName,
      environment: override?.environment ?? null,
      oldStatus: previous.status,
      newStatus: report.status,
      code: report.errorCode,
      message: report.message,
      time: report.testedAt,
    },
  };
}
