/** `patchbay connections …`: list, get, test, import, export. */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { createPatchbayClient } from "../typescript/client";
import { PatchbayError } from "../typescript/errors";
import { oneOf, UsageError } from "./args";
import type { Command } from "./command";
import { connectionId, onWorkspace, type Context } from "./context";
import { json, keyValues, table } from "./output";

const PAGE = 50;
const IMPORT_FORMATS = ["airflow-json", "airflow-yaml", "airflow-env"] as const;
const EXPORT_FORMATS = ["airflow-json", "airflow-yaml", "airflow-env", "jupysql-ini"] as const;
const CONFLICT_MODES = ["fail", "skip", "overwrite"] as const;

/** airflow-json → AIRFLOW_JSON */
const enumName = (word: string) => word.toUpperCase().replace(/-/g, "_");

const list: Command = {
  words: ["connections", "list"],
  args: [],
  options: ["type", "search", "json"],
  usage: "connections list [--type T] [--search S] [--json]",
  summary: "List the workspace's connections (no secrets).",
  details: ["--type T      only connections of this type (postgres, mysql, …)", "--search S    names or descriptions containing S", "--json        the connections as a JSON array"],
  async run(ctx, _args, values) {
    const nodes: any[] = [];
    let after: string | null = null;
    do {
      const workspace: any = await onWorkspace(
        ctx,
        `connections(first: $first, after: $after, type: $type, search: $search) {
          nodes { name type description host port schema login extra secretFields version lastUsedAt lastTest { status errorCode testedAt } }
          pageInfo { hasNextPage endCursor } }`,
        {
          first: { type: "Int", value: PAGE },
          after: { type: "String", value: after },
          type: { type: "String", value: values.type ?? null },
          search: { type: "String", value: values.search ?? null },
        },
      );
      nodes.push(...workspace.connections.nodes);
      after = workspace.connections.pageInfo.hasNextPage ? workspace.connections.pageInfo.endCursor : null;
    } while (after);
    if (values.json) {
      ctx.io.stdout.write(json(nodes));
    } else if (nodes.length === 0) {
      ctx.io.stderr.write("No connections.\n");
    } else {
      ctx.io.stdout.write(
        table(
          ["NAME", "TYPE", "HOST", "PORT", "DATABASE", "LOGIN", "LAST TEST"],
          nodes.map((c) => [c.name, c.type, c.host, c.port, c.schema, c.login, c.lastTest ? `${c.lastTest.status} ${c.lastTest.testedAt}` : null]),
        ),
      );
    }
    return 0;
  },
};

const get: Command = {
  words: ["connections", "get"],
  args: ["NAME"],
  options: ["json", "resolve"],
  usage: "connections get NAME [--json] [--resolve]",
  summary: "Show one connection's settings; secrets only with --resolve.",
  details: [
    "--json        the connection as JSON",
    "--resolve     print every field WITH the secrets as JSON, plus its Airflow URI and",
    "              SQLAlchemy URL (needs an API token with RESOLVE, or MEMBER and above)",
  ],
  async run(ctx, [name], values) {
    if (values.resolve) {
      const client = createPatchbayClient({ url: ctx.settings.url, token: ctx.settings.token ?? undefined, workspace: ctx.workspace ?? undefined, cacheTtlMs: 0, timeoutMs: ctx.settings.timeoutMs, env: {} });
      ctx.io.stdout.write(json(await client.connection(name)));
      return 0;
    }
    const workspace = await onWorkspace(
      ctx,
      `slug connection(name: $name) { id name type description host port schema login extra secretFields version createdAt updatedAt lastUsedAt
        lastTest { status errorCode message latencyMs serverVersion testedAt } }`,
      { name: { type: "String!", value: name } },
    );
    const c = workspace.connection;
    if (!c) throw notFound(name, workspace.slug);
    if (values.json) {
      ctx.io.stdout.write(json(c));
      return 0;
    }
    const test = c.lastTest;
    ctx.io.stdout.write(
      keyValues([
        ["name", c.name],
        ["type", c.type],
        ["description", c.description],
        ["host", c.host],
        ["port", c.port],
        ["database", c.schema],
        ["login", c.login],
        ["extra", Object.keys(c.extra ?? {}).length ? JSON.stringify(c.extra) : null],
        ["secrets set", c.secretFields.join(", ")],
        ["version", c.version],
        ["id", c.id],
        ["updated", c.updatedAt],
        ["last used", c.lastUsedAt],
        ["last test", test ? `${test.status}${test.errorCode ? ` ${test.errorCode}` : ""} at ${test.testedAt}: ${test.message}` : null],
      ]),
    );
    return 0;
  },
};

const test: Command = {
  words: ["connections", "test"],
  args: ["NAME"],
  options: ["json"],
  usage: "connections test NAME [--json]",
  summary: "Test a saved connection from the server; exit 1 when the test fails.",
  details: ["--json        the test result as JSON", "An API token needs READ (to find the connection) and TEST."],
  async run(ctx, [name], values) {
    const id = await connectionId(ctx, name);
    const data = await ctx.api.graphql(`mutation($id: ID!) { testConnection(id: $id) { status errorCode message latencyMs serverVersion testedAt } }`, { id });
    const r = data.testConnection;
    if (values.json) ctx.io.stdout.write(json(r));
    else {
      const head = [r.status, name, `${r.latencyMs} ms`, r.errorCode ?? r.serverVersion].filter(Boolean).join("  ");
      ctx.io.stdout.write(`${head}\n${r.message}\n`);
    }
    return r.status === "SUCCESS" ? 0 : 1;
  },
};

