/**
 * The `patchbay` command line, run as a real process (node bin/patchbay.mjs) against a real
 * server: every command, its exit codes, and that no output carries the password unless the
 * command was asked for secrets (--resolve, --include-secrets).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../clients/cli/main";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { createPgTarget, type PgTarget } from "../support/pg-target";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = `p@ss:w/rd %+? #${randomBytes(3).toString("hex")}`;
const IMPORTED_PASSWORD = `imp0rted:p@ss/${randomBytes(3).toString("hex")}`;

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let target: PgTarget;
let dir: string;
const tokens: Record<string, string> = {};
/** Outputs of runs that were not asked for secrets; none may hold one. */
const quietOutputs: Array<{ command: string; text: string }> = [];

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only the given PATCHBAY_* settings (not this process's). */
function cli(args: string[], env: Record<string, string> = {}, options: { secrets?: boolean; stdin?: string } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["bin/patchbay.mjs", ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(options.stdin ?? "");
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      if (!options.secrets) quietOutputs.push({ command: args.filter((a) => !a.startsWith("pbt_")).join(" "), text: `${stdout}\n${stderr}` });
      resolve({ code, stdout, stderr });
    });
  });
}

/** The same CLI in this process (main() with captured output), for the many usage checks. */
async function cliInProcess(args: string[], env: Record<string, string> = {}): Promise<Run> {
  let stdout = "";
  let stderr = "";
  const code = await main(args, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    env,
    readStdin: async () => "",
  });
  quietOutputs.push({ command: args.filter((a) => !a.startsWith("pbt_")).join(" "), text: `${stdout}\n${stderr}` });
  return { code, stdout, stderr };
}

/** PATCHBAY_URL and PATCHBAY_TOKEN for one of the tokens. */
const as = (token: string, extra: Record<string, string> = {}) => ({ PATCHBAY_URL: app.url, PATCHBAY_TOKEN: token, ...extra });

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  target = await createPgTarget(PASSWORD);
  await createConnection(owner.client, workspace.id, {
    name: "warehouse",
    type: "postgres",
    description: "Reporting replica",
    host: target.host,
    port: target.port,
    schema: target.schema,
    login: target.login,
    password: PASSWORD,
  });
  // Nothing listens on port 1: the test fails fast with CONNECTION_REFUSED.
  await createConnection(owner.client, workspace.id, { name: "broken", type: "postgres", host: "127.0.0.1", port: 1, login: "x", password: PASSWORD });
  await createConnection(owner.client, workspace.id, { name: "shop_db", type: "mysql", host: "mysql.example.com", port: 3306, login: "shop", password: PASSWORD });
  for (const scope of ["READ", "TEST", "WRITE", "RESOLVE"]) tokens[scope] = (await createApiToken(owner.client, workspace.id, [scope], `${scope.toLowerCase()}-cli`)).token;
  tokens.ALL = (await createApiToken(owner.client, workspace.id, ["READ", "TEST", "WRITE"], "all-cli")).token;
  dir = await mkdtemp(join(tmpdir(), "patchbay-cli-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await app?.stop();
});

