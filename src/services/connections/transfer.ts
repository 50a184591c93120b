/**
 * Moving connections in and out in Airflow's formats: import (all or nothing, with a line
 * per conn_id) and export (with secrets for admins, or as stubs a team can keep in git).
 */
import { AirflowFormatError } from "../../airflow/errors";
import { exportConnections, type ParsedEntry, parseConnectionsFile } from "../../airflow/files";
import { exportJupysqlIni } from "../../airflow/jupysql";
import type { AirflowFileFormat, PortableConnection } from "../../airflow/types";
import { airflowView, getAdapter, knownExtraKeys, secretExtraKeys } from "../../adapters/registry";
import type { ConnectionAdapter } from "../../adapters/types";
import type { AirflowUriDialect } from "../../airflow/uri";
import { emptyObject, parseUserJson } from "../../input/json";
import type { Db } from "../../db/prisma";
import { BadUserInputError } from "../../errors";
import type { Caller } from "../../policy/caller";
import { exportAction } from "../../policy/policy";
import { recordAudit } from "../audit";
import { adapterFor, assertValid, type ConnectionDraft, draftFromInput, type JsonObject } from "./draft";
import { type ApplyOptions, type ConnectionSync, heldMessage, MAX_BATCH, type SyncPlanItem } from "./sync";
import type { ConnectionService } from "./service";
import { resolvedFrom } from "./resolution";
import { publicExtra } from "./extra-secrets";
import { checkEnvironment, effectiveDraft } from "./override-draft";
import type { OverrideStore } from "./overrides";
import type { EnvironmentImport } from "./environment-import";
import type { ConnectionOverride } from "../../generated/prisma/client";

function plainOverride(row: ConnectionOverride) {
  return { host: row.host, port: row.port, schema: row.schema, login: row.login, extra: (row.extra ?? {}) as JsonObject };
}

export type ExportFormat = AirflowFileFormat | "AIRFLOW_ENV_VARS" | "JUPYSQL_INI";

export interface ExportArgs {
  format: ExportFormat;
  includeSecrets: boolean;
  /** How URIs (.env lines, AIRFLOW_CONN_ variables) carry non-string extras. */
  dialect?: AirflowUriDialect;
  /** The SQLAlchemy driver JupySQL sections name for PostgreSQL. */
  postgresDriver?: "PSYCOPG2" | "PSYCOPG";
  /** Each connection as that environment sees it. */
  environment?: string | null;
}
export type OnConflict = "FAIL" | "SKIP" | "OVERWRITE";
export type ImportOutcome = "CREATED" | "UPDATED" | "UNCHANGED" | "SKIPPED" | "ERROR";

export interface ImportArgs {
  format: AirflowFileFormat;
  content: string;
  onConflict: OnConflict;
  dryRun: boolean;
  unknownTypesAsGeneric: boolean;
  /**
   * An existing connection's secrets that the file leaves out (a stub export) are cleared.
   * Default false: they keep their stored values.
   */
  clearMissingSecrets?: boolean;
  /** Import as that environment's values of existing connections (environment-import.ts). */
  environment?: string | null;
}

/** What importEntries needs besides the entries. */
export interface EntriesArgs {
  /** For the audit event. */
  format: AirflowFileFormat;
  onConflict: OnConflict;
  dryRun: boolean;
  unknownTypesAsGeneric: boolean;
  clearMissingSecrets?: boolean;
  environment?: string | null;
  /** How the write's transaction runs (a staged import claims its session in it). */
  apply?: ApplyOptions;
  /** Added to the audit event's details. */
  auditDetails?: Record<string, unknown>;
}

/** The entries of an Airflow file, or BAD_USER_INPUT on `field` when it does not read as one. */
export function parseImportContent(content: string, format: AirflowFileFormat, field: string): ParsedEntry[] {
  try {
    return parseConnectionsFile(content, format);
  } catch (error) {
    if (error instanceof AirflowFormatError) throw new BadUserInputError(error.message, field);
    throw error;
  }
}

