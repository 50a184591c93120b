/**
 * The server as `npm start` runs it: src/ compiled by scripts/build-server.mjs. Each test file
 * builds its own copy beside src/ (the server finds prisma/ and web/ as ../ of itself), so a
 * developer's dist/ is never replaced under a running server and a test never runs a stale one.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export interface CompiledServer {
  /** The compiled entry point, for `node <mainJs>`. */
  mainJs: string;
  remove(): Promise<void>;
}

export async function buildServer(): Promise<CompiledServer> {
  const outDir = join(ROOT, `dist-test-${randomBytes(4).toString("hex")}`);
  const child = spawn(process.execPath, [join(ROOT, "scripts/build-server.mjs"), "--out", outDir], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  const remove = () => rm(outDir, { recursive: true, force: true });
  if (code !== 0) {
    await remove();
    throw new Error(`scripts/build-server.mjs failed (${code}):\n${output}`);
  }
  return { mainJs: join(outDir, "main.js"), remove };
}
