/**
 * The npm packages as a user gets them: `npm pack` patchbay-cli (clients/cli) and
 * patchbay-client (clients/typescript), `npm install` both tarballs into an empty directory
 * outside the repository, then run the installed `patchbay` command and import the client
 * from a plain .mjs file, both against a real server. Nothing here loads the repository's
 * TypeScript: the installed packages must stand on their own (compiled JavaScript, type
 * declarations, no runtime dependencies).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp } from "../support/factories";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const PASSWORD = `p@ss:w/rd %+? #${randomBytes(3).toString("hex")}`;
const STEP_MS = 180_000;

let app: TestApp;
let token: string;
let tmp: string;
let consumer: string;
const tarballs: Record<string, { file: string; files: string[] }> = {};

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a program with a deadline; never rejects, so a failure shows its output. */
function run(file: string, args: string[], options: { cwd: string; env?: Record<string, string>; timeoutMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: options.cwd, env: options.env ?? (process.env as Record<string, string>), timeout: options.timeoutMs ?? 60_000, killSignal: "SIGKILL", maxBuffer: 16 << 20 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

/** A user's shell outside the repository: its own HOME, none of this process's PATCHBAY_* settings. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? "", HOME: join(tmp, "home"), ...extra };
}

/** npm with the ordinary cache and registry settings of this machine, but run outside the repository. */
function npm(args: string[], cwd: string): Promise<Run> {
  return run("npm", [...args, "--no-audit", "--no-fund", "--no-update-notifier"], { cwd, env: { ...(process.env as Record<string, string>) }, timeoutMs: STEP_MS - 10_000 });
}

beforeAll(async () => {
  app = await startTestApp();
  const owner = await signUp(new GraphQLClient(app.url), "owner");
  const workspace = await createWorkspace(owner.client);
  await createConnection(owner.client, workspace.id, { name: "warehouse", type: "postgres", host: "127.0.0.1", port: 5433, schema: "sales", login: "reporter", password: PASSWORD, extra: { sslmode: "require" } });
  token = (await createApiToken(owner.client, workspace.id, ["READ", "RESOLVE"], "packaging")).token;
  tmp = await mkdtemp(join(tmpdir(), "patchbay-packaging-"));
  consumer = join(tmp, "consumer");
  await mkdir(consumer);
  await mkdir(join(tmp, "home"));
  await mkdir(join(tmp, "packs"));
}, STEP_MS);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
  await app?.stop();
});