describe("usage", () => {
  it("prints help for the CLI, a group and each command, exit 0", async () => {
    const main = await cli(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("connections list");
    expect(main.stdout).toContain("tokens revoke");
    for (const command of ["connections list", "connections get", "connections test", "connections import", "connections export", "tokens create", "tokens list", "tokens revoke"]) {
      const help = await cliInProcess([...command.split(" "), "--help"]);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toContain(`Usage: patchbay ${command}`);
    }
    expect((await cliInProcess(["tokens", "-h"])).stdout).toContain("tokens create");
  });

  it("exits 2 on usage errors, saying what is wrong", async () => {
    const cases: Array<[string[], RegExp]> = [
      [[], /Name a command/],
      [["nope"], /Unknown command "nope"/],
      [["connections", "frobnicate"], /Unknown command "connections frobnicate"/],
      [["connections", "list", "--bogus"], /Unknown option '--bogus'/],
      [["connections", "list", "--resolve"], /connections list does not take --resolve/],
      [["connections", "get"], /needs NAME/],
      [["connections", "get", "a", "b"], /takes 1 argument/],
      [["connections", "export"], /needs FILE/],
      [["connections", "export", "-", "--format", "csv"], /--format must be one of airflow-json/],
      [["connections", "export", "out.txt"], /Cannot tell the format of "out.txt"/],
      [["connections", "export", "-", "--file-format", "xml"], /--file-format must be one of json, yaml, env/],
      [["connections", "get", "x", "-o", "xml"], /--output must be one of plain, table, json, yaml, env/],
      [["connections", "add", "x"], /exactly one of --conn-uri, --conn-json or --conn-type/],
      [["connections", "add", "x", "--conn-uri", "postgres://h", "--conn-host", "h"], /cannot be combined with --conn-host/],
      [["connections", "add", "x", "--conn-json", "[1]"], /must be a JSON object/],
      [["connections", "import", "a.env", "--overwrite", "--on-conflict", "skip"], /disagree/],
      [["connections", "delete"], /needs NAME/],
      [["frobnicate"], /Unknown command "frobnicate"/],
      [["connections", "import", "file.txt"], /Cannot tell the format/],
      [["connections", "import", join("/nonexistent", "x.env")], /Cannot read .*no such file/],
      [["tokens", "create", "x"], /at least one --scope/],
      [["tokens", "create", "x", "--scope", "ADMIN"], /--scope must be one of READ, TEST, WRITE, RESOLVE/],
      [["tokens", "create", "x", "--scope", "READ", "--expires", "soon"], /--expires is not a date/],
    ];
    // The real process once, for its exit code; the rest in-process, the same code.
    expect(await cli(["connections", "list", "--bogus"], as(tokens.READ))).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("--bogus") });
    for (const [args, message] of cases) {
      const run = await cliInProcess(args, as(tokens.READ));
      expect(run.code, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toMatch(message);
      expect(run.stdout).toBe("");
    }
  });

  it("names PATCHBAY_URL and PATCHBAY_TOKEN when they are missing (exit 2)", async () => {
    const noUrl = await cli(["connections", "list"], { PATCHBAY_TOKEN: tokens.READ });
    expect(noUrl).toMatchObject({ code: 2, stderr: expect.stringContaining("PATCHBAY_URL") });
    const noToken = await cli(["connections", "list"], { PATCHBAY_URL: app.url });
    expect(noToken).toMatchObject({ code: 2, stderr: expect.stringContaining("PATCHBAY_TOKEN") });
    // Flags work in place of the variables, anywhere on the line.
    const flags = await cli(["--url", app.url, "connections", "list", "--token", tokens.READ]);
    expect(flags.code).toBe(0);
    expect(flags.stdout).toContain("warehouse");
  });

  it("asks a person for --workspace (exit 2) and uses it when given", async () => {
    const without = await cli(["connections", "list"], as(owner.token));
    expect(without.code).toBe(2);
    expect(without.stderr).toContain("--workspace");
    const withSlug = await cli(["connections", "list", "--workspace", workspace.slug], as(owner.token));
    expect(withSlug.code).toBe(0);
    expect(withSlug.stdout).toContain("warehouse");
    const unknown = await cli(["connections", "list", "-w", "no-such-workspace"], as(owner.token));
    expect(unknown).toMatchObject({ code: 1, stderr: expect.stringContaining("[NOT_FOUND]") });
  });
});

