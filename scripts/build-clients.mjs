#!/usr/bin/env node
/**
 * `npm run build:clients [-- cli|typescript]`: compiles the npm packages patchbay-cli
 * (clients/cli) and patchbay-client (clients/typescript) to JavaScript with type declarations
 * in their dist/, with the TypeScript compiler and each package's tsconfig.json. Each package's
 * `prepack` runs it, so `npm pack` / `npm publish` always ship a fresh build; the root
 * `npm run build` runs it too, so `npm install -g ./clients/cli` works from a checkout.
 *
 * It also checks that each package's VERSION (clients/<name>/version.ts, which --version and the
 * User-Agent header report) is its package.json's.
 * With --lenient (the root build, run by postinstall) a type error is a warning, as it is for
 * the server's build: `npm run typecheck` catches it, and an install should not fail on it.
 * prepack is strict: a package is never packed from code that does not type-check.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const tsc = createRequire(join(root, "package.json")).resolve("typescript/bin/tsc");
const PACKAGES = ["typescript", "cli"];
const lenient = process.argv.includes("--lenient");
const wanted = process.argv.slice(2).filter((a) => a !== "--lenient");
for (const name of wanted) if (!PACKAGES.includes(name)) fail(`unknown package "${name}"; expected ${PACKAGES.join(" or ")}`);

for (const name of wanted.length ? wanted : PACKAGES) {
  const dir = join(root, "clients", name);
  rmSync(join(dir, "dist"), { recursive: true, force: true });
  const run = spawnSync(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { stdio: "inherit" });
  if (run.status !== 0) {
    if (!lenient) fail(`tsc failed for clients/${name}`);
    process.stderr.write(`build-clients: tsc reported errors for clients/${name}; its dist/ was written anyway (--lenient)\n`);
  }
  // The version each package reports (--version, User-Agent) is its package.json's.
  const { version } = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
  const source = readFileSync(join(dir, "version.ts"), "utf8");
  if (!source.includes(`VERSION = "${version}"`)) fail(`clients/${name}/version.ts does not say VERSION = "${version}" (its package.json's version)`);
}

function fail(message) {
  process.stderr.write(`build-clients: ${message}\n`);
  process.exit(1);
}