describe("npm packages", () => {
  it("pack with compiled JavaScript and declarations, and nothing of the repository's sources", async () => {
    expect(relative(ROOT, tmp).startsWith("..")).toBe(true);
    for (const dir of ["cli", "typescript"]) {
      const packed = await npm(["pack", "--json", "--pack-destination", join(tmp, "packs")], join(ROOT, "clients", dir));
      expect(packed.code, packed.stderr).toBe(0);
      const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf("[")));
      tarballs[info.name] = { file: join(tmp, "packs", info.filename), files: info.files.map((f: { path: string }) => f.path) };
    }
    expect(Object.keys(tarballs).sort()).toEqual(["patchbay-cli", "patchbay-client"]);
    const cli = tarballs["patchbay-cli"].files;
    expect(cli).toEqual(expect.arrayContaining(["package.json", "bin/patchbay.js", "dist/cli/main.js", "dist/cli/main.d.ts", "dist/typescript/transport.js"]));
    const client = tarballs["patchbay-client"].files;
    expect(client).toEqual(expect.arrayContaining(["package.json", "dist/clients/typescript/index.js", "dist/clients/typescript/index.d.ts", "dist/src/adapters/common/driver-config.js"]));
    for (const file of [...cli, ...client]) {
      // TypeScript sources (other than declarations), tests and build configs stay home.
      expect(file, file).not.toMatch(/(?<!\.d)\.ts$|tsconfig|\.test\./);
    }
  }, STEP_MS);

  it("install from the tarballs into an empty directory outside the repository, with no other package", async () => {
    expect(Object.keys(tarballs)).toHaveLength(2);
    await writeFile(join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, version: "1.0.0" }));
    const installed = await npm(["install", tarballs["patchbay-cli"].file, tarballs["patchbay-client"].file], consumer);
    expect(installed.code, installed.stderr).toBe(0);
    // Zero runtime dependencies: the two packages are all that was installed.
    expect((await readdir(join(consumer, "node_modules"))).filter((n) => !n.startsWith(".")).sort()).toEqual(["patchbay-cli", "patchbay-client"]);
  }, STEP_MS);

  it("the installed patchbay command runs: --version, --help and a real command against the server", async () => {
    const bin = join(consumer, "node_modules", ".bin", "patchbay");
    const { version } = JSON.parse(await readFile(join(ROOT, "clients", "cli", "package.json"), "utf8"));
    const v = await run(bin, ["--version"], { cwd: consumer, env: userEnv() });
    expect(v).toMatchObject({ code: 0, stdout: `patchbay ${version}\n` });
    const help = await run(bin, ["--help"], { cwd: consumer, env: userEnv() });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toContain("connections list");
    const list = await run(bin, ["connections", "list", "-o", "json"], { cwd: consumer, env: userEnv({ PATCHBAY_URL: app.url, PATCHBAY_TOKEN: token }) });
    expect(list.code, list.stderr).toBe(0);
    expect(JSON.parse(list.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ name: "warehouse", type: "postgres", host: "127.0.0.1" })]));
    expect(list.stdout).not.toContain(PASSWORD);
    const unknown = await run(bin, ["frobnicate"], { cwd: consumer, env: userEnv() });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
  }, STEP_MS);

  it("the installed client imports from plain JavaScript on this Node and resolves a connection", async () => {
    await writeFile(
      join(consumer, "use.mjs"),
      `import { createPatchbayClient, PatchbayError, pgPoolConfig } from "patchbay-client";
const patchbay = createPatchbayClient({ url: process.env.PATCHBAY_URL, token: process.env.PATCHBAY_TOKEN });
const c = await patchbay.connection("warehouse");
const pool = pgPoolConfig(c);
let missing;
try { await patchbay.connection("nope"); } catch (e) { missing = { isPatchbayError: e instanceof PatchbayError, code: e.code }; }
console.log(JSON.stringify({
  node: process.versions.node,
  name: c.name, host: c.host, login: c.login, passwordMatches: c.password === process.env.EXPECTED,
  pool: { host: pool.host, port: pool.port, database: pool.database, ssl: pool.ssl, passwordMatches: pool.password === process.env.EXPECTED },
  missing,
}));
`,
    );
    const used = await run(process.execPath, ["use.mjs"], { cwd: consumer, env: userEnv({ PATCHBAY_URL: app.url, PATCHBAY_TOKEN: token, EXPECTED: PASSWORD }) });
    expect(used.code, used.stderr).toBe(0);
    expect(used.stdout).not.toContain(PASSWORD);
    const out = JSON.parse(used.stdout);
    expect(Number(out.node.split(".")[0])).toBeGreaterThanOrEqual(20);
    expect(out).toMatchObject({
      name: "warehouse",
      host: "127.0.0.1",
      login: "reporter",
      passwordMatches: true,
      pool: { host: "127.0.0.1", port: 5433, database: "sales", ssl: { rejectUnauthorized: false }, passwordMatches: true },
      missing: { isPatchbayError: true, code: "NOT_FOUND" },
    });
  }, STEP_MS);

  it("the installed client's declarations type-check a consumer's TypeScript", async () => {
    await writeFile(
      join(consumer, "check.ts"),
      `import { createPatchbayClient, type ResolvedConnection } from "patchbay-client";
const patchbay = createPatchbayClient({ url: "http://127.0.0.1:1", token: "t" });
export const name: Promise<string> = patchbay.connection("x").then((c: ResolvedConnection) => c.name);
// @ts-expect-error: connection() takes a name
patchbay.connection(42);
`,
    );
    await writeFile(
      join(consumer, "tsconfig.json"),
      JSON.stringify({ compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", target: "ES2022", strict: true, noEmit: true, skipLibCheck: true, types: [] }, files: ["check.ts"] }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const checked = await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: consumer, env: userEnv() });
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
  }, STEP_MS);
});
