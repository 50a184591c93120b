/**
 * Scheduled re-tests of a workspace's connections (off by default: a workspace has none).
 * Setting and removing them is ADMIN and above, audited; every id is read within the
 * workspace, so another workspace's connection is NOT_FOUND. claimDue is the scheduler's side:
 * one statement (its own short transaction) locks the due rows with FOR UPDATE SKIP LOCKED and
 * advances their nextRunAt before any test runs, so two processes never claim the same run.
 * A schedule may name one environment of its connection; one for all connections tests each
 * connection and each environment that has an override of it.
 *
 * Authority: a schedule runs on behalf of the admin who last set it, and only while they are
 * ADMIN or OWNER of the workspace. Demoting or removing them pauses it (pausedAt and
 * pausedReason, shown in Workspace.testSchedules) in the same transaction, and every claim
 * checks again, so a membership gone any other way pauses it before its next run. An admin
 * who sets it again takes it over, and it resumes on their behalf.
 */
import { randomUUID } from "node:crypto";
import { actingUserId } from "../../auth/actor";
import type { Db, DbOrTx } from "../../db/prisma";
import type { Sql, Statement } from "../../db/sql";
import { BadUserInputError, NotFoundError } from "../../errors";
import type { TestSchedule } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { recordAudit } from "../audit";
import { checkEnvironment } from "../connections/override-draft";

export const MIN_EVERY_MINUTES = 1;
export const MAX_EVERY_MINUTES = 1440;
/** At most this many schedules per workspace (one per connection plus one for all). */
const MAX_SCHEDULES_PER_WORKSPACE = 1000;

/** A claimed run: which connections to test (and in which environment), on whose behalf. */
export interface DueRun {
  scheduleId: string;
  workspaceId: string;
  connectionId: string | null;
  environment: string | null;
  createdById: string;
}

/** One test an all-connections run makes: a connection's own values, or one environment's. */
export interface RunTarget {
  connectionId: string;
  environment: string | null;
}

const UPSERT: Statement = {
  name: "test-schedule-upsert",
  text: `
    INSERT INTO "TestSchedule" ("id", "workspaceId", "connectionId", "environment", "everyMinutes", "nextRunAt", "createdById")
    VALUES ($1, $2, $3, $6, $4, now(), $5)
    ON CONFLICT ("workspaceId", (COALESCE("connectionId", '')), (COALESCE("environment", '')))
    DO UPDATE SET "everyMinutes" = EXCLUDED."everyMinutes", "nextRunAt" = now(), "createdById" = EXCLUDED."createdById",
      "pausedAt" = NULL, "pausedReason" = NULL
    RETURNING *`,
};

/** Why a schedule stopped running (TestSchedule.pausedReason). */
export const PAUSED_DEMOTED = "Paused: the admin who set it is no longer an ADMIN or OWNER of this workspace. Set it again to run it on your behalf.";
export const PAUSED_REMOVED = "Paused: the admin who set it is no longer a member of this workspace. Set it again to run it on your behalf.";

/**
 * Claims due runs whose creator is still ADMIN or OWNER of the workspace, and pauses (with
 * the reason) those whose creator is not: authority is checked when a run happens, not only
 * when the schedule was set. A paused schedule is never due.
 */
const CLAIM_DUE: Statement = {
  name: "test-schedule-claim-due-authorized",
  text: `
    WITH due AS (
      SELECT s."id", m."role" IS NOT NULL AS "member", COALESCE(m."role" IN ('ADMIN', 'OWNER'), false) AS "authorized"
      FROM "TestSchedule" s
      LEFT JOIN "Membership" m ON m."workspaceId" = s."workspaceId" AND m."userId" = s."createdById"
      WHERE s."nextRunAt" <= now() AND s."pausedAt" IS NULL
      ORDER BY s."nextRunAt"
      LIMIT $1
      FOR UPDATE OF s SKIP LOCKED
    )
    UPDATE "TestSchedule" s
    SET "nextRunAt" = CASE WHEN due."authorized" THEN now() + make_interval(mins => s."everyMinutes") ELSE s."nextRunAt" END,
        "pausedAt" = CASE WHEN due."authorized" THEN NULL ELSE now() END,
        "pausedReason" = CASE WHEN due."authorized" THEN NULL WHEN due."member" THEN $2 ELSE $3 END
    FROM due WHERE s."id" = due."id"
    RETURNING s."id" AS "scheduleId", s."workspaceId", s."connectionId", s."environment", s."createdById", due."authorized"`,
};

/**
 * Pauses the schedules a person set in a workspace, in the transaction that demotes or removes
 * them (src/services/workspaces.ts), so Workspace.testSchedules says so at once.
 */
export async function pauseSchedulesOf(tx: DbOrTx, workspaceId: string, userId: string, reason: string): Promise<number> {
  const { count } = await tx.testSchedule.updateMany({ where: { workspaceId, createdById: userId, pausedAt: null }, data: { pausedAt: new Date(), pausedReason: reason } });
  return count;
}

