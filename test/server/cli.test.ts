/**
 * The server's command line: `npm start -- --help` and `--version` print and exit without
 * starting anything; anything else is a usage error. Configuration stays in the environment.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { configurationVariables } from "../support/readme";
import { type ServerProcess, spawnServer, within } from "../support/server-process";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const spawned: ServerProcess[] = [];
const dirs: string[] = [];

afterAll(async () => {
  for (const child of spawned) await child.kill();
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The environment variables a source file reads: env.NAME and env, "NAME". */
function variablesReadBy(file: string): string[] {
  const source = readFileSync(file, "utf8");
  return [...source.matchAll(/\benv(?:\.|, ")([A-Z][A-Z0-9_]+)/g)].map((m) => m[1]);
}

/** Runs the server with `args` and a data directory that must stay untouched. */
async function run(args: string[]) {
  const base = await mkdtemp(join(tmpdir(), "patchbay-cli-"));
  dirs.push(base);
  const dataDir = join(base, "data");
  const port = await freePort();
  const child = spawnServer({ cwd: ROOT, env: { PORT: String(port), PATCHBAY_DATA_DIR: dataDir }, args });
  spawned.push(child);
  const exit = await within(child.exited, 20_000, () => `the server to exit; stderr:\n${child.stderr()}`);
  // Nothing was started: no data directory, nothing listening.
  expect(existsSync(dataDir)).toBe(false);
  await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  return { exit, stdout: child.stdout(), stderr: child.stderr() };
}

describe("npm start -- <flag>", () => {
  it.each([["--help"], ["-h"]])("%s prints usage and every configuration variable, exit 0", { timeout: 30_000 }, async (flag) => {
    const { exit, stdout, stderr } = await run([flag]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^Usage: /);
    expect(stdout).toContain("--version");
    // Every variable the server reads, and every one the README's table lists.
    const variables = new Set([...configurationVariables(), ...variablesReadBy(join(ROOT, "src/config.ts"))]);
    expect(variables.size).toBeGreaterThan(10);
    for (const name of variables) expect(stdout, name).toMatch(new RegExp(`\\b${name}\\b`));
  });

  it.each([["--version"], ["-V"]])("%s prints the package version, exit 0", { timeout: 30_000 }, async (flag) => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    const { exit, stdout } = await run([flag]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(stdout).toBe(`patchbay ${version}\n`);
  });

  it("refuses an unknown option with exit 2, naming it and --help", { timeout: 30_000 }, async () => {
    const { exit, stdout, stderr } = await run(["--port", "5000"]);
    expect(exit).toEqual({ code: 2, signal: null });
    expect(stdout).toBe("");
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain('"--port"');
    expect(stderr).toContain("--help");
  });
});