const importCommand: Command = {
  words: ["connections", "import"],
  args: ["FILE"],
  options: ["format", "on-conflict", "dry-run", "generic", "json"],
  usage: "connections import FILE [--format airflow-json|airflow-yaml|airflow-env] [--on-conflict fail|skip|overwrite] [--dry-run] [--generic] [--json]",
  summary: "Import an `airflow connections export` file (FILE - reads stdin).",
  details: [
    "--format F          airflow-json, airflow-yaml or airflow-env; guessed from .json/.yaml/.yml/.env",
    "--on-conflict M     for names that exist: fail (default), skip or overwrite",
    "--dry-run           report what would happen, write nothing",
    "--generic           import types Patchbay does not know as generic",
    "--json              the report as JSON",
    "Without --dry-run the import is all or nothing. Exit 1 when a line is an ERROR.",
  ],
  async run(ctx, [file], values) {
    const format = values.format ? oneOf(values.format, IMPORT_FORMATS, "format", "connections import") : guessFormat(file);
    const onConflict = oneOf(values["on-conflict"] ?? "fail", CONFLICT_MODES, "on-conflict", "connections import");
    const content = await readInput(ctx, file);
    const workspace = await onWorkspace(ctx, "id slug");
    const data = await ctx.api.graphql(
      `mutation($w: ID!, $f: ImportFormat!, $c: String!, $o: OnConflict, $d: Boolean, $g: Boolean) {
        importConnections(workspaceId: $w, format: $f, content: $c, onConflict: $o, dryRun: $d, unknownTypesAsGeneric: $g) { applied lines { name outcome message } } }`,
      { w: workspace.id, f: enumName(format), c: content, o: enumName(onConflict), d: Boolean(values["dry-run"]), g: Boolean(values.generic) },
    );
    const report = data.importConnections as { applied: boolean; lines: Array<{ name: string; outcome: string; message: string | null }> };
    const errors = report.lines.filter((l) => l.outcome === "ERROR").length;
    if (values.json) ctx.io.stdout.write(json(report));
    else {
      if (report.lines.length) ctx.io.stdout.write(table(["NAME", "OUTCOME", "MESSAGE"], report.lines.map((l) => [l.name, l.outcome, l.message])));
      const counts = countOutcomes(report.lines);
      const summary = values["dry-run"]
        ? `Dry run, nothing written: ${counts}.`
        : report.applied
          ? `Imported into ${workspace.slug}: ${counts}.`
          : `Nothing was written: ${errors} error${errors === 1 ? "" : "s"}.`;
      ctx.io.stderr.write(`${summary}\n`);
      if (!values.generic && report.lines.some((l) => l.message?.includes("unknownTypesAsGeneric"))) {
        ctx.io.stderr.write("Add --generic to import the types Patchbay does not know as generic connections.\n");
      }
    }
    return errors > 0 || (!values["dry-run"] && !report.applied) ? 1 : 0;
  },
};

const exportCommand: Command = {
  words: ["connections", "export"],
  args: [],
  options: ["format", "include-secrets", "output"],
  usage: "connections export --format airflow-json|airflow-yaml|airflow-env|jupysql-ini [--include-secrets] [-o FILE]",
  summary: "Export the workspace's connections; stubs without secrets unless --include-secrets.",
  details: [
    "--format F          airflow-json, airflow-yaml, airflow-env or jupysql-ini",
    "--include-secrets   with passwords and secret extras (ADMIN and above)",
    "-o, --output FILE   write to FILE (mode 600 with secrets) instead of stdout",
  ],
  async run(ctx, _args, values) {
    if (!values.format) throw new UsageError("--format is required.", "connections export");
    const format = oneOf(values.format, EXPORT_FORMATS, "format", "connections export");
    const workspace = await onWorkspace(ctx, "id slug");
    const includeSecrets = Boolean(values["include-secrets"]);
    const data = await ctx.api.graphql(`query($w: ID!, $f: ExportFormat!, $s: Boolean) { exportConnections(workspaceId: $w, format: $f, includeSecrets: $s) }`, {
      w: workspace.id,
      f: enumName(format),
      s: includeSecrets,
    });
    const text: string = data.exportConnections;
    if (values.output) {
      await writeFile(values.output, text, { mode: includeSecrets ? 0o600 : 0o644 });
      // The mode above only applies to a new file.
      if (includeSecrets) await chmod(values.output, 0o600);
      ctx.io.stderr.write(`Wrote the ${format} export of ${workspace.slug}${includeSecrets ? " WITH secrets" : ""} to ${values.output}.\n`);
    } else {
      ctx.io.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
    }
    return 0;
  },
};

export const connectionCommands: Command[] = [list, get, test, importCommand, exportCommand];

function notFound(name: string, slug: string): PatchbayError {
  return new PatchbayError("NOT_FOUND", `Connection "${name}" not found in ${slug}.`);
}

function guessFormat(file: string): (typeof IMPORT_FORMATS)[number] {
  const ext = extname(file).toLowerCase();
  if (ext === ".json") return "airflow-json";
  if (ext === ".yaml" || ext === ".yml") return "airflow-yaml";
  if (ext === ".env") return "airflow-env";
  throw new UsageError(`Cannot tell the format of ${JSON.stringify(file)}; give --format airflow-json, airflow-yaml or airflow-env.`, "connections import");
}

async function readInput(ctx: Context, file: string): Promise<string> {
  if (file === "-") return ctx.io.readStdin();
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`Cannot read ${file}: ${code === "ENOENT" ? "no such file" : (code ?? (error as Error).message)}.`);
  }
}

function countOutcomes(lines: Array<{ outcome: string }>): string {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(l.outcome, (counts.get(l.outcome) ?? 0) + 1);
  if (counts.size === 0) return "no connections in the file";
  return [...counts].map(([outcome, n]) => `${n} ${outcome.toLowerCase()}`).join(", ");
}
