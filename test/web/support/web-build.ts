/**
 * The tests exercise web/dist, which `npm install` builds. When a source of the page (or the
 * schema it is typed from) is newer than the build, the run rebuilds it first, so a test never
 * passes or fails on a stale page. Test files run in parallel: a lock directory keeps it to
 * one build.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SOURCES = ["web/src", "web/index.html", "web/explorer.html", "web/vite.config.ts", "web/codegen.ts", "src/schema", "src/resolvers", "scripts/build-web.ts"];
const GENERATED = join(ROOT, "web/src/gql");
const LOCK = join(ROOT, "web/.build-lock");

function newest(path: string): number {
  if (!existsSync(path) || path === GENERATED) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

function stale(): boolean {
  const built = join(ROOT, "web/dist/index.html");
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  return builtAt <= Math.max(...SOURCES.map((s) => newest(join(ROOT, s))));
}

function sleep(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

export function ensureWebBuild(): void {
  if (!stale()) return;
  for (let waited = 0; ; waited += 250) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // A lock left by a killed run is older than any build takes.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 300_000) rmSync(LOCK, { recursive: true, force: true });
      if (waited > 300_000) throw new Error(`waited 5 minutes for ${LOCK}`);
      sleep(250);
    }
  }
  try {
    if (!stale()) return;
    console.log("web/dist is missing or older than its sources: running npm run build:web");
    const result = spawnSync(process.execPath, ["--import", "tsx", "scripts/build-web.ts"], { cwd: ROOT, stdio: "inherit" });
    if (result.status !== 0) throw new Error("npm run build:web failed");
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
