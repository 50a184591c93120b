/**
 * Environments: setting and removing a connection's per-environment overrides, and the
 * environment names a workspace uses. An override follows every rule of the connection it
 * belongs to: WRITE to change it, the repointing rule over what the environment sees, the
 * connection's version (expectedVersion, and a change makes a new version), sealed secrets,
 * an audit event without values.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../../db/prisma";
import { ConflictError } from "../../errors";
import type { Connection, Prisma } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { recordAudit } from "../audit";
import { assertValid, type ConnectionPatchData, type JsonObject } from "./draft";
import { applyOverridePatch, changedOverrideFields, checkEnvironment, NO_OVERRIDE, type OverrideValues, overriddenFields } from "./override-draft";
import type { OverrideStore } from "./overrides";
import type { ConnectionSecrets } from "./secrets";
import { secretRequired, type ConnectionService } from "./service";

export class EnvironmentService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly store: OverrideStore,
    private readonly secrets: ConnectionSecrets,
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
    const base = await this.connections.storedDraft(row);
    const existing = await this.store.find(row.workspaceId, row.id, environment);
    const stored = existing ? await this.store.valuesOf(existing) : NO_OVERRIDE;
    const patched = applyOverridePatch(base, stored, patch);
    if (!(await caller.mayKeepSecretsWhenRepointing(row.workspaceId, patched.change))) throw secretRequired(patched.change.keptSecrets[0]);
    assertValid(patched.after);
    const changed = changedOverrideFields(stored, patched.values);
    if (changed.length === 0) return row;

    const overrideId = existing?.id ?? randomUUID();
    const sealed = patched.empty ? null : await this.secrets.seal(row.workspaceId, overrideId, patched.values.secrets);
    return this.db.$transaction(async (tx) => {
      await bumpVersion(tx, row);
      if (patched.empty) {
        await tx.connectionOverride.deleteMany({ where: { id: overrideId, workspaceId: row.workspaceId } });
      } else {
        const columns = { ...overrideColumns(patched.values), ...sealed!, updatedAt: new Date() };
        await tx.connectionOverride.upsert({
          where: { connectionId_environment: { connectionId: row.id, environment } },
          create: { id: overrideId, workspaceId: row.workspaceId, connectionId: row.id, environment, ...columns },
          update: columns,
        });
      }
      await recordAudit(tx, caller, {
        workspaceId: row.workspaceId,
        action: patched.empty ? "connection.override_remove" : "connection.override_set",
        targetType: "Connection",
        targetId: row.id,
        details: { name: row.name, environment, changed },
      });
      return tx.connection.findUniqueOrThrow({ where: { id: row.id } });
    });
  }

  async removeOverride(caller: Caller, id: string, environmentName: string, expectedVersion?: number | null): Promise<Connection> {
    const environment = this.environmentOf(caller, environmentName);
    const row = await this.connections.visible(caller, id, "connection.write");
    checkVersion(row, expectedVersion);
    const existing = await this.store.find(row.workspaceId, row.id, environment);
    if (!existing) return row;
    return this.db.$transaction(async (tx) => {
      await bumpVersion(tx, row);
      await tx.connectionOverride.deleteMany({ where: { id: existing.id, workspaceId: row.workspaceId } });
      await recordAudit(tx, caller, {
        workspaceId: row.workspaceId,
        action: "connection.override_remove",
        targetType: "Connection",
        targetId: row.id,
        details: { name: row.name, environment, changed: overriddenFields({ ...existing, extra: existing.extra as JsonObject, secrets: namesOnly(existing.secretFields) }) },
      });
      return tx.connection.findUniqueOrThrow({ where: { id: row.id } });
    });
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

export function overrideColumns(values: OverrideValues) {
  return {
    host: values.host,
    port: values.port,
    schema: values.schema,
    login: values.login,
    extra: values.extra as Prisma.InputJsonObject,
  };
}

function checkVersion(row: Connection, expectedVersion?: number | null): void {
  if (expectedVersion != null && expectedVersion !== row.version) {
    throw new ConflictError(`The connection changed meanwhile: it is at version ${row.version}, not ${expectedVersion}.`, {
      currentVersion: row.version,
    });
  }
}

/** An override's change is a change of its connection: a new version, or CONFLICT when another came first. */
async function bumpVersion(tx: Prisma.TransactionClient, row: Connection): Promise<void> {
  const { count } = await tx.connection.updateMany({
    where: { id: row.id, workspaceId: row.workspaceId, version: row.version },
    data: { version: { increment: 1 } },
  });
  if (count === 0) throw new ConflictError("The connection changed meanwhile; reload it and try again.");
}

function namesOnly(fields: string[]): Record<string, string> {
  return Object.fromEntries(fields.map((field) => [field, ""]));
}
