/**
 * Connections: create, read, update, delete, inside one workspace. Secrets are sealed before
 * they reach the database and never leave this service except through `storedDraft` for
 * the code paths that must use them (tests, and resolving).
 */
import { randomUUID } from "node:crypto";
import { isUniqueViolation } from "../../db/errors";
import type { Db } from "../../db/prisma";
import { changesDestination } from "../../adapters/registry";
import { BadUserInputError, ConflictError, ForbiddenError, NotFoundError } from "../../errors";
import type { Connection, Prisma } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import type { Action } from "../../policy/policy";
import { recordAudit } from "../audit";
import {
  adapterFor,
  applyPatch,
  assertValid,
  checkName,
  type ConnectionDraft,
  type ConnectionInputData,
  type ConnectionPatchData,
  draftFromInput,
  type JsonObject,
  sameDraft,
  settingsOf,
} from "./draft";
import { checkKeepAliasDays, DEFAULT_KEEP_ALIAS_DAYS, type ConnectionAliases } from "./aliases";
import type { ConnectionStore, StoredOverride, StoredState } from "./store";
import { changedOverrideStates, type ConnectionVersions, type VersionAction } from "./versions";
import { effectiveDraft, type EnvironmentValues, isEmpty, NO_OVERRIDE } from "./override-draft";
import type { ConnectionSecrets } from "./secrets";
import { actorNameOf, actorNames, type UsageCounter, usageSince } from "./usage";
import { type ListedConnection, listConnections, SUMMARY_COLUMNS } from "./listing";
import type { Sql, Statement } from "../../db/sql";
import type { OverrideStore } from "./overrides";
import { decodeCursor, type Page, pageSize, toPage } from "../pagination";

export interface ConnectionListArgs {
  first?: number | null;
  after?: string | null;
  type?: string | null;
  search?: string | null;
}

export type ConnectionPage = Page<ListedConnection> & { totalCount: number };

/** The text as a LIKE pattern that matches only itself. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** One connection by id, every column (Prisma's Connection), on the pg pool: visible() is on every test's path. */
const CONNECTION_BY_ID: Statement = {
  name: "connection-by-id",
  text: `SELECT ${SUMMARY_COLUMNS}, c."secretCiphertext" FROM "Connection" c WHERE c."id" = $1`,
};

/** A connection resolved this recently is in use: deleting it needs force. */
const RECENT_USE_DAYS = 7;

export class ConnectionService {
  constructor(
    private readonly db: Db,
    private readonly secrets: ConnectionSecrets,
    private readonly sql: Sql,
    readonly usage: UsageCounter,
    private readonly store: ConnectionStore,
    readonly versions: ConnectionVersions,
    readonly aliases: ConnectionAliases,
    private readonly overrides?: OverrideStore,
  ) {}

  async create(caller: Caller, workspaceId: string, input: ConnectionInputData): Promise<Connection> {
    await caller.authorize(workspaceId, "connection.write");
    const draft = draftFromInput(input);
    assertValid(draft);
    const id = randomUUID();
    const change = await this.store.prepare({ workspaceId, id, draft, previous: null, action: "create" });
    try {
      return await this.db.$transaction(async (tx) => {
        const [created] = await this.store.write(tx, caller, [change]);
        await recordAudit(tx, caller, {
          workspaceId,
          action: "connection.create",
          targetType: "Connection",
          targetId: id,
          details: { name: draft.name, type: draft.type, secretFields: change.sealed.secretFields },
        });
        return created;
      });
    } catch (error) {
      throw nameConflict(error, draft.name);
    }
  }

  async update(
    caller: Caller,
    id: string,
    patch: ConnectionPatchData,
    expectedVersion?: number | null,
  ): Promise<Connection> {
    const row = await this.visible(caller, id, "connection.write");
    checkExpectedVersion(row, expectedVersion);
    const state = await this.storedState(row);
    const stored = state.draft;
    const { draft, ...change } = applyPatch(stored, patch);
    if (!(await caller.mayKeepSecretsWhenRepointing(row.workspaceId, change))) throw secretRequired(change.keptSecrets[0]);
    await this.refuseRepointingOverrideSecrets(caller, row, stored, draft, change.repointed);
    assertValid(draft);
    if (sameDraft(stored, draft)) return row;
    return this.change(caller, state, draft, "update", "connection.update", {});
  }

