/**
 * importConnections into an environment: an Airflow file describes each connection as that
 * environment sees it, and becomes overrides of the workspace's connections of those names.
 * What the file gives that differs from the connection's own value is overridden; what equals
 * it, or is left empty, falls back. So exporting an environment and importing the file into
 * it again changes nothing. All or nothing, in one transaction; each override set is a new
 * version of its connection, audited by field name.
 */
import { randomUUID } from "node:crypto";
import type { Db } from "../../db/prisma";
import { ConflictError } from "../../errors";
import type { Connection, ConnectionOverride } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { type AuditEntry, recordAudits } from "../audit";
import { changesDestination } from "../../adapters/registry";
import { emptyObject } from "../../input/json";
import { adapterFor, assertValid, type ConnectionDraft, type JsonObject, type Secrets, settingsOf } from "./draft";
import { overrideColumns } from "./environments";
import { changedOverrideFields, effectiveDraft, isEmpty, NO_OVERRIDE, type OverrideValues, refuseTokenIssuers } from "./override-draft";
import type { OverrideStore } from "./overrides";
import type { ConnectionSecrets } from "./secrets";
import type { ConnectionService } from "./service";
import type { ImportLine, OnConflict } from "./transfer";

interface Planned {
  line: ImportLine;
  row?: Connection;
  existing?: ConnectionOverride | null;
  values?: OverrideValues;
  changed?: string[];
}