export class TestSchedules {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
  ) {}

  async list(caller: Caller, workspaceId: string): Promise<TestSchedule[]> {
    await caller.authorize(workspaceId, "workspace.read");
    return this.db.testSchedule.findMany({ where: { workspaceId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  }

  /**
   * Creates or changes the schedule of one connection (or of all, connectionId null), or of one
   * connection in one environment that has an override of it; its first run is due now.
   */
  async set(caller: Caller, workspaceId: string, everyMinutes: number, connectionId: string | null, environment: string | null = null): Promise<TestSchedule> {
    await caller.authorize(workspaceId, "workspace.admin");
    const env = this.environmentOf(caller, connectionId, environment);
    if (!Number.isInteger(everyMinutes) || everyMinutes < MIN_EVERY_MINUTES || everyMinutes > MAX_EVERY_MINUTES) {
      throw new BadUserInputError(`everyMinutes must be a whole number from ${MIN_EVERY_MINUTES} to ${MAX_EVERY_MINUTES}.`, "everyMinutes");
    }
    const name = connectionId === null ? null : await this.connectionName(workspaceId, connectionId);
    if (env !== null && !(await this.db.connectionOverride.findFirst({ where: { workspaceId, connectionId: connectionId!, environment: env }, select: { id: true } }))) {
      throw new BadUserInputError(`The connection has no override in ${env}: there it is the connection itself, which a schedule without environment tests.`, "environment");
    }
    if ((await this.db.testSchedule.count({ where: { workspaceId } })) >= MAX_SCHEDULES_PER_WORKSPACE) {
      throw new BadUserInputError(`A workspace has at most ${MAX_SCHEDULES_PER_WORKSPACE} schedules.`, "workspaceId");
    }
    const [schedule] = await this.sql.rows<TestSchedule>(UPSERT, [randomUUID(), workspaceId, connectionId, everyMinutes, actingUserId(caller.signedIn), env]);
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "test_schedule.set",
      targetType: connectionId ? "Connection" : "Workspace",
      targetId: connectionId ?? workspaceId,
      details: { everyMinutes, connection: name, ...(env ? { environment: env } : {}) },
    });
    return schedule;
  }

  /** Removes the schedule of one connection (or the all-connections one, or one environment's); false when there was none. */
  async remove(caller: Caller, workspaceId: string, connectionId: string | null, environment: string | null = null): Promise<boolean> {
    await caller.authorize(workspaceId, "workspace.admin");
    const env = this.environmentOf(caller, connectionId, environment);
    const name = connectionId === null ? null : await this.connectionName(workspaceId, connectionId);
    const { count } = await this.db.testSchedule.deleteMany({ where: { workspaceId, connectionId, environment: env } });
    if (count > 0) {
      await recordAudit(this.db, caller, {
        workspaceId,
        action: "test_schedule.remove",
        targetType: connectionId ? "Connection" : "Workspace",
        targetId: connectionId ?? workspaceId,
        details: { connection: name, ...(env ? { environment: env } : {}) },
      });
    }
    return count > 0;
  }

  /** Claims up to `limit` due runs for this process and moves each one's next run on. */
  async claimDue(limit: number): Promise<DueRun[]> {
    const rows = await this.sql.rows<DueRun & { authorized: boolean }>(CLAIM_DUE, [limit, PAUSED_DEMOTED, PAUSED_REMOVED]);
    return rows.filter((row) => row.authorized).map(({ authorized: _authorized, ...run }) => run);
  }

  /**
   * What a run for all connections tests, at most `limit` tests: each connection's own values,
   * then each environment that has an override of it.
   */
  async allTargets(workspaceId: string, limit: number): Promise<RunTarget[]> {
    const rows = await this.db.connection.findMany({
      where: { workspaceId },
      select: { id: true, overrides: { where: { workspaceId }, select: { environment: true }, orderBy: { environment: "asc" } } },
      orderBy: { id: "asc" },
      take: limit,
    });
    const targets: RunTarget[] = [];
    for (const row of rows) {
      targets.push({ connectionId: row.id, environment: null });
      for (const { environment } of row.overrides) targets.push({ connectionId: row.id, environment });
    }
    return targets.slice(0, limit);
  }

  /** A schedule's environment: checked like any environment name, only with a connection, and a bound token's own. */
  private environmentOf(caller: Caller, connectionId: string | null, environment: string | null): string | null {
    if (environment === null) return null;
    const env = checkEnvironment(environment);
    if (connectionId === null) {
      throw new BadUserInputError("A schedule for every connection already tests each environment that has an override; name a connection to schedule one environment.", "environment");
    }
    return caller.environment(env);
  }

  private async connectionName(workspaceId: string, connectionId: string): Promise<string> {
    const row = await this.db.connection.findFirst({ where: { id: connectionId, workspaceId }, select: { name: true } });
    if (!row) throw new NotFoundError("Connection");
    return row.name;
  }
}