  /**
   * Restores the connection as it was at `version`, secrets and environments included, as a
   * new version: overrides set since are removed, removed ones come back, changed ones get
   * their values of then. A version from before versions held the environments (format 1)
   * restores the connection's own values and leaves its overrides as they are.
   *
   * The repointing rule holds as for an update, for the connection and for every environment:
   * a version that points one of them elsewhere (type, host, port, login, ...) while bringing
   * stored secrets back needs the right to resolve them, since the caller cannot give them again.
   */
  async rollback(caller: Caller, id: string, version: number, expectedVersion?: number | null): Promise<Connection> {
    const row = await this.visible(caller, id, "connection.write");
    checkExpectedVersion(row, expectedVersion);
    if (!Number.isInteger(version) || version < 1) throw new BadUserInputError("version is a version number, from 1.", "version");
    const state = await this.storedState(row);
    const target = await this.versions.stateAt(row.workspaceId, id, version);
    const overrides = target.overrides ?? state.overrides;
    const views = environmentViews(state, target.draft, overrides);
    for (const view of views) {
      const repointing = {
        repointed: view.after.type !== view.before.type || changesDestination(adapterFor(view.after.type), settingsOf(view.before), settingsOf(view.after)),
        keptSecrets: Object.keys(view.after.secrets).sort(),
      };
      if (!(await caller.mayKeepSecretsWhenRepointing(row.workspaceId, repointing))) {
        const where = view.environment === null ? "this connection" : `this connection's ${view.environment} environment`;
        throw new ForbiddenError(
          `Version ${version} points ${where} elsewhere and brings back stored secrets (${repointing.keptSecrets.join(", ")}); ` +
            "only someone who may resolve them can roll back to it. Update the connection and enter the secrets instead.",
        );
      }
    }
    for (const view of views) assertValid(view.after);
    if (sameDraft(state.draft, target.draft) && changedOverrideStates(state.overrides, overrides.filter((o) => !isEmpty(o))).length === 0) return row;
    return this.change(caller, state, target.draft, "rollback", "connection.rollback", { toVersion: version }, {}, overrides);
  }

  /**
   * Renames; the old name keeps resolving for keepAliasDays days (0: not at all) and cannot be
   * taken by another connection meanwhile (aliases.ts). An update that changes the name does
   * the same with the default of 7 days.
   */
  async rename(
    caller: Caller,
    id: string,
    newName: string,
    keepAliasDays: number = DEFAULT_KEEP_ALIAS_DAYS,
    expectedVersion?: number | null,
  ): Promise<Connection> {
    const row = await this.visible(caller, id, "connection.write");
    checkExpectedVersion(row, expectedVersion);
    const days = checkKeepAliasDays(keepAliasDays);
    const name = withFieldName("newName", () => checkName(newName));
    if (name === row.name) return row;
    const state = await this.storedState(row);
    return this.change(caller, state, { ...state.draft, name }, "rename", "connection.rename", { from: row.name, keepAliasDays: days }, {
      keepAliasDays: days,
      nameField: "newName",
    });
  }

  /**
   * Stores a change of an existing connection (its own values, its overrides, or both) as its
   * next version, with its audit event; `details` may replace the event's `changed`. Absent
   * `overrides` keeps them as they are.
   */
  async change(
    caller: Caller,
    previous: StoredState,
    draft: ConnectionDraft,
    action: VersionAction,
    auditAction: string,
    details: Record<string, Prisma.InputJsonValue>,
    naming: { keepAliasDays?: number; nameField?: string } = {},
    overrides?: readonly EnvironmentValues[],
  ): Promise<Connection> {
    const { row } = previous;
    const change = await this.store.prepare({
      workspaceId: row.workspaceId,
      id: row.id,
      draft,
      previous,
      overrides,
      action,
      ...naming,
    });
    try {
      return await this.db.$transaction(async (tx) => {
        const [saved] = await this.store.write(tx, caller, [change]);
        await recordAudit(tx, caller, {
          workspaceId: row.workspaceId,
          action: auditAction,
          targetType: "Connection",
          targetId: row.id,
          details: { name: draft.name, version: change.version, changed: change.changedFields, ...details },
        });
        return saved;
      });
    } catch (error) {
      throw nameConflict(error, draft.name, naming.nameField);
    }
  }

