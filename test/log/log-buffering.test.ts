/**
 * The stderr logger buffers lines (log.ts) to spare a write per request; nothing may be lost or
 * held back for long: every line reaches stderr when the process exits (process.exit included),
 * a quiet process's line arrives within a fraction of a second, an error at once. And the
 * redactor's shortcut never skips a text its patterns would change.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import fc from "fast-check";
import { expect, it } from "vitest";
import { maskCredentials, redact } from "../../src/log";

const LOG_MODULE = resolve(__dirname, "../../src/log.ts");

function script(body: string): string {
  const dir = mkdtempSync(join(tmpdir(), "patchbay-log-"));
  const file = join(dir, "child.mts");
  writeFileSync(file, `import { createLogger } from ${JSON.stringify(LOG_MODULE)};\nconst log = createLogger({ level: "info" });\n${body}\n`);
  return file;
}

function run(file: string, onLine?: (line: string) => void): { done: Promise<{ code: number | null; lines: string[] }>; kill: () => void } {
  const child = spawn(process.execPath, ["--import", "tsx", file], { stdio: ["ignore", "ignore", "pipe"] });
  const lines: string[] = [];
  let rest = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (chunk: string) => {
    const parts = (rest + chunk).split("\n");
    rest = parts.pop() ?? "";
    for (const part of parts) {
      lines.push(part);
      onLine?.(part);
    }
  });
  const done = new Promise<{ code: number | null; lines: string[] }>((settle) => child.on("close", (code) => settle({ code, lines })));
  return { done, kill: () => child.kill("SIGKILL") };
}

it("writes every line, in order, when the process exits right after logging", async () => {
  const { done } = run(script(`for (let i = 0; i < 2000; i++) log.info("line", { i });\nprocess.exit(3);`));
  const { code, lines } = await done;
  expect(code).toBe(3);
  const numbers = lines.map((line) => (JSON.parse(line) as { i: number }).i);
  expect(numbers).toEqual(Array.from({ length: 2000 }, (_, i) => i));
}, 30_000);

it("lets a quiet process's line out soon, and an error at once, while the process lives on", async () => {
  const seen: Array<{ msg: string; at: number }> = [];
  const { done, kill } = run(
    script(`log.info("quiet line");\nsetTimeout(() => log.error("an error"), 1500);\nsetTimeout(() => {}, 60_000);`),
    (line) => seen.push({ msg: (JSON.parse(line) as { msg: string }).msg, at: performance.now() }),
  );
  try {
    const deadline = performance.now() + 20_000;
    while (seen.length < 2 && performance.now() < deadline) await new Promise((wait) => setTimeout(wait, 20));
    expect(seen.map((s) => s.msg)).toEqual(["quiet line", "an error"]);
    // Both arrived while the child was alive (it would live a minute); the error did not wait for a flush.
  } finally {
    kill();
    await done;
  }
}, 30_000);

it("skips only texts that none of the redactor's patterns would change", () => {
  const fragment = fc.constantFrom(
    "password", "PASSWD", "pwd", "secret", "token", "api_key", "Access-Key", "private_key", "credentials",
    "Bearer ", "basic ", "pbt_abc123_def456", "://", "@", "=", ": ", ":", "'", '"', "{", "}", "&", ",", " ", "x", "db", "user", "_", "-", "9",
  );
  fc.assert(
    fc.property(fc.array(fragment, { maxLength: 14 }).map((parts) => parts.join("")), (text) => {
      expect(redact(text)).toBe(maskCredentials(text));
    }),
    { numRuns: 3000 },
  );
});