describe("connections", () => {
  it("list: a table, filters, and --json", async () => {
    const run = await cli(["connections", "list"], as(tokens.READ));
    expect(run.code).toBe(0);
    expect(run.stdout.split("\n")[0]).toMatch(/^NAME\s+TYPE\s+HOST\s+PORT\s+DATABASE\s+LOGIN\s+LAST TEST$/);
    expect(run.stdout).toMatch(new RegExp(`warehouse\\s+postgres\\s+127\\.0\\.0\\.1\\s+${target.port}\\s+${target.schema}\\s+${target.login}`));
    const mysql = await cli(["connections", "list", "--type", "mysql", "--json"], as(tokens.READ));
    expect(JSON.parse(mysql.stdout).map((c: any) => c.name)).toEqual(["shop_db"]);
    const search = await cli(["connections", "list", "--search", "ware", "--json"], as(tokens.READ));
    expect(JSON.parse(search.stdout).map((c: any) => c.name)).toEqual(["warehouse"]);
  });

  it("get: the metadata without secrets; NOT_FOUND exits 1", async () => {
    const run = await cli(["connections", "get", "warehouse"], as(tokens.READ));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^name\s+warehouse$/m);
    expect(run.stdout).toMatch(/^description\s+Reporting replica$/m);
    expect(run.stdout).toMatch(/^secrets set\s+password$/m);
    const asJson = JSON.parse((await cli(["connections", "get", "warehouse", "--json"], as(tokens.READ))).stdout);
    expect(asJson).toMatchObject({ name: "warehouse", login: target.login, secretFields: ["password"] });
    expect(asJson.password).toBeUndefined();
    const missing = await cli(["connections", "get", "nope"], as(tokens.READ));
    expect(missing).toMatchObject({ code: 1, stdout: "" });
    expect(missing.stderr).toMatch(/Connection "nope" not found.*\[NOT_FOUND\]/);
  });

  it("get --resolve: every field with the secrets, only with a right to resolve", async () => {
    const refused = await cli(["connections", "get", "warehouse", "--resolve"], as(tokens.READ));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("[FORBIDDEN]");
    const run = await cli(["connections", "get", "warehouse", "--resolve"], as(tokens.RESOLVE), { secrets: true });
    expect(run.code).toBe(0);
    const resolved = JSON.parse(run.stdout);
    expect(resolved).toMatchObject({ name: "warehouse", type: "postgres", login: target.login, password: PASSWORD });
    expect(resolved.airflowUri).toMatch(/^postgres:\/\//);
  });

  it("test: SUCCESS exits 0, a failing connection exits 1 with its error code", async () => {
    const ok = await cli(["connections", "test", "warehouse"], as(tokens.ALL));
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^SUCCESS {2}warehouse {2}\d+ ms {2}PostgreSQL/);
    const bad = await cli(["connections", "test", "broken", "--json"], as(tokens.ALL));
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ status: "FAILURE", errorCode: expect.any(String) });
    const refused = await cli(["connections", "test", "warehouse"], as(tokens.READ));
    expect(refused).toMatchObject({ code: 1, stderr: expect.stringContaining("[FORBIDDEN]") });
    const testOnly = await cli(["connections", "test", "warehouse"], as(tokens.TEST));
    expect(testOnly).toMatchObject({ code: 1, stderr: expect.stringContaining("needs the READ scope") });
  });

  it("export: stubs without the password to stdout or a file; secrets only for an admin who asks", async () => {
    const stub = await cli(["connections", "export", "-", "--format", "airflow-json"], as(tokens.READ));
    expect(stub.code, stub.stderr).toBe(0);
    const exported = JSON.parse(stub.stdout);
    expect(exported.warehouse).toMatchObject({ conn_type: "postgres", host: "127.0.0.1", login: target.login });
    expect(exported.warehouse.password ?? null).toBeNull();
    const env = await cli(["connections", "export", "-", "-f", "airflow-env"], as(tokens.READ));
    expect(env.stdout).toMatch(/^warehouse=/m);
    const ini = await cli(["connections", "export", "-", "--format", "jupysql-ini"], as(tokens.READ));
    expect(ini.stdout).toContain("[warehouse]");

    const file = join(dir, "stubs.yaml");
    const toFile = await cli(["connections", "export", file], as(tokens.READ));
    expect(toFile.code).toBe(0);
    expect(toFile.stdout).toBe("");
    expect(await readFile(file, "utf8")).toContain("warehouse:");

    const notAdmin = await cli(["connections", "export", "-", "--file-format", "json", "--include-secrets"], as(tokens.READ));
    expect(notAdmin).toMatchObject({ code: 1, stderr: expect.stringContaining("[FORBIDDEN]") });
    const secretFile = join(dir, "secrets.json");
    const withSecrets = await cli(
      ["connections", "export", secretFile, "--include-secrets", "-w", workspace.slug],
      as(owner.token),
      { secrets: true },
    );
    expect(withSecrets.code, withSecrets.stderr).toBe(0);
    expect(JSON.parse(await readFile(secretFile, "utf8")).warehouse.password).toBe(PASSWORD);
    expect((await stat(secretFile)).mode & 0o777).toBe(0o600);
  });

  it("import: an Airflow .env file, dry run first, then for real, then conflicts", async () => {
    const file = join(dir, "connections.env");
    const uri = `postgres://etl:${encodeURIComponent(IMPORTED_PASSWORD)}@db.example.com:5432/app`;
    const json = JSON.stringify({ conn_type: "mysql", host: "mysql.example.com", login: "etl", password: IMPORTED_PASSWORD, port: 3306 });
    await writeFile(file, `# exported from Airflow\nimported_pg=${uri}\nimported_mysql=${json}\n`);

    const dry = await cli(["connections", "import", file, "--dry-run"], as(tokens.WRITE));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/^imported_pg\s+CREATED/m);
    expect(dry.stdout).toMatch(/^imported_mysql\s+CREATED/m);
    expect(dry.stderr).toContain("Dry run");
    expect((await cli(["connections", "get", "imported_pg"], as(tokens.READ))).code).toBe(1);

    const real = await cli(["connections", "import", file, "--format", "airflow-env"], as(tokens.WRITE));
    expect(real.code, real.stderr).toBe(0);
    expect(real.stderr).toMatch(/Imported into .*: 2 created/);
    const got = JSON.parse((await cli(["connections", "get", "imported_pg", "--json"], as(tokens.READ))).stdout);
    expect(got).toMatchObject({ type: "postgres", host: "db.example.com", login: "etl", secretFields: ["password"] });
    const resolved = JSON.parse((await cli(["connections", "get", "imported_pg", "--resolve"], as(tokens.RESOLVE), { secrets: true })).stdout);
    expect(resolved.password).toBe(IMPORTED_PASSWORD);

    const conflict = await cli(["connections", "import", file, "--json"], as(tokens.WRITE));
    expect(conflict.code).toBe(1);
    const report = JSON.parse(conflict.stdout);
    expect(report.applied).toBe(false);
    expect(report.lines.filter((l: any) => l.outcome === "ERROR").length).toBeGreaterThan(0);

    const skip = await cli(["connections", "import", file, "--on-conflict", "skip"], as(tokens.WRITE));
    expect(skip.code, skip.stderr).toBe(0);
    expect(skip.stdout).toMatch(/^imported_pg\s+(SKIPPED|UNCHANGED)/m);

    // A type Patchbay does not know: an error with a hint, or generic when asked.
    const unknown = join(dir, "unknown.json");
    await writeFile(unknown, JSON.stringify({ odd_one: { conn_type: "nosuch", host: "odd.example.com" } }));
    const refused = await cliInProcess(["connections", "import", unknown, "--dry-run"], as(tokens.WRITE));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^odd_one\s+ERROR/m);
    expect(refused.stderr).toContain("--generic");
    const generic = await cliInProcess(["connections", "import", unknown, "--dry-run", "--generic"], as(tokens.WRITE));
    expect(generic.code, generic.stderr).toBe(0);
    expect(generic.stdout).toMatch(/^odd_one\s+CREATED/m);

    // From stdin, as a person naming the workspace.
    const stdin = await cli(["connections", "import", "-", "--format", "airflow-env", "--dry-run", "-w", workspace.slug], as(owner.token), {
      stdin: `from_stdin=${uri}\n`,
    });
    expect(stdin.code, stdin.stderr).toBe(0);
    expect(stdin.stdout).toMatch(/^from_stdin\s+CREATED/m);
  });
});