  /**
   * The repointing rule for the environments: moving the connection also moves each
   * environment that does not override where it points, with that environment's own secrets.
   */
  private async refuseRepointingOverrideSecrets(caller: Caller, row: Connection, stored: ConnectionDraft, draft: ConnectionDraft, repointed: boolean) {
    if (!repointed || !this.overrides || (await caller.can(row.workspaceId, "connection.resolve"))) return;
    const [moved] = await this.overrides.secretsRepointedWith(row.workspaceId, row.id, stored, draft);
    if (!moved) return;
    const [environment, field] = moved.split(": ");
    throw new BadUserInputError(
      `Changing the type, host, port or login also sends the ${environment} environment's stored ${field}, which you may not read, somewhere new: ` +
        `set ${field} again in that environment (setConnectionOverride) first, or ask someone who may resolve secrets.`,
      `overrides.${environment}.${field}`,
    );
  }

  /**
   * Deletes a connection. One that code resolved in the last 7 days is refused with CONFLICT
   * naming who used it, unless `force` is given: deleting it would break them.
   */
  async delete(caller: Caller, id: string, force = false): Promise<boolean> {
    const row = await this.visible(caller, id, "connection.write");
    if (!force) await this.refuseIfRecentlyUsed(row);
    await this.db.$transaction(async (tx) => {
      await tx.connection.delete({ where: { id } });
      await recordAudit(tx, caller, {
        workspaceId: row.workspaceId,
        action: "connection.delete",
        targetType: "Connection",
        targetId: id,
        details: { name: row.name, type: row.type, forced: force },
      });
    });
    return true;
  }

  private async refuseIfRecentlyUsed(row: Connection): Promise<void> {
    const recent = await usageSince(this.db, this.usage, [row.id], RECENT_USE_DAYS);
    if (recent.length === 0) return;
    const names = await actorNames(this.db, recent);
    const usedBy = recent.map((r) => ({
      actorKind: r.actorKind,
      actorId: r.actorId,
      actorName: actorNameOf(names, r),
      count: r.count,
      lastUsedAt: r.lastUsedAt.toISOString(),
    }));
    throw new ConflictError(
      `${row.name} was resolved in the last ${RECENT_USE_DAYS} days by ${usedBy.map((u) => u.actorName).join(", ")}; ` +
        "deleting it would break them. Pass force: true to delete it anyway.",
      { usedBy },
    );
  }

  /** A connection the caller may act on; NOT_FOUND for another workspace's or a missing one. */
  async visible(caller: Caller, id: string, action: Action = "workspace.read"): Promise<Connection> {
    const [row] = await this.sql.rows<Connection>(CONNECTION_BY_ID, [id]);
    if (!row) throw new NotFoundError("Connection");
    await caller.authorize(row.workspaceId, action, "Connection");
    return row;
  }

  async byName(caller: Caller, workspaceId: string, name: string): Promise<Connection | null> {
    await caller.authorize(workspaceId, "workspace.read");
    return this.db.connection.findUnique({ where: { workspaceId_name: { workspaceId, name } } });
  }

  async list(caller: Caller, workspaceId: string, args: ConnectionListArgs): Promise<ConnectionPage> {
    await caller.authorize(workspaceId, "workspace.read");
    const [page] = await this.pagesOf([workspaceId], args);
    return page;
  }

  /**
   * list() for several workspaces with the same arguments (workspaces { connections }): one
   * statement whatever their number (listing.ts). An Error in place of each refused workspace.
   */
  async listOf(caller: Caller, workspaceIds: readonly string[], args: ConnectionListArgs): Promise<Array<ConnectionPage | Error>> {
    const refusals = await caller.authorizeEach(workspaceIds, "workspace.read");
    const allowed = workspaceIds.filter((_, i) => !refusals[i]);
    const pages = allowed.length ? await this.pagesOf(allowed, args) : [];
    let next = 0;
    return workspaceIds.map((_, i) => refusals[i] ?? pages[next++]);
  }

