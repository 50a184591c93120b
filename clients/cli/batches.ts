/**
 * Imports bigger than one request may carry (the server takes at most 1,000 connections and a
 * 1 MiB body): the file is split into batches of whole connections, staged on the server one
 * by one (beginImport, stageImportBatch) and committed there as one file in one transaction
 * (commitImport): all or nothing, across batches. .env and JSON files can be split; YAML
 * above the limits cannot (it would need a YAML parser that reads exactly as PyYAML does) and
 * is refused with what to do instead.
 */
import { PatchbayError } from "../typescript/errors.js";
import { UsageError } from "./args.js";
import type { Context } from "./context.js";

export type ImportFormat = "AIRFLOW_JSON" | "AIRFLOW_YAML" | "AIRFLOW_ENV";

export interface ImportLine {
  name: string;
  outcome: string;
  message: string | null;
  warnings?: string[];
}

export interface ImportReport {
  applied: boolean;
  lines: ImportLine[];
}

/** The server's import cap (MAX_BATCH in src/services/connections/sync.ts). */
export const MAX_PER_REQUEST = 1000;
/**
 * Content per request: the body is the content JSON-escaped (quotes, backslashes and line
 * breaks double at worst) plus the query, under the server's 1 MiB limit.
 */
export const MAX_REQUEST_CONTENT = 480 * 1024;

export interface Batch {
  format: ImportFormat;
  content: string;
}

export function splitImport(content: string, format: ImportFormat, perBatch = MAX_PER_REQUEST): Batch[] {
  const fits = (text: string, count: number) => Buffer.byteLength(text) <= MAX_REQUEST_CONTENT && count <= perBatch;
  if (format === "AIRFLOW_ENV") {
    const groups = envGroups(content);
    if (fits(content, groups.length)) return [{ format, content }];
    return pack(groups.map((lines) => lines.join("\n") + "\n"), (parts) => parts.join(""), perBatch).map((c) => ({ format, content: c }));
  }
  if (format === "AIRFLOW_JSON") {
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      // The server says what is wrong with it.
      return [{ format, content }];
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return [{ format, content }];
    const entries = Object.entries(parsed);
    if (fits(content, entries.length)) return [{ format, content }];
    const parts = entries.map(([name, value]) => `${JSON.stringify(name)}: ${JSON.stringify(value)}`);
    return pack(parts, (chosen) => `{${chosen.join(", ")}}`, perBatch).map((c) => ({ format, content: c }));
  }
  if (Buffer.byteLength(content) > MAX_REQUEST_CONTENT) {
    throw new UsageError(
      `The YAML file is over ${MAX_REQUEST_CONTENT / 1024} KiB; split it into smaller files, or export it from Airflow as JSON or .env, which are sent in batches.`,
      "connections import",
    );
  }
  return [{ format, content }];
}

/** The .env lines by conn_id (repeated ids stay together, so the server can report them). */
function envGroups(content: string): string[][] {
  const byName = new Map<string, string[]>();
  for (const line of content.split(/\r\n|\n|\r/)) {
    if (!line.trim() || /^\s*#/.test(line)) continue;
    const eq = line.indexOf("=");
    const key = eq === -1 ? line : line.slice(0, eq);
    const name = key.startsWith("AIRFLOW_CONN_") ? key.slice("AIRFLOW_CONN_".length).toLowerCase() : key;
    byName.set(name, [...(byName.get(name) ?? []), line]);
  }
  return [...byName.values()];
}

function pack(parts: string[], join: (parts: string[]) => string, perBatch: number): string[] {
  const batches: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const part of parts) {
    const bytes = Buffer.byteLength(part) + 2;
    if (bytes > MAX_REQUEST_CONTENT) throw new UsageError("One connection in the file is larger than a request may be.", "connections import");
    if (current.length > 0 && (current.length >= perBatch || size + bytes > MAX_REQUEST_CONTENT)) {
      batches.push(join(current));
      current = [];
      size = 0;
    }
    current.push(part);
    size += bytes;
  }
  if (current.length > 0) batches.push(join(current));
  return batches;
}

