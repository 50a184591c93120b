/** `patchbay connections …`: list, get, test, import, export. */
import { chmod, readFile, writeFile } from "node:fs/promises";
import { extname } from "node:path";
import { PatchbayError } from "../typescript/errors.js";
import { oneOf, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { connectionId, onWorkspace, type Context } from "./context.js";
import { json, keyValues, table, yaml } from "./output.js";
import { type ImportFormat, type ImportReport, importBatch, MAX_PER_REQUEST, MAX_REQUEST_CONTENT, makeProgress, splitImport, stagedImport } from "./batches.js";

const PAGE = 50;
const IMPORT_FORMATS = ["airflow-json", "airflow-yaml", "airflow-env"] as const;
const EXPORT_FORMATS = ["airflow-json", "airflow-yaml", "airflow-env", "airflow-env-vars", "jupysql-ini"] as const;
const FILE_FORMATS = ["json", "yaml", "env"] as const;
const CONFLICT_MODES = ["fail", "skip", "overwrite"] as const;
const DIALECTS = ["extra-json", "query-params"] as const;
const DRIVERS = ["psycopg2", "psycopg"] as const;
const LIST_OUTPUTS = ["table", "json", "yaml", "plain"] as const;
const GET_OUTPUTS = ["plain", "table", "json", "yaml", "env"] as const;

/** airflow-json → AIRFLOW_JSON */
const enumName = (word: string) => word.toUpperCase().replace(/-/g, "_");

const CONNECTION_FIELDS = "name type description host port schema login extra secretFields version createdAt updatedAt lastUsedAt lastTest { status errorCode message latencyMs serverVersion testedAt }";

const list: Command = {
  words: ["connections", "list"],
  args: [],
  options: ["type", "search", "json", "output"],
  usage: "connections list [--type T] [--search S] [-o table|json|yaml|plain]",
  summary: "List the workspace's connections (no secrets).",
  details: [
    "--type T         only connections of this type (postgres, mysql, …)",
    "--search S       names, hosts or descriptions containing S (% and _ match themselves)",
    "-o, --output F   table (default), json, yaml, or plain (one name a line); --json is -o json",
  ],
  async run(ctx, _args, values) {
    const output = values.json ? "json" : oneOf(values.output ?? "table", LIST_OUTPUTS, "output", "connections list");
    const nodes: any[] = [];
    let after: string | null = null;
    do {
      const workspace: any = await onWorkspace(
        ctx,
        `connections(first: $first, after: $after, type: $type, search: $search) { nodes { ${CONNECTION_FIELDS} } pageInfo { hasNextPage endCursor } }`,
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
    if (output === "json") ctx.io.stdout.write(json(nodes));
    else if (output === "yaml") ctx.io.stdout.write(yaml(nodes));
    else if (nodes.length === 0) ctx.io.stderr.write("No connections.\n");
    else if (output === "plain") ctx.io.stdout.write(nodes.map((c) => `${c.name}\n`).join(""));
    else {
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
  options: ["json", "resolve", "output", "dialect"],
  usage: "connections get NAME [-o plain|table|json|yaml|env] [--resolve] [--dialect extra-json|query-params]",
  summary: "Show one connection's settings; secrets only with --resolve (or -o env).",
  details: [
    "-o, --output F   plain (default), table, json, yaml, or env: one AIRFLOW_CONN_<ID>=<uri> line",
    "--resolve        every field WITH the secrets, plus its Airflow URI and SQLAlchemy URL",
    "                 (needs an API token with RESOLVE, or MEMBER and above); -o env always resolves",
    "--dialect D      the URI's dialect with --resolve or -o env: extra-json (default) or query-params",
  ],
  async run(ctx, [name], values) {
    // --resolve alone prints JSON, as it always has; -o chooses otherwise.
    const output = values.json ? "json" : oneOf(values.output ?? (values.resolve ? "json" : "plain"), GET_OUTPUTS, "output", "connections get");
    const dialect = values.dialect ? oneOf(values.dialect, DIALECTS, "dialect", "connections get") : null;
    if (output === "env") {
      ctx.io.stdout.write(await restResolve(ctx, name, { format: "env", dialect }));
      return 0;
    }
    let c: any;
    if (values.resolve) {
      // The dialect and environment arguments only when asked for: older servers have none.
      const environment = ctx.settings.environment;
      const vars = [dialect ? ", $d: AirflowUriDialect!" : "", environment ? ", $e: String" : ""].join("");
      const data = await ctx.api.graphql(
        `query($n: String!, $w: String${vars}) { resolveConnection(name: $n, workspace: $w${environment ? ", environment: $e" : ""}) {
          name type description host port schema login password extra airflowUri${dialect ? "(dialect: $d)" : ""} sqlalchemyUrl } }`,
        { n: name, w: ctx.workspace, ...(dialect ? { d: enumName(dialect) } : {}), ...(environment ? { e: environment } : {}) },
      );
      c = data.resolveConnection;
    } else {
      const workspace = await onWorkspace(ctx, `slug connection(name: $name) { id ${CONNECTION_FIELDS} }`, { name: { type: "String!", value: name } });
      c = workspace.connection;
      if (!c) throw notFound(name, workspace.slug);
    }
    if (output === "json") ctx.io.stdout.write(json(c));
    else if (output === "yaml") ctx.io.stdout.write(yaml(c));
    else if (output === "table") {
      const keys = Object.keys(c).filter((k) => typeof c[k] !== "object" || c[k] === null);
      ctx.io.stdout.write(table(keys.map((k) => k.toUpperCase()), [keys.map((k) => c[k])]));
    } else {
      const test = c.lastTest;
      const pairs: Array<[string, string | number | null | undefined]> = [
        ["name", c.name],
        ["type", c.type],
        ["description", c.description],
        ["host", c.host],
        ["port", c.port],
        ["database", c.schema],
        ["login", c.login],
      ];
      if (values.resolve) pairs.push(["password", c.password], ["airflow uri", c.airflowUri], ["sqlalchemy url", c.sqlalchemyUrl]);
      pairs.push(["extra", Object.keys(c.extra ?? {}).length ? JSON.stringify(c.extra) : null]);
      if (!values.resolve) {
        pairs.push(
          ["secrets set", c.secretFields.join(", ")],
          ["version", c.version],
          ["id", c.id],
          ["updated", c.updatedAt],
          ["last used", c.lastUsedAt],
          ["last test", test ? `${test.status}${test.errorCode ? ` ${test.errorCode}` : ""} at ${test.testedAt}: ${test.message}` : null],
        );
      }
      ctx.io.stdout.write(keyValues(pairs));
    }
    return 0;
  },
};

const add: Command = {
  words: ["connections", "add"],
  args: ["NAME"],
  options: ["conn-uri", "conn-json", "conn-type", "conn-host", "conn-login", "conn-password", "conn-schema", "conn-port", "conn-extra", "conn-description", "generic", "json"],
  usage: "connections add NAME (--conn-uri URI | --conn-json JSON | --conn-type T [--conn-host H] [--conn-port N] [--conn-login L] [--conn-password P|-] [--conn-schema S] [--conn-extra JSON]) [--conn-description D]",
  summary: "Add a connection, as `airflow connections add` takes it.",
  details: [
    "--conn-uri URI        Airflow's URI form (either dialect), e.g. postgres://user:pw@host:5432/db",
    "--conn-json JSON      Airflow's JSON form, e.g. '{\"conn_type\": \"postgres\", \"host\": \"db\"}'",
    "--conn-type T …       or the fields one by one; --conn-extra is a JSON object",
    "--conn-password -     reads the password from stdin (a password on the command line is",
    "                      visible to other users of the machine in the process list)",
    "--conn-description D  with any of the three forms",
    "--generic             an Airflow conn_type Patchbay does not know becomes a generic connection",
    "It is read exactly as an import reads it; a name that exists is an error.",
  ],
  async run(ctx, [name], values) {
    const forms = [values["conn-uri"] !== undefined, values["conn-json"] !== undefined, values["conn-type"] !== undefined].filter(Boolean).length;
    if (forms !== 1) throw new UsageError("Give exactly one of --conn-uri, --conn-json or --conn-type.", "connections add");
    const description = values["conn-description"];
    let value: unknown;
    if (values["conn-uri"] !== undefined) {
      const fieldFlags = (["conn-host", "conn-login", "conn-password", "conn-schema", "conn-port", "conn-extra"] as const).filter((f) => values[f] !== undefined);
      if (fieldFlags.length) throw new UsageError(`--conn-uri cannot be combined with --${fieldFlags[0]}.`, "connections add");
      value = description === undefined ? values["conn-uri"] : { uri: values["conn-uri"], description };
    } else if (values["conn-json"] !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(values["conn-json"]);
      } catch {
        throw new UsageError("--conn-json is not valid JSON.", "connections add");
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) throw new UsageError("--conn-json must be a JSON object.", "connections add");
      value = description === undefined ? parsed : { ...parsed, description };
    } else {
      let extra: unknown;
      if (values["conn-extra"] !== undefined) {
        try {
          extra = JSON.parse(values["conn-extra"]);
        } catch {
          throw new UsageError("--conn-extra is not valid JSON.", "connections add");
        }
      }
      const port = values["conn-port"];
      if (port !== undefined && !/^\d{1,5}$/.test(port)) throw new UsageError("--conn-port is a number from 1 to 65535.", "connections add");
      const password = values["conn-password"] === "-" ? (await ctx.io.readStdin()).replace(/\r?\n$/, "") : values["conn-password"];
      value = {
        conn_type: values["conn-type"],
        description: description ?? null,
        host: values["conn-host"] ?? null,
        login: values["conn-login"] ?? null,
        password: password ?? null,
        schema: values["conn-schema"] ?? null,
        port: port === undefined ? null : Number(port),
        ...(extra === undefined ? {} : { extra }),
      };
    }
    const workspace = await onWorkspace(ctx, "id slug");
    const report = await importBatch(ctx, workspace.id, {
      format: "AIRFLOW_JSON",
      content: JSON.stringify({ [name]: value }),
      onConflict: "FAIL",
      dryRun: false,
      generic: Boolean(values.generic),
      clearMissingSecrets: false,
    });
    const line = report.lines[0];
    if (values.json) ctx.io.stdout.write(json(line));
    if (!report.applied || !line || line.outcome === "ERROR") {
      if (!values.json) ctx.io.stderr.write(`Could not add ${name}: ${line?.message ?? "nothing was written"}\n`);
      return 1;
    }
    if (!values.json) {
      ctx.io.stdout.write(`Added connection ${name} to ${workspace.slug}.\n`);
      for (const warning of line.warnings ?? []) ctx.io.stderr.write(`warning: ${warning}\n`);
    }
    return 0;
  },
};

const remove: Command = {
  words: ["connections", "delete"],
  args: ["NAME"],
  options: ["force"],
  usage: "connections delete NAME [--force]",
  summary: "Delete a connection.",
  details: ["--force   delete it even though code resolved it in the last 7 days (that code will break)"],
  async run(ctx, [name], values) {
    const id = await connectionId(ctx, name);
    await ctx.api.graphql(`mutation($id: ID!, $f: Boolean) { deleteConnection(id: $id, force: $f) }`, { id, f: Boolean(values.force) });
    ctx.io.stdout.write(`Deleted connection ${name}.\n`);
    return 0;
  },
};

const test: Command = {
  words: ["connections", "test"],
  args: ["NAME"],
  options: ["json"],
  usage: "connections test NAME [--json]",
  summary: "Test a saved connection from the server; exit 1 when the test fails.",
  details: [
    "--json        the test result as JSON",
    "With --environment (or PATCHBAY_ENVIRONMENT), tests that environment's values and records",
    "the result on its override. An API token needs READ (to find the connection) and TEST.",
  ],
  async run(ctx, [name], values) {
    const id = await connectionId(ctx, name);
    const environment = ctx.settings.environment;
    const fields = "status errorCode message latencyMs serverVersion testedAt";
    const data = environment
      ? await ctx.api.graphql(`mutation($id: ID!, $e: String!) { result: testConnectionIn(id: $id, environment: $e) { ${fields} } }`, { id, e: environment })
      : await ctx.api.graphql(`mutation($id: ID!) { result: testConnection(id: $id) { ${fields} } }`, { id });
    const r = data.result;
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
  options: ["format", "on-conflict", "overwrite", "dry-run", "generic", "clear-missing-secrets", "batch-size", "json"],
  usage: "connections import FILE [--overwrite | --on-conflict fail|skip|overwrite] [--dry-run] [--generic] [--clear-missing-secrets] [--format airflow-json|airflow-yaml|airflow-env] [--batch-size N]",
  summary: "Import an `airflow connections export` file or a .env of AIRFLOW_CONN_ lines (FILE - reads stdin).",
  details: [
    "--overwrite              replace connections that exist (as airflow connections import --overwrite)",
    "--on-conflict M          for names that exist: fail (default), skip or overwrite",
    "--dry-run                report what would happen, write nothing",
    "--generic                import types Patchbay does not know as generic",
    "--clear-missing-secrets  a connection's stored secrets that the file leaves out are cleared",
    "                         (by default they are kept: a stub export imports back unchanged)",
    "--format F               airflow-json, airflow-yaml or airflow-env; guessed from .json/.yaml/.yml/.env",
    "--json                   the report as JSON",
    "--batch-size N           connections per request when the file goes in batches (1 to 1000)",
    `A file over ${MAX_PER_REQUEST} connections or ${Math.round(MAX_REQUEST_CONTENT / 1024)} KiB (.env and .json) goes in batches, staged on the`,
    "server and committed there in ONE transaction: all or nothing, as for a small file, with",
    "progress on a terminal (the server bounds one import: 10,000 connections by default).",
    "A YAML file that large is refused: export it as JSON or .env. Exit 1 when a line is an ERROR.",
  ],
  async run(ctx, [file], values) {
    const format = values.format ? oneOf(values.format, IMPORT_FORMATS, "format", "connections import") : guessFormat(file);
    if (values.overwrite && values["on-conflict"] && values["on-conflict"].toLowerCase() !== "overwrite") {
      throw new UsageError("--overwrite and --on-conflict disagree.", "connections import");
    }
    const onConflict = values.overwrite ? "overwrite" : oneOf(values["on-conflict"] ?? "fail", CONFLICT_MODES, "on-conflict", "connections import");
    const batchSize = values["batch-size"] === undefined ? MAX_PER_REQUEST : Number(values["batch-size"]);
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_PER_REQUEST) {
      throw new UsageError(`--batch-size is a whole number from 1 to ${MAX_PER_REQUEST}.`, "connections import");
    }
    const content = await readInput(ctx, file);
    const workspace = await onWorkspace(ctx, "id slug");
    const batches = splitImport(content, enumName(format) as ImportFormat, batchSize);
    const args = { onConflict: enumName(onConflict), generic: Boolean(values.generic), clearMissingSecrets: Boolean(values["clear-missing-secrets"]) };
    const progress = makeProgress(ctx, batches.length);

    // One batch: one importConnections request. Several: staged on the server and committed
    // there in one transaction. Either way all or nothing.
    const dryRun = Boolean(values["dry-run"]);
    const report: ImportReport =
      batches.length === 1
        ? await importBatch(ctx, workspace.id, { ...batches[0], ...args, dryRun })
        : await stagedImport(ctx, workspace.id, batches.map((b) => b.content), { format: batches[0].format, ...args, dryRun }, progress);
    const errors = report.lines.filter((l) => l.outcome === "ERROR").length;
    if (values.json) ctx.io.stdout.write(json(report));
    else {
      if (report.lines.length) ctx.io.stdout.write(table(["NAME", "OUTCOME", "MESSAGE"], report.lines.map((l) => [l.name, l.outcome, [l.message, ...(l.warnings ?? [])].filter(Boolean).join(" ")])));
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
  args: ["FILE"],
  options: ["format", "file-format", "serialization-format", "include-secrets", "dialect", "postgres-driver"],
  usage: "connections export FILE [--file-format json|yaml|env] [--serialization-format uri|json] [--include-secrets] [--dialect D]",
  summary: "Export the workspace's connections to FILE (- for stdout); stubs without secrets unless --include-secrets.",
  details: [
    "--file-format F           json, yaml or env; by default from FILE's extension (.json, .yaml/.yml, .env)",
    "--serialization-format S  env only: each line as a uri (default) or as json",
    "--format F                Patchbay's names instead: airflow-json, airflow-yaml, airflow-env,",
    "                          airflow-env-vars (AIRFLOW_CONN_<ID>=<uri> lines) or jupysql-ini",
    "--include-secrets         with passwords and secret extras (ADMIN and above); FILE gets mode 600",
    "--dialect D               URIs: extra-json (default; Airflow 2.7 to 3.1) or query-params (Airflow after PR #59339)",
    "--postgres-driver D       jupysql-ini: psycopg2 (default) or psycopg",
    "With --environment (or PATCHBAY_ENVIRONMENT), each connection as that environment sees it:",
    "a plain Airflow file for that environment's Airflow.",
  ],
  async run(ctx, [file], values) {
    const format = exportFormat(file, values);
    const serialization = values["serialization-format"] ? oneOf(values["serialization-format"], ["uri", "json"] as const, "serialization-format", "connections export") : "uri";
    if (serialization === "json" && format !== "airflow-env") throw new UsageError("--serialization-format applies to env files only.", "connections export");
    const dialect = values.dialect ? oneOf(values.dialect, DIALECTS, "dialect", "connections export") : "extra-json";
    const driver = values["postgres-driver"] ? oneOf(values["postgres-driver"], DRIVERS, "postgres-driver", "connections export") : "psycopg2";
    const workspace = await onWorkspace(ctx, "id slug");
    const includeSecrets = Boolean(values["include-secrets"]);
    const asked = serialization === "json" ? "airflow-json" : format;
    const environment = ctx.settings.environment;
    const data = await ctx.api.graphql(
      `query($w: ID!, $f: ExportFormat!, $s: Boolean, $d: AirflowUriDialect!, $p: PostgresDriver!${environment ? ", $e: String" : ""}) {
        exportConnections(workspaceId: $w, format: $f, includeSecrets: $s, dialect: $d, postgresDriver: $p${environment ? ", environment: $e" : ""}) }`,
      { w: workspace.id, f: enumName(asked), s: includeSecrets, d: enumName(dialect), p: enumName(driver), ...(environment ? { e: environment } : {}) },
    );
    let text: string = data.exportConnections;
    if (serialization === "json") text = jsonEnvLines(text);
    if (file === "-") {
      ctx.io.stdout.write(text.endsWith("\n") || text === "" ? text : `${text}\n`);
      return 0;
    }
    await writeFile(file, text, { mode: includeSecrets ? 0o600 : 0o644 });
    // The mode above only applies to a new file.
    if (includeSecrets) await chmod(file, 0o600);
    const of = environment ? `${workspace.slug} in ${environment}` : workspace.slug;
    ctx.io.stderr.write(`Wrote the ${format} export of ${of}${includeSecrets ? " WITH secrets" : ""} to ${file}.\n`);
    return 0;
  },
};

export const connectionCommands: Command[] = [add, remove, get, list, exportCommand, importCommand, test];

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

function exportFormat(file: string, values: { format?: string; "file-format"?: string }): (typeof EXPORT_FORMATS)[number] {
  if (values.format && values["file-format"]) throw new UsageError("Give --format or --file-format, not both.", "connections export");
  if (values.format) return oneOf(values.format, EXPORT_FORMATS, "format", "connections export");
  if (values["file-format"]) return `airflow-${oneOf(values["file-format"], FILE_FORMATS, "file-format", "connections export")}`;
  const ext = extname(file).toLowerCase();
  if (ext === ".json") return "airflow-json";
  if (ext === ".yaml" || ext === ".yml") return "airflow-yaml";
  if (ext === ".env") return "airflow-env";
  if (ext === ".ini") return "jupysql-ini";
  throw new UsageError(`Cannot tell the format of ${JSON.stringify(file)} from its extension; give --file-format json, yaml or env.`, "connections export");
}

/** `airflow connections export --file-format env --serialization-format json`: conn_id=<json> lines. */
function jsonEnvLines(exported: string): string {
  const entries = Object.entries(JSON.parse(exported) as Record<string, Record<string, unknown>>);
  return entries.map(([name, c]) => `${name}=${JSON.stringify(c)}\n`).join("");
}

/** The resolve endpoint as text (?format=uri|env). */
async function restResolve(ctx: Context, name: string, query: { format: string; dialect: string | null }): Promise<string> {
  const url = new URL(`${ctx.settings.url}/api/v1/connections/${encodeURIComponent(name)}`);
  url.searchParams.set("format", query.format);
  if (query.dialect) url.searchParams.set("dialect", query.dialect);
  if (ctx.workspace) url.searchParams.set("workspace", ctx.workspace);
  if (ctx.settings.environment) url.searchParams.set("environment", ctx.settings.environment);
  let response: Response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${ctx.settings.token}` }, signal: AbortSignal.timeout(ctx.settings.timeoutMs), redirect: "manual" });
  } catch (error) {
    throw new PatchbayError("NETWORK", `Could not reach Patchbay at ${ctx.settings.url}: ${(error as Error).message}.`);
  }
  const text = await response.text();
  if (response.ok) return text;
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: reported below by status
  }
  throw new PatchbayError(body?.error?.code ?? "BAD_RESPONSE", body?.error?.message ?? `HTTP ${response.status}`, { status: response.status });
}