  private async pagesOf(workspaceIds: readonly string[], args: ConnectionListArgs): Promise<ConnectionPage[]> {
    const size = pageSize(args.first, 50);
    const search = args.search?.trim();
    const filter = {
      type: args.type || null,
      search: search ? escapeLike(search) : null,
      after: args.after ? decodeCursor(args.after, 1)[0] : null,
    };
    const listings = await listConnections(this.sql, workspaceIds, filter, size + 1);
    return workspaceIds.map((id) => {
      const { rows, totalCount } = listings.get(id)!;
      return { ...toPage(rows, size, (c) => [c.name]), totalCount };
    });
  }

  /** The stored connection with its overrides, secrets opened: what a change starts from. */
  async storedState(row: Connection): Promise<StoredState> {
    const [draft, overrides] = await Promise.all([this.storedDraft(row), this.storedOverrides(row)]);
    return { row, draft, overrides };
  }

  /** The connection's overrides, secrets opened. */
  async storedOverrides(row: Connection): Promise<StoredOverride[]> {
    return (await this.storedOverridesOf([row]))[0];
  }

  /** The overrides of several connections in one statement, secrets opened. */
  async storedOverridesOf(rows: readonly Connection[]): Promise<StoredOverride[][]> {
    return this.overrides ? this.overrides.storedOf(rows) : rows.map(() => []);
  }

  /** storedState for several connections, their overrides read in one statement. */
  async storedStates(rows: readonly Connection[]): Promise<StoredState[]> {
    const [drafts, overrides] = await Promise.all([Promise.all(rows.map((row) => this.storedDraft(row))), this.storedOverridesOf(rows)]);
    return rows.map((row, i) => ({ row, draft: drafts[i], overrides: overrides[i] }));
  }

  /** The stored connection as a draft, secrets opened. */
  async storedDraft(row: Connection): Promise<ConnectionDraft> {
    return {
      name: row.name,
      type: row.type,
      description: row.description,
      host: row.host,
      port: row.port,
      schema: row.schema,
      login: row.login,
      extra: (row.extra ?? {}) as JsonObject,
      secrets: await this.secrets.open(row),
    };
  }
}

/**
 * What each audience sees before and after a rollback: the connection itself (environment
 * null), and every environment that has an override now or at the target version.
 */
function environmentViews(
  state: StoredState,
  target: ConnectionDraft,
  overrides: readonly EnvironmentValues[],
): Array<{ environment: string | null; before: ConnectionDraft; after: ConnectionDraft }> {
  const now = new Map(state.overrides.map((o) => [o.environment, o]));
  const then = new Map(overrides.map((o) => [o.environment, o]));
  const views: Array<{ environment: string | null; before: ConnectionDraft; after: ConnectionDraft }> = [
    { environment: null, before: state.draft, after: target },
  ];
  for (const environment of [...new Set([...now.keys(), ...then.keys()])].sort()) {
    views.push({
      environment,
      before: effectiveDraft(state.draft, now.get(environment) ?? NO_OVERRIDE),
      after: effectiveDraft(target, then.get(environment) ?? NO_OVERRIDE),
    });
  }
  return views;
}

export function secretRequired(field: string): BadUserInputError {
  return new BadUserInputError(
    `Changing the type, host, port or login keeps the stored ${field}, which you may not read: enter ${field} again.`,
    field,
  );
}

function checkExpectedVersion(row: Connection, expectedVersion: number | null | undefined): void {
  if (expectedVersion != null && expectedVersion !== row.version) {
    throw new ConflictError(`The connection changed meanwhile: it is at version ${row.version}, not ${expectedVersion}.`, {
      currentVersion: row.version,
    });
  }
}

function nameConflict(error: unknown, name: string, field = "name"): unknown {
  if (isUniqueViolation(error)) {
    return new ConflictError(`A connection named ${name} exists in this workspace.`, { field });
  }
  return error;
}

/** Runs `check`, re-labelling a BAD_USER_INPUT's field (checkName says "name"). */
function withFieldName<T>(field: string, check: () => T): T {
  try {
    return check();
  } catch (error) {
    if (error instanceof BadUserInputError) throw new BadUserInputError(error.message, field);
    throw error;
  }
}
