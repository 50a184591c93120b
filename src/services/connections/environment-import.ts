/**
 * importConnections into an environment: an Airflow file describes each connection as that
 * environment sees it, and becomes overrides of the workspace's connections of those names.
 * What the file gives that differs from the connection's own value is overridden; what equals
 * it, or is left empty, falls back. So exporting an environment and importing the file into
 * it again changes nothing. All or nothing, in one transaction; each override set is a new
 * version of its connection, written through ConnectionStore, audited by field name.
 */
import type { Db } from "../../db/prisma";
import { ConflictError } from "../../errors";
import type { Connection } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { type AuditEntry, recordAudits } from "../audit";
import { changesDestination } from "../../adapters/registry";
import { emptyObject } from "../../input/json";
import { adapterFor, assertValid, type ConnectionDraft, type JsonObject, type Secrets, settingsOf } from "./draft";
import { changedOverrideFields, effectiveDraft, isEmpty, NO_OVERRIDE, othersThan, type OverrideValues } from "./override-draft";
import type { ConnectionService } from "./service";
import type { ConnectionStore, StoredState } from "./store";
import type { ImportLine, OnConflict } from "./transfer";

interface Planned {
  line: ImportLine;
  state?: StoredState;
  values?: OverrideValues;
  changed?: string[];
}

export class EnvironmentImport {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly store: ConnectionStore,
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
    const state = await this.connections.storedState(row);
    const base = state.draft;
    const values = overrideFrom(base, draft);
    const effective = effectiveDraft(base, values);
    try {
      assertValid(effective);
    } catch (error) {
      return { line: { name, outcome: "ERROR", message: (error as Error).message, warnings: [] } };
    }
    const existing = state.overrides.find((o) => o.environment === environment);
    const stored = existing ?? NO_OVERRIDE;
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
    return { line: { name, outcome: existing ? "UPDATED" : "CREATED", message: null, warnings: [] }, state, values, changed };
  }

  /** Each override set is a change of its connection through ConnectionStore: a new version holding every override. */
  private async apply(caller: Caller, workspaceId: string, environment: string, plan: Planned[]): Promise<void> {
    const changes = await Promise.all(
      plan.map((p) => {
        const state = p.state!;
        const values = p.values!;
        const overrides = [...othersThan(state.overrides, environment), ...(isEmpty(values) ? [] : [{ environment, ...values }])];
        return this.store.prepare({ workspaceId, id: state.row.id, draft: state.draft, previous: state, overrides, action: "import" });
      }),
    );
    try {
      await this.db.$transaction(async (tx) => {
        await this.store.write(tx, caller, changes);
        const audits: AuditEntry[] = plan.map((p, i) => ({
          workspaceId,
          action: isEmpty(p.values!) ? "connection.override_remove" : "connection.override_set",
          targetType: "Connection",
          targetId: p.state!.row.id,
          details: { name: p.state!.row.name, environment, changed: p.changed!, version: changes[i].version, via: "import" },
        }));
        await recordAudits(tx, caller, audits);
      });
    } catch (error) {
      const name = error instanceof ConflictError ? error.extensions.name : undefined;
      if (typeof name === "string") throw new ConflictError(`${name} changed meanwhile; nothing was written.`, { name });
      throw error;
    }
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