export interface ImportLine {
  name: string;
  outcome: ImportOutcome;
  message: string | null;
  /** Imported, but perhaps not what was meant: extra keys the type does not know, secrets kept. */
  warnings: string[];
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
    private readonly overrides: OverrideStore,
    private readonly environmentImport: EnvironmentImport,
  ) {}

  async import(caller: Caller, workspaceId: string, args: ImportArgs): Promise<ImportReport> {
    const environment = args.environment == null ? null : caller.environment(checkEnvironment(args.environment));
    await caller.authorize(workspaceId, "connection.write");
    const entries = parseImportContent(args.content, args.format, "content");
    if (entries.length > MAX_BATCH) throw new BadUserInputError(`Import at most ${MAX_BATCH} connections at once.`, "content");
    return this.importEntries(caller, workspaceId, entries, { ...args, environment });
  }

  /**
   * An import of entries already read: a line per conn_id, and unless dryRun or any line is an
   * ERROR, every change written in one transaction. importConnections and a staged import's
   * commit (staged-import.ts) both end here, so they answer alike.
   */
  async importEntries(caller: Caller, workspaceId: string, entries: ParsedEntry[], args: EntriesArgs): Promise<ImportReport> {
    await caller.authorize(workspaceId, "connection.write");
    const environment = args.environment ?? null;
    const lines: ImportLine[] = [];
    const drafts: ConnectionDraft[] = [];
    const warningsOf = new Map<string, string[]>();
    for (const entry of entries) {
      const draft = this.draftOf(entry, args.unknownTypesAsGeneric);
      if (typeof draft === "string") lines.push({ name: entry.name, outcome: "ERROR", message: draft, warnings: [] });
      else {
        drafts.push(draft.draft);
        warningsOf.set(draft.draft.name, draft.warnings);
      }
    }
    // The file's order (a map: a staged import may hold thousands of lines).
    const position = new Map<string, number>();
    entries.forEach((e, i) => {
      if (!position.has(e.name)) position.set(e.name, i);
    });
    const inFileOrder = (all: ImportLine[]) => all.sort((a, b) => (position.get(a.name) ?? 0) - (position.get(b.name) ?? 0));
    const details = { format: args.format, onConflict: args.onConflict, ...(args.auditDetails ?? {}) };

    if (environment) {
      const failed = lines.some((l) => l.outcome === "ERROR");
      const report = await this.environmentImport.run(caller, workspaceId, environment, drafts, { onConflict: args.onConflict, dryRun: args.dryRun, failed });
      const all = inFileOrder([...lines, ...report.lines]);
      if (report.applied) {
        await recordAudit(this.db, caller, { workspaceId, action: "connections.import", details: { ...details, environment, outcomes: countOutcomes(all) } });
      }
      return { applied: report.applied, lines: all };
    }

    const plan = await this.sync.plan(workspaceId, drafts, { keepMissingSecrets: !args.clearMissingSecrets, fromAirflowFile: true });
    const toApply: SyncPlanItem[] = [];
    for (const item of plan) {
      const line = lineFor(item, args.onConflict, warningsOf.get(item.draft.name) ?? []);
      if (line.outcome === "UPDATED" && item.keptSecrets.length > 0) {
        if (item.repointed && !(await caller.mayKeepSecretsWhenRepointing(workspaceId, item))) {
          line.outcome = "ERROR";
          line.message =
            `This changes where the connection points and keeps its stored ${item.keptSecrets.join(", ")}, which you may not read: ` +
            "give them in the file, or import with clearMissingSecrets.";
        } else {
          line.warnings.push(`Kept the stored ${item.keptSecrets.join(", ")} (not in the file); clearMissingSecrets clears them.`);
        }
      }
      lines.push(line);
      if (line.outcome === "CREATED" || line.outcome === "UPDATED" || line.outcome === "UNCHANGED") toApply.push(item);
    }
    inFileOrder(lines);

    const failed = lines.some((l) => l.outcome === "ERROR");
    if (failed || args.dryRun) return { applied: false, lines };
    await this.sync.apply(caller, workspaceId, toApply, "connection.import", args.apply);
    await recordAudit(this.db, caller, { workspaceId, action: "connections.import", details: { ...details, outcomes: countOutcomes(lines) } });
    return { applied: true, lines };
  }

  /**
   * In an environment, each connection as that environment sees it (its override over the
   * connection's values): a plain Airflow file that environment's Airflow can load as it is.
   */
  async export(caller: Caller, workspaceId: string, { format, includeSecrets, dialect, postgresDriver, environment: environmentName }: ExportArgs): Promise<string> {
    const environment = caller.environment(environmentName == null ? null : checkEnvironment(environmentName));
    await caller.authorize(workspaceId, exportAction(includeSecrets));
    const rows = await this.db.connection.findMany({ where: { workspaceId }, orderBy: { name: "asc" } });
    const overrides = environment ? (await this.overrides.ofConnections(rows)).map((list) => list.find((o) => o.environment === environment)) : [];
    const portable: PortableConnection[] = await Promise.all(
      rows.map(async (row, i) => {
        const override = overrides[i];
        if (includeSecrets) {
          const draft = await this.connections.storedDraft(row);
          return resolvedFrom(override ? effectiveDraft(draft, await this.overrides.valuesOf(override)) : draft);
        }
        const plain = { ...row, secrets: {}, extra: publicExtra(row.extra) };
        return resolvedFrom(override ? effectiveDraft(plain, { ...plainOverride(override), secrets: {} }) : plain);
      }),
    );
    const text =
      format === "JUPYSQL_INI"
        ? exportJupysqlIni(portable, { includeSecrets, postgresDriver })
        : exportConnections(portable.map(airflowView), format, { includeSecrets, secretExtraKeys: secretKeysOf, dialect });
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "connections.export",
      details: { format, includeSecrets, count: rows.length, ...(environment ? { environment } : {}) },
    });
    return text;
  }

  /** The draft an entry describes, or why it cannot be imported. */
  private draftOf(entry: ParsedEntry, unknownAsGeneric: boolean): { draft: ConnectionDraft; warnings: string[] } | string {
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
      const adapter = adapterFor(type);
      const extra = coerceDeclaredKinds(adapter, c.extra);
      const draft = draftFromInput({ ...c, extra, name: entry.name, type });
      assertValid(draft);
      return { draft, warnings: unknownExtraWarnings(adapter, extra) };
    } catch (error) {
      if (error instanceof BadUserInputError) return `${error.field}: ${error.message}`;
      throw error;
    }
  }
}