describe("tokens", () => {
  it("create prints the token once; it works until revoked", async () => {
    const created = await cli(["tokens", "create", "nightly", "--scope", "READ", "--scope", "RESOLVE", "--expires", "2099-01-31", "-w", workspace.slug], as(owner.token), {
      secrets: true,
    });
    expect(created.code, created.stderr).toBe(0);
    const token = created.stdout.trim();
    expect(token).toMatch(/^pbt_\S+$/);
    expect(created.stderr).toContain("scopes READ, RESOLVE");
    expect(created.stderr).toContain("2099-01-31");
    expect(created.stderr).not.toContain(token);

    expect((await cli(["connections", "list"], as(token))).code).toBe(0);
    const listed = JSON.parse((await cli(["tokens", "list", "--json", "-w", workspace.slug], as(owner.token))).stdout);
    const record = listed.find((t: any) => t.name === "nightly");
    expect(record).toMatchObject({ scopes: ["READ", "RESOLVE"], revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(token);

    const revoked = await cli(["tokens", "revoke", record.id], as(owner.token));
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toContain(`Revoked API token "nightly"`);
    const after = await cli(["connections", "list"], as(token));
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("[UNAUTHENTICATED]");
    expect(after.stderr).not.toContain(token);
  });

  it("an API token may not create tokens (exit 1, FORBIDDEN)", async () => {
    const run = await cli(["tokens", "create", "x", "--scope", "READ"], as(tokens.ALL));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("[FORBIDDEN]");
  });
});

describe("secrets", () => {
  it("--environment and PATCHBAY_ENVIRONMENT: resolve, test and export one environment's values", async () => {
    const id = (await owner.client.ok(`query($s: String!) { workspace(slug: $s) { connection(name: "warehouse") { id } } }`, { s: workspace.slug }))
      .workspace.connection.id;
    await owner.client.ok(`mutation($id: ID!) { setConnectionOverride(id: $id, environment: "prod", patch: { schema: "prod_only_db", password: "wrong-prod-Pa55" }) { version } }`, {
      id,
    });
    const resolved = await cli(["connections", "get", "warehouse", "--resolve", "--environment", "prod"], as(tokens.RESOLVE), { secrets: true });
    expect(resolved.code, resolved.stderr).toBe(0);
    expect(JSON.parse(resolved.stdout)).toMatchObject({ schema: "prod_only_db", password: "wrong-prod-Pa55", login: target.login });
    const fromEnv = await cli(["connections", "get", "warehouse", "--resolve"], as(tokens.RESOLVE, { PATCHBAY_ENVIRONMENT: "prod" }), { secrets: true });
    expect(JSON.parse(fromEnv.stdout).schema).toBe("prod_only_db");

    const inProd = await cli(["connections", "test", "warehouse", "--json", "-e", "prod"], as(tokens.ALL));
    expect(inProd.code).toBe(1);
    expect(JSON.parse(inProd.stdout)).toMatchObject({ status: "FAILURE", errorCode: "AUTH_FAILED" });
    expect((await cli(["connections", "test", "warehouse"], as(tokens.ALL))).code).toBe(0);

    const exported = await cli(["connections", "export", "-", "--format", "airflow-json"], as(tokens.READ, { PATCHBAY_ENVIRONMENT: "prod" }));
    expect(exported.code, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).warehouse).toMatchObject({ schema: "prod_only_db", host: "127.0.0.1" });

    const bad = await cliInProcess(["connections", "list"], as(tokens.READ, { PATCHBAY_ENVIRONMENT: "two words" }));
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("PATCHBAY_ENVIRONMENT");
  });

  it("no output of a command that was not asked for secrets holds a password or a token", () => {
    expect(quietOutputs.length).toBeGreaterThan(30);
    for (const { command, text } of quietOutputs) {
      for (const secret of [PASSWORD, IMPORTED_PASSWORD, encodeURIComponent(PASSWORD), encodeURIComponent(IMPORTED_PASSWORD), ...Object.values(tokens), owner.token]) {
        expect(text.includes(secret), `"${command}" printed a secret`).toBe(false);
      }
    }
  });
});
