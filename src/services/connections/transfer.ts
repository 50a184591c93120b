/**
 * Moving connections in and out in Airflow's formats: import (all or nothing, with a line
 * per conn_id) and export (with secrets for admins, or as stubs a team can keep in git).
 */
import { AirflowFormatError } from "../../airflow/errors";
import { exportConnections, type ParsedEntry, parseConnectionsFile } from "../../airflow/files";
import { exportJupysqlIni } from "../../airflow/jupysql";
import type { AirflowFileFormat, PortableConnection } from "../../airflow/types";
import { airflowView, getAdapter, secretExtraKeys } from "../../adapters/registry";
import type { Db } from "../../db/prisma";
import { BadUserInputError } from "../../errors";
import type { Caller } from "../../policy/caller";
import { exportAction } from "../../policy/policy";
import { recordAudit } from "../audit";
import { assertValid, type ConnectionDraft, draftFromInput, type JsonObject } from "./draft";
import { type ConnectionSync, heldMessage, MAX_BATCH, type SyncPlanItem } from "./sync";
import type { ConnectionService } from "./service";
import { resolvedFrom } from "./resolution";

export type ExportFormat = AirflowFileFormat | "JUPYSQL_INI";
export type OnConflict = "FAIL" | "SKIP" | "OVERWRITE";
export type ImportOutcome = "CREATED" | "UPDATED" | "UNCHANGED" | "SKIPPED" | "ERROR";

export interface ImportArgs {
  format: AirflowFileFormat;
  content: string;
  onConflict: OnConflict;
  dryRun: boolean;
  unknownTypesAsGeneric: boolean;
}

export interface ImportLine {
  name: string;
  outcome: ImportOutcome;
  message: string | null;
}

export interface ImportReport {
  applied: boolean;
  lines: ImportLine[];
}

const secretKeysOf = (type: string) => {
  const adapter = getAdapter(type);
  return adapter ? secretExtraKeys(adapter) : [];
};

export class ConnectionTransfer {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly sync: ConnectionSync,
  ) {}

  async import(caller: Caller, workspaceId: string, args: ImportArgs): Promise<ImportReport> {
    await caller.authorize(workspaceId, "connection.write");
    let entries: ParsedEntry[];
    try {
      entries = parseConnectionsFile(args.content, args.format);
    } catch (error) {
      if (error instanceof AirflowFormatError) throw new BadUserInputError(error.message, "content");
      throw error;
    }
    if (entries.length > MAX_BATCH) throw new BadUserInputError(`Import at most ${MAX_BATCH} connections at once.`, "content");

    const lines: ImportLine[] = [];
    const drafts: ConnectionDraft[] = [];
    for (const entry of entries) {
      const draft = this.draftOf(entry, args.unknownTypesAsGeneric);
      if (typeof draft === "string") lines.push({ name: entry.name, outcome: "ERROR", message: draft });
      else drafts.push(draft);
    }

    const plan = await this.sync.plan(workspaceId, drafts);
    const toApply: SyncPlanItem[] = [];
    for (const item of plan) {
      const line = lineFor(item, args.onConflict);
      lines.push(line);
      if (line.outcome === "CREATED" || line.outcome === "UPDATED" || line.outcome === "UNCHANGED") toApply.push(item);
    }
    lines.sort((a, b) => entries.findIndex((e) => e.name === a.name) - entries.findIndex((e) => e.name === b.name));

    const failed = lines.some((l) => l.outcome === "ERROR");
    if (failed || args.dryRun) return { applied: false, lines };
    await this.sync.apply(caller, workspaceId, toApply, "connection.import");
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "connections.import",
      details: { format: args.format, onConflict: args.onConflict, outcomes: countOutcomes(lines) },
    });
    return { applied: true, lines };
  }

  async export(caller: Caller, workspaceId: string, format: ExportFormat, includeSecrets: boolean): Promise<string> {
    await caller.authorize(workspaceId, exportAction(includeSecrets));
    const rows = await this.db.connection.findMany({ where: { workspaceId }, orderBy: { name: "asc" } });
    const portable: PortableConnection[] = await Promise.all(
      rows.map(async (row) => {
        if (includeSecrets) return resolvedFrom(await this.connections.storedDraft(row));
        const plain = { ...row, secrets: {}, extra: (row.extra ?? {}) as JsonObject };
        return resolvedFrom(plain);
      }),
    );
    const text =
      format === "JUPYSQL_INI"
        ? exportJupysqlIni(portable, { includeSecrets })
        : exportConnections(portable.map(airflowView), format, { includeSecrets, secretExtraKeys: secretKeysOf });
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "connections.export",
      details: { format, includeSecrets, count: rows.length },
    });
    return text;
  }

  /** The draft an entry describes, or why it cannot be imported. */
  private draftOf(entry: ParsedEntry, unknownAsGeneric: boolean): ConnectionDraft | string {
    if (entry.error || !entry.connection) return entry.error ?? "This entry could not be read.";
    const c = entry.connection;
    let type = c.type;
    if (!type) {
      if (!unknownAsGeneric) {
        return `Airflow's conn_type ${c.airflowType} has no Patchbay type; import it as generic with unknownTypesAsGeneric: true.`;
      }
      type = "generic";
    }
    try {
      const draft = draftFromInput({ ...c, name: entry.name, type });
      assertValid(draft);
      return draft;
    } catch (error) {
      if (error instanceof BadUserInputError) return `${error.field}: ${error.message}`;
      throw error;
    }
  }
}

function lineFor(item: SyncPlanItem, onConflict: OnConflict): ImportLine {
  const name = item.draft.name;
  if (item.heldBy) return { name, outcome: "ERROR", message: heldMessage(name, item.heldBy) };
  if (item.outcome === "CREATED") return { name, outcome: "CREATED", message: null };
  if (onConflict === "SKIP") return { name, outcome: "SKIPPED", message: "A connection of this name exists; kept as it is." };
  if (onConflict === "FAIL") {
    return { name, outcome: "ERROR", message: "A connection of this name exists; choose onConflict SKIP or OVERWRITE." };
  }
  return { name, outcome: item.outcome, message: null };
}

function countOutcomes(lines: ImportLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) counts[line.outcome] = (counts[line.outcome] ?? 0) + 1;
  return counts;
}