function lineFor(item: SyncPlanItem, onConflict: OnConflict, warnings: string[]): ImportLine {
  const name = item.draft.name;
  if (item.heldBy) return { name, outcome: "ERROR", message: heldMessage(name, item.heldBy), warnings: [] };
  if (item.outcome === "CREATED") return { name, outcome: "CREATED", message: null, warnings };
  if (onConflict === "SKIP") return { name, outcome: "SKIPPED", message: "A connection of this name exists; kept as it is.", warnings: [] };
  if (onConflict === "FAIL") {
    return { name, outcome: "ERROR", message: "A connection of this name exists; choose onConflict SKIP or OVERWRITE.", warnings: [] };
  }
  return { name, outcome: item.outcome, message: null, warnings };
}

/**
 * A URI carries every extra as text, and Airflow after PR #59339 writes numbers and booleans
 * as `10` and `true`: a key the type declares as a whole number, true/false or JSON reads as
 * one when the text is one. Anything else stays as given (validation then names the field).
 */
function coerceDeclaredKinds(adapter: ConnectionAdapter, extra: Record<string, unknown>): Record<string, unknown> {
  const out = emptyObject();
  for (const [key, value] of Object.entries(extra)) {
    const kind = adapter.fields.find((f) => f.name === `extra.${key}`)?.kind;
    out[key] = typeof value === "string" ? coerced(kind, value) : value;
  }
  return out;
}

function coerced(kind: string | undefined, text: string): unknown {
  if (kind === "INTEGER" && /^-?\d{1,15}$/.test(text)) return Number(text);
  if (kind === "BOOLEAN" && /^(true|false)$/i.test(text)) return text.toLowerCase() === "true";
  if (kind === "JSON" && /^[[{]/.test(text.trim())) {
    try {
      return parseUserJson(text);
    } catch {
      return text;
    }
  }
  return text;
}

/** One warning naming the extra keys the type neither declares nor knows (they are kept). */
function unknownExtraWarnings(adapter: ConnectionAdapter, extra: Record<string, unknown>): string[] {
  if (adapter.id === "generic") return [];
  const known = knownExtraKeys(adapter);
  const unknown = Object.keys(extra).filter((key) => !known.has(key));
  if (unknown.length === 0) return [];
  return [`extra key(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")} are not known for ${adapter.id}; kept as given.`];
}

function countOutcomes(lines: ImportLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of lines) counts[line.outcome] = (counts[line.outcome] ?? 0) + 1;
  return counts;
}