export interface BatchArgs extends Batch {
  onConflict: string;
  dryRun: boolean;
  generic: boolean;
  clearMissingSecrets: boolean;
}

export async function importBatch(ctx: Context, workspaceId: string, batch: BatchArgs): Promise<ImportReport> {
  const data = await ctx.api.graphql(
    `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict, $d: Boolean, $g: Boolean, $m: Boolean) {
      importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o, dryRun: $d, unknownTypesAsGeneric: $g, clearMissingSecrets: $m) {
        applied lines { name outcome message warnings } } }`,
    { w: workspaceId, f: batch.format, c: batch.content, o: batch.onConflict, d: batch.dryRun, g: batch.generic, m: batch.clearMissingSecrets },
  );
  return data.importConnections as ImportReport;
}

export interface StagedArgs {
  format: ImportFormat;
  onConflict: string;
  dryRun: boolean;
  generic: boolean;
  clearMissingSecrets: boolean;
}

/**
 * Stages every batch and commits them as one import: nothing is written unless every line
 * passes, and then all of it in one transaction. The session is aborted after a dry run, a
 * failed commit or an error, so nothing staged (secrets included) is left on the server.
 */
export async function stagedImport(ctx: Context, workspaceId: string, contents: string[], args: StagedArgs, progress: (text: string | null) => void): Promise<ImportReport> {
  let sessionId: string;
  try {
    const begun = await ctx.api.graphql(
      `mutation($w: ID!, $f: ImportFormat!, $o: OnConflict, $g: Boolean, $m: Boolean) {
        beginImport(workspaceId: $w, format: $f, onConflict: $o, unknownTypesAsGeneric: $g, clearMissingSecrets: $m) { id } }`,
      { w: workspaceId, f: args.format, o: args.onConflict, g: args.generic, m: args.clearMissingSecrets },
    );
    sessionId = begun.beginImport.id;
  } catch (error) {
    if (error instanceof PatchbayError && error.code === "GRAPHQL_VALIDATION_FAILED" && error.message.includes('"beginImport"')) {
      throw new PatchbayError(
        "UNSUPPORTED",
        `This Patchbay server cannot import more than ${MAX_PER_REQUEST} connections (or ${MAX_REQUEST_CONTENT / 1024} KiB) as one all-or-nothing import; upgrade it, or split the file yourself.`,
      );
    }
    throw error;
  }
  let committed = false;
  try {
    for (const [i, content] of contents.entries()) {
      progress(`Staging batch ${i + 1}/${contents.length}`);
      await ctx.api.graphql(`mutation($s: ID!, $q: Int!, $c: String!) { stageImportBatch(sessionId: $s, seq: $q, content: $c) { batches } }`, {
        s: sessionId,
        q: i + 1,
        c: content,
      });
    }
    progress(args.dryRun ? `Checking ${contents.length} batches` : `Checking and writing ${contents.length} batches in one transaction`);
    const data = await ctx.api.graphql(
      `mutation($s: ID!, $d: Boolean) { commitImport(sessionId: $s, dryRun: $d) { applied lines { name outcome message warnings } } }`,
      { s: sessionId, d: args.dryRun },
    );
    const report = data.commitImport as ImportReport;
    committed = report.applied;
    return report;
  } finally {
    progress(null);
    // An applied commit ended the session; otherwise drop what was staged. Best effort: the
    // server expires it anyway.
    if (!committed) await ctx.api.graphql(`mutation($s: ID!) { abortImport(sessionId: $s) }`, { s: sessionId }).catch(() => undefined);
  }
}

/** Progress on stderr when it is a terminal: one line, rewritten; null clears it. */
export function makeProgress(ctx: Context, batches: number): (text: string | null) => void {
  const tty = Boolean((ctx.io.stderr as { isTTY?: boolean }).isTTY) && batches > 1;
  let shown = false;
  return (text) => {
    if (!tty) return;
    if (text === null) {
      if (shown) ctx.io.stderr.write("\r\x1b[K");
      shown = false;
      return;
    }
    ctx.io.stderr.write(`\r\x1b[K${text}…`);
    shown = true;
  };
}
