/**
 * The CLI as an `airflow connections` user reaches for it, run as a real process
 * (node bin/patchbay.mjs) against a real server: add (uri, json, fields), get -o
 * json|yaml|env|plain, list | head -1, export FILE by extension and flags, import --overwrite
 * and in batches with progress, delete; and login (a 0600 session file), workspaces, members,
 * invite, audit, --version.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../clients/cli/main";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createWorkspace, signUp, type SignedUp } from "../support/factories";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = "cli-airflow-pw:@/%";

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let dir: string;
const tokens: Record<string, string> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: Record<string, string>, stdin = ""): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: { PATH: process.env.PATH ?? "", HOME: dir, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(stdin);
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const cli = (args: string[], env: Record<string, string> = {}, stdin = "") => run(process.execPath, ["bin/patchbay.mjs", ...args], env, stdin);
const as = (token: string, extra: Record<string, string> = {}) => ({ PATCHBAY_URL: app.url, PATCHBAY_TOKEN: token, ...extra });

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  for (const scope of ["READ", "WRITE", "RESOLVE"]) tokens[scope] = (await createApiToken(owner.client, workspace.id, [scope], `${scope.toLowerCase()}-cli`)).token;
  tokens.ALL = (await createApiToken(owner.client, workspace.id, ["READ", "WRITE", "RESOLVE"], "all")).token;
  dir = await mkdtemp(join(tmpdir(), "patchbay-cli-airflow-"));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  await app?.stop();
});

describe("connections, as airflow connections has them", () => {
  it("add: --conn-uri, --conn-json and the fields one by one; a taken name exits 1", async () => {
    const uri = await cli(["connections", "add", "by_uri", "--conn-uri", `postgres://etl:${encodeURIComponent(PASSWORD)}@db.example.com:5432/app?sslmode=verify-ca`], as(tokens.WRITE));
    expect(uri.code, uri.stderr).toBe(0);
    expect(uri.stdout).toContain("Added connection by_uri");
    const json = await cli(
      ["connections", "add", "by_json", "--conn-json", JSON.stringify({ conn_type: "mysql", host: "m.example.com", login: "u", extra: { ssl_mode: "PREFERRED" } }), "--conn-description", "From JSON"],
      as(tokens.WRITE),
    );
    expect(json.code, json.stderr).toBe(0);
    const fields = await cli(
      ["connections", "add", "by_fields", "--conn-type", "postgres", "--conn-host", "h.example.com", "--conn-port", "6543", "--conn-login", "me", "--conn-password", "-", "--conn-extra", '{"zz": "1", "aa": "2"}'],
      as(tokens.WRITE),
      `${PASSWORD}\n`,
    );
    expect(fields.code, fields.stderr).toBe(0);
    expect(fields.stdout).not.toContain(PASSWORD);

    const got = JSON.parse((await cli(["connections", "get", "by_fields", "-o", "json", "--resolve"], as(tokens.ALL))).stdout);
    expect(got).toMatchObject({ type: "postgres", host: "h.example.com", port: 6543, login: "me", password: PASSWORD });
    expect(Object.keys(got.extra)).toEqual(["zz", "aa"]);
    const described = JSON.parse((await cli(["connections", "get", "by_json", "-o", "json"], as(tokens.READ))).stdout);
    expect(described).toMatchObject({ type: "mysql", description: "From JSON", extra: { ssl_mode: "PREFERRED" } });

    const again = await cli(["connections", "add", "by_uri", "--conn-uri", "postgres://h/d"], as(tokens.WRITE));
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Could not add by_uri");
  });

  it("get: -o plain, yaml and env (one AIRFLOW_CONN_ line, in either dialect)", async () => {
    const plain = await cli(["connections", "get", "by_uri"], as(tokens.READ));
    expect(plain.stdout).toMatch(/^host\s+db\.example\.com$/m);
    expect(plain.stdout).not.toContain(PASSWORD);
    const yaml = await cli(["connections", "get", "by_uri", "-o", "yaml"], as(tokens.READ));
    expect(yaml.stdout).toContain('"host": "db.example.com"');
    expect(yaml.stdout).toContain('"extra":\n  "sslmode": "verify-ca"');
    const env = await cli(["connections", "get", "by_uri", "-o", "env"], as(tokens.RESOLVE));
    expect(env.code, env.stderr).toBe(0);
    expect(env.stdout).toBe(`AIRFLOW_CONN_BY_URI=postgres://etl:${encodeURIComponent(PASSWORD).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}@db.example.com:5432/app?sslmode=verify-ca\n`);
    const refused = await cli(["connections", "get", "by_uri", "-o", "env"], as(tokens.READ));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("[FORBIDDEN]");
  });

  it("list -o plain | head -1: the first name, and no EPIPE crash however long the list", async () => {
    const many = Array.from({ length: 150 }, (_, i) => `bulk_${String(i).padStart(3, "0")}=postgres://u@h${i}.example.com/d?application_name=${"x".repeat(600)}`).join("\n");
    await writeFile(join(dir, "bulk.env"), `${many}\n`);
    const imported = await cli(["connections", "import", join(dir, "bulk.env")], as(tokens.WRITE));
    expect(imported.code, imported.stderr).toBe(0);
    for (const output of ["plain", "json", "yaml", "table"]) {
      const piped = await run(
        "bash",
        ["-c", `set -o pipefail; "${process.execPath}" bin/patchbay.mjs connections list -o ${output} | head -1`],
        as(tokens.READ),
      );
      expect(piped.code, `${output}: ${piped.stderr}`).toBe(0);
      expect(piped.stderr, output).toBe("");
      expect(piped.stdout.split("\n").length, output).toBe(2);
    }
    expect((await run("bash", ["-c", `"${process.execPath}" bin/patchbay.mjs connections list -o plain | head -1`], as(tokens.READ))).stdout).toBe("bulk_000\n");
  });

  it("export FILE: the format from the extension or --file-format, env lines as JSON, the dialect", async () => {
    for (const [file, check] of [
      ["out.json", (t: string) => expect(JSON.parse(t).by_uri.conn_type).toBe("postgres")],
      ["out.yaml", (t: string) => expect(t).toContain("by_uri:\n  conn_type: postgres")],
      ["out.env", (t: string) => expect(t).toMatch(/^by_uri=postgres:\/\/etl@db\.example\.com:5432\/app\?sslmode=verify-ca$/m)],
      ["out.ini", (t: string) => expect(t).toContain("[by_uri]\ndrivername = postgresql+psycopg2")],
    ] as const) {
      const out = await cli(["connections", "export", join(dir, file)], as(tokens.READ));
      expect(out.code, out.stderr).toBe(0);
      check(await readFile(join(dir, file), "utf8"));
    }
    const jsonLines = await cli(["connections", "export", "-", "--file-format", "env", "--serialization-format", "json"], as(tokens.READ));
    const line = jsonLines.stdout.split("\n").find((l) => l.startsWith("by_fields="))!;
    expect(JSON.parse(line.slice("by_fields=".length))).toMatchObject({ conn_type: "postgres", host: "h.example.com", port: 6543 });
    const vars = await cli(["connections", "export", "-", "--format", "airflow-env-vars", "--dialect", "query-params"], as(tokens.READ));
    expect(vars.stdout).toMatch(/^AIRFLOW_CONN_BY_FIELDS=postgres:\/\/me@h\.example\.com:6543\/\?zz=1&aa=2$/m);
    const secrets = join(dir, "secrets.env");
    const withSecrets = await cli(["connections", "export", secrets, "--include-secrets", "-w", workspace.slug], as(owner.token));
    expect(withSecrets.code, withSecrets.stderr).toBe(0);
    expect((await stat(secrets)).mode & 0o777).toBe(0o600);
  });

  it("import --overwrite replaces; a stub keeps the stored password", async () => {
    const file = join(dir, "over.env");
    await writeFile(file, "by_uri=postgres://etl@db2.example.com:5432/app\n");
    const plain = await cli(["connections", "import", file], as(tokens.WRITE));
    expect(plain.code).toBe(1);
    const over = await cli(["connections", "import", file, "--overwrite"], as(tokens.ALL));
    expect(over.code, over.stderr).toBe(0);
    expect(over.stdout).toMatch(/^by_uri\s+UPDATED\s+Kept the stored password/m);
    const got = JSON.parse((await cli(["connections", "get", "by_uri", "--resolve"], as(tokens.ALL))).stdout);
    expect(got).toMatchObject({ host: "db2.example.com", password: PASSWORD });
  });

  it("import in batches: one all-or-nothing import staged on the server, progress on a terminal", async () => {
    const lines = Array.from({ length: 7 }, (_, i) => `batch_${i}=postgres://u:batch-pw-${i}@b${i}.example.com/d`);
    // The bad line is in the last batch: with batches written one by one, the first two would stay.
    const bad = [...lines, "batch_bad=postgres://u@b.example.com/d?sslmode=sometimes"].join("\n");
    await writeFile(join(dir, "bad.env"), bad);
    const refused = await cli(["connections", "import", join(dir, "bad.env"), "--batch-size", "3"], as(tokens.WRITE));
    expect(refused.code).toBe(1);
    expect(refused.stdout).toMatch(/^batch_bad\s+ERROR/m);
    expect(refused.stdout).toMatch(/^batch_0\s+CREATED/m);
    expect(refused.stderr).toContain("Nothing was written");
    for (const name of ["batch_0", "batch_3", "batch_6"]) expect((await cli(["connections", "get", name], as(tokens.READ))).code).toBe(1);

    await writeFile(join(dir, "good.env"), lines.join("\n"));
    const dry = await cli(["connections", "import", join(dir, "good.env"), "--batch-size", "3", "--dry-run"], as(tokens.WRITE));
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toContain("Dry run, nothing written: 7 created");
    expect((await cli(["connections", "get", "batch_0"], as(tokens.READ))).code).toBe(1);

    let stdout = "";
    let stderr = "";
    const code = await main(["connections", "import", join(dir, "good.env"), "--batch-size", "3"], {
      stdout: { write: (t: string) => (stdout += t) },
      stderr: Object.assign({ write: (t: string) => (stderr += t) }, { isTTY: true }),
      env: as(tokens.WRITE),
      readStdin: async () => "",
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain("Staging batch 3/3");
    expect(stderr).toContain("Checking and writing 3 batches in one transaction");
    expect(stderr).toMatch(/Imported into .*: 7 created/);
    expect(stdout.match(/CREATED/g)).toHaveLength(7);
    const got = JSON.parse((await cli(["connections", "get", "batch_6", "--resolve"], as(tokens.ALL))).stdout);
    expect(got).toMatchObject({ host: "b6.example.com", password: "batch-pw-6" });
    // Nothing staged is left behind: the refused run and the dry run aborted their sessions.
    expect(await app.prisma.importSession.count({ where: { workspaceId: workspace.id } })).toBe(0);
  });

  it("delete: gone, and a second delete is NOT_FOUND", async () => {
    const gone = await cli(["connections", "delete", "by_json"], as(tokens.ALL));
    expect(gone.code, gone.stderr).toBe(0);
    expect(gone.stdout).toContain("Deleted connection by_json");
    const again = await cli(["connections", "delete", "by_json"], as(tokens.ALL));
    expect(again).toMatchObject({ code: 1, stderr: expect.stringContaining("[NOT_FOUND]") });
  });
});

describe("who and where", () => {
  it("--version, and an unknown command says so", async () => {
    const version = await cli(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: expect.stringMatching(/^patchbay \d+\.\d+\.\d+\n$/) });
    const unknown = await cli(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  });

  it("login keeps a session in a 0600 file that later commands use; logout forgets it", async () => {
    const session = join(dir, "config", "patchbay", "session.json");
    const env = { PATCHBAY_SESSION_FILE: session };
    const wrong = await cli(["login", "--url", app.url, "--email", owner.email, "--password-stdin"], env, "not-the-password\n");
    expect(wrong.code).toBe(1);
    const ok = await cli(["login", "--url", app.url, "--email", owner.email, "--password-stdin"], env, "correct horse battery\n");
    expect(ok.code, ok.stderr).toBe(0);
    expect((await stat(session)).mode & 0o777).toBe(0o600);
    expect((await stat(join(dir, "config", "patchbay"))).mode & 0o777).toBe(0o700);
    expect(ok.stdout + ok.stderr).not.toContain(JSON.parse(await readFile(session, "utf8")).token);

    const listed = await cli(["workspaces", "-o", "json"], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ slug: workspace.slug, myRole: "OWNER" }));
    const members = await cli(["members", "-w", workspace.slug], env);
    expect(members.stdout).toMatch(new RegExp(`^${owner.email.replace(/[.+]/g, "\\$&")}\\s+\\S.*OWNER`, "m"));
    const audit = await cli(["audit", "-w", workspace.slug, "--first", "5", "-o", "json"], env);
    expect(audit.code, audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout).length).toBe(5);

    // The session is for its own server only: another URL does not get the token.
    const elsewhere = await cli(["workspaces", "--url", "http://127.0.0.1:9"], env);
    expect(elsewhere).toMatchObject({ code: 2, stderr: expect.stringContaining("PATCHBAY_TOKEN") });

    const out = await cli(["logout"], env);
    expect(out.code).toBe(0);
    await expect(stat(session)).rejects.toThrow();
    expect((await cli(["workspaces"], env)).code).toBe(2);
  });

  it("invite: prints the invitation token once, or says the server has no invitations", async () => {
    const { __type } = await owner.client.ok(`{ __type(name: "Mutation") { fields { name } } }`);
    const hasInvitations = __type.fields.some((f: any) => f.name === "inviteMember");
    const invite = await cli(["invite", "new.person@example.com", "--role", "VIEWER", "-w", workspace.slug], as(owner.token));
    if (hasInvitations) {
      expect(invite.code, invite.stderr).toBe(0);
      expect(invite.stdout.trim()).not.toBe("");
      expect(invite.stderr).toContain("as VIEWER");
    } else {
      expect(invite.code).toBe(1);
      expect(invite.stderr).toContain("[UNSUPPORTED]");
    }
  });
});
