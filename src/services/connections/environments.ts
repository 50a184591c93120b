/**
 * Environments: setting and removing a connection's per-environment overrides, and the
 * environment names a workspace uses. An override follows every rule of the connection it
 * belongs to: WRITE to change it, the repointing rule over what the environment sees, the
 * connection's version (expectedVersion, and a change is a new version written through
 * ConnectionStore, whose snapshot holds every override, so a rollback restores them), sealed
 * secrets, an audit event without values.
 */
import type { Db } from "../../db/prisma";
import { ConflictError } from "../../errors";
import type { Connection } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { assertValid, type ConnectionPatchData } from "./draft";
import {
  applyOverridePatch,
  changedOverrideFields,
  checkEnvironment,
  NO_OVERRIDE,
  othersThan,
  overriddenFields,
} from "./override-draft";
import { secretRequired, type ConnectionService } from "./service";

export class EnvironmentService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
  ) {}

  async setOverride(
    caller: Caller,
    id: string,
    environmentName: string,
    patch: ConnectionPatchData,
    expectedVersion?: number | null,
  ): Promise<Connection> {
    const environment = this.environmentOf(caller, environmentName);
    const row = await this.connections.visible(caller, id, "connection.write");
    checkVersion(row, expectedVersion);
    const state = await this.connections.storedState(row);
    const stored = state.overrides.find((o) => o.environment === environment) ?? NO_OVERRIDE;
    const patched = applyOverridePatch(state.draft, stored, patch);
    if (!(await caller.mayKeepSecretsWhenRepointing(row.workspaceId, patched.change))) throw secretRequired(patched.change.keptSecrets[0]);
    assertValid(patched.after);
    const changed = changedOverrideFields(stored, patched.values);
    if (changed.length === 0) return row;
    const overrides = [...othersThan(state.overrides, environment), ...(patched.empty ? [] : [{ environment, ...patched.values }])];
    const action = patched.empty ? "connection.override_remove" : "connection.override_set";
    return this.connections.change(caller, state, state.draft, "override", action, { environment, changed }, {}, overrides);
  }

  async removeOverride(caller: Caller, id: string, environmentName: string, expectedVersion?: number | null): Promise<Connection> {
    const environment = this.environmentOf(caller, environmentName);
    const row = await this.connections.visible(caller, id, "connection.write");
    checkVersion(row, expectedVersion);
    const state = await this.connections.storedState(row);
    const existing = state.overrides.find((o) => o.environment === environment);
    if (!existing) return row;
    return this.connections.change(
      caller,
      state,
      state.draft,
      "override",
      "connection.override_remove",
      { environment, changed: overriddenFields(existing) },
      {},
      othersThan(state.overrides, environment),
    );
  }

  /** Environment names in use: those of overrides and of tokens bound to one. */
  async environmentsOf(caller: Caller, workspaceId: string): Promise<string[]> {
    await caller.authorize(workspaceId, "workspace.read");
    const rows = await this.db.$queryRaw<Array<{ environment: string }>>`
      SELECT DISTINCT "environment" FROM "ConnectionOverride" WHERE "workspaceId" = ${workspaceId}
      UNION
      SELECT DISTINCT "environment" FROM "ApiToken" WHERE "workspaceId" = ${workspaceId} AND "environment" IS NOT NULL AND "revokedAt" IS NULL
      ORDER BY 1`;
    return rows.map((r) => r.environment);
  }

  /** A well-formed name the caller may act in (a bound token: its own). */
  environmentOf(caller: Caller, name: string): string {
    return caller.environment(checkEnvironment(name))!;
  }
}

function checkVersion(row: Connection, expectedVersion?: number | null): void {
  if (expectedVersion != null && expectedVersion !== row.version) {
    throw new ConflictError(`The connection changed meanwhile: it is at version ${row.version}, not ${expectedVersion}.`, {
      currentVersion: row.version,
    });
  }
}