export class EnvironmentImport {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly overrides: OverrideStore,
    private readonly secrets: ConnectionSecrets,
  ) {}

  /** Lines for the drafts; writes them unless dryRun or any line (or `failed`) is an ERROR. */
  async run(
    caller: Caller,
    workspaceId: string,
    environment: string,
    drafts: ConnectionDraft[],
    options: { onConflict: OnConflict; dryRun: boolean; failed: boolean },
  ): Promise<{ applied: boolean; lines: ImportLine[] }> {
    const rows = await this.db.connection.findMany({ where: { workspaceId, name: { in: drafts.map((d) => d.name) } } });
    const byName = new Map(rows.map((row) => [row.name, row]));
    const plan: Planned[] = [];
    for (const draft of drafts) plan.push(await this.planOne(caller, workspaceId, environment, draft, byName.get(draft.name), options.onConflict));
    const lines = plan.map((p) => p.line);
    if (options.failed || options.dryRun || lines.some((l) => l.outcome === "ERROR")) return { applied: false, lines };
    await this.apply(caller, workspaceId, environment, plan.filter((p) => p.line.outcome === "CREATED" || p.line.outcome === "UPDATED"));
    return { applied: true, lines };
  }

  private async planOne(
    caller: Caller,
    workspaceId: string,
    environment: string,
    draft: ConnectionDraft,
    row: Connection | undefined,
    onConflict: OnConflict,
  ): Promise<Planned> {
    const name = draft.name;
    if (!row) {
      return { line: { name, outcome: "ERROR", message: `There is no connection named ${name} to give ${environment} values; create or import it first.`, warnings: [] } };
    }
    if (row.type !== draft.type) {
      return { line: { name, outcome: "ERROR", message: `${name} is a ${row.type} connection; the file describes a ${draft.type} one.`, warnings: [] } };
    }
    try {
      refuseTokenIssuers(row.type);
    } catch (error) {
      return { line: { name, outcome: "ERROR", message: (error as Error).message, warnings: [] } };
    }
    const base = await this.connections.storedDraft(row);
    const values = overrideFrom(base, draft);
    const effective = effectiveDraft(base, values);
    try {
      assertValid(effective);
    } catch (error) {
      return { line: { name, outcome: "ERROR", message: (error as Error).message, warnings: [] } };
    }
    const existing = await this.overrides.find(workspaceId, row.id, environment);
    const stored = existing ? await this.overrides.valuesOf(existing) : NO_OVERRIDE;
    const changed = changedOverrideFields(stored, values);
    if (changed.length === 0) return { line: { name, outcome: "UNCHANGED", message: null, warnings: [] } };
    if (existing && onConflict === "SKIP") return { line: { name, outcome: "SKIPPED", message: `${name} has ${environment} values; kept as they are.`, warnings: [] } };
    if (existing && onConflict === "FAIL") {
      return { line: { name, outcome: "ERROR", message: `${name} has other ${environment} values; choose onConflict SKIP or OVERWRITE.`, warnings: [] } };
    }
    // The file's secrets are typed again, so the repointing rule only asks about the connection's secrets that show through.
    const before = effectiveDraft(base, stored);
    const kept = Object.keys(effective.secrets).filter((field) => !(field in values.secrets));
    const repointed = changesDestination(adapterFor(base.type), settingsOf(before), settingsOf(effective));
    if (!(await caller.mayKeepSecretsWhenRepointing(workspaceId, { repointed, keptSecrets: kept }))) {
      return {
        line: { name, outcome: "ERROR", message: `The ${environment} values point ${name} somewhere new and keep its stored ${kept[0]}, which you may not read: give ${kept[0]} in the file.`, warnings: [] },
      };
    }
    return { line: { name, outcome: existing ? "UPDATED" : "CREATED", message: null, warnings: [] }, row, existing, values, changed };
  }

  private async apply(caller: Caller, workspaceId: string, environment: string, plan: Planned[]): Promise<void> {
    const prepared = await Promise.all(
      plan.map(async (p) => {
        const id = p.existing?.id ?? randomUUID();
        const empty = isEmpty(p.values!);
        return { ...p, id, empty, sealed: empty ? null : await this.secrets.seal(workspaceId, id, p.values!.secrets) };
      }),
    );
    await this.db.$transaction(async (tx) => {
      const audits: AuditEntry[] = [];
      for (const p of prepared) {
        const row = p.row!;
        const { count } = await tx.connection.updateMany({
          where: { id: row.id, workspaceId, version: row.version },
          data: { version: { increment: 1 } },
        });
        if (count === 0) throw new ConflictError(`${row.name} changed meanwhile; nothing was written.`, { name: row.name });
        if (p.empty) {
          await tx.connectionOverride.deleteMany({ where: { id: p.id, workspaceId } });
        } else {
          const columns = { ...overrideColumns(p.values!), ...p.sealed!, updatedAt: new Date() };
          await tx.connectionOverride.upsert({
            where: { connectionId_environment: { connectionId: row.id, environment } },
            create: { id: p.id, workspaceId, connectionId: row.id, environment, ...columns },
            update: columns,
          });
        }
        audits.push({
          workspaceId,
          action: p.empty ? "connection.override_remove" : "connection.override_set",
          targetType: "Connection",
          targetId: row.id,
          details: { name: row.name, environment, changed: p.changed!, via: "import" },
        });
      }
      await recordAudits(tx, caller, audits);
    });
  }
}

/** The override that makes `base` look like `wanted`: each field that differs and is not empty. */
export function overrideFrom(base: ConnectionDraft, wanted: ConnectionDraft): OverrideValues {
  const differs = <T>(mine: T | null, theirs: T | null): T | null => (theirs !== null && theirs !== mine ? theirs : null);
  const extra: JsonObject = emptyObject();
  for (const [key, value] of Object.entries(wanted.extra)) {
    if (JSON.stringify(value) !== JSON.stringify(base.extra[key])) extra[key] = value;
  }
  const secrets: Secrets = emptyObject();
  for (const [field, value] of Object.entries(wanted.secrets)) if (value !== base.secrets[field]) secrets[field] = value;
  return {
    host: differs(base.host, wanted.host),
    port: differs(base.port, wanted.port),
    schema: differs(base.schema, wanted.schema),
    login: differs(base.login, wanted.login),
    extra,
    secrets,
  };
}
