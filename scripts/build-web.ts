/**
 * `npm run build:web`: builds the web interface into web/dist (or --out DIR), in four steps:
 *   1. print the server's GraphQL schema (SDL) from its type-graphql resolvers,
 *   2. generate typed documents for the page's operations from it (graphql-codegen),
 *   3. type-check the page against them (tsc -p web; skip with --no-check),
 *   4. bundle with Vite,
 * then prints what the page weighs gzipped. `npm install` runs it (postinstall), so the
 * README's `npm install && npm start` serves the page.
 */
import "reflect-metadata";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf("--out");
const outDir = resolve(root, outIndex >= 0 ? args[outIndex + 1] : "web/dist");
const check = !args.includes("--no-check");
const require = createRequire(import.meta.url);

function step(label: string): () => void {
  const started = Date.now();
  return () => console.log(`build:web: ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

function devDependenciesMissing(): boolean {
  try {
    require.resolve("vite");
    require.resolve("@graphql-codegen/cli");
    return false;
  } catch {
    return true;
  }
}

async function printSchema(): Promise<void> {
  const done = step("schema printed to web/generated/schema.graphql");
  const { buildSchema } = await import("type-graphql");
  const { printSchema: print } = await import("graphql");
  const { resolvers } = await import("../src/resolvers");
  const schema = await buildSchema({ resolvers, validate: false });
  mkdirSync(join(root, "web/generated"), { recursive: true });
  writeFileSync(join(root, "web/generated/schema.graphql"), `${print(schema)}\n`);
  done();
}

async function generateTypes(): Promise<void> {
  const done = step("operations typed into web/src/gql/");
  const { generate } = await import("@graphql-codegen/cli");
  const { default: config } = await import("../web/codegen");
  const cwd = process.cwd();
  process.chdir(root);
  try {
    await generate(config, true);
  } finally {
    process.chdir(cwd);
  }
  done();
}

function typeCheck(): void {
  const done = step("type-checked");
  const result = spawnSync(process.execPath, [require.resolve("typescript/bin/tsc"), "-p", "web/tsconfig.json"], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) throw new Error("the web interface does not type-check (tsc -p web/tsconfig.json)");
  done();
}

async function bundle(): Promise<void> {
  const done = step(`bundled into ${relative(root, outDir) || "."}`);
  const { build } = await import("vite");
  await build({ configFile: join(root, "web/vite.config.ts"), logLevel: "warn", build: { outDir } });
  done();
}

/** Bytes of the files each page loads before it is usable, as sent gzipped. */
function reportSizes(): void {
  for (const page of ["index.html", "explorer.html"]) {
    const html = readFileSync(join(outDir, page), "utf8");
    const assets = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+)"/g)].map((m) => m[1]);
    let raw = 0;
    let gzipped = 0;
    for (const file of [page, ...new Set(assets)]) {
      const body = readFileSync(join(outDir, file));
      raw += body.length;
      gzipped += gzipSync(body).length;
    }
    console.log(`build:web: ${page} loads ${(raw / 1024).toFixed(1)} KB, ${(gzipped / 1024).toFixed(1)} KB gzipped`);
  }
  const total = readdirSync(join(outDir, "assets")).reduce((sum, f) => sum + statSync(join(outDir, "assets", f)).size, 0);
  console.log(`build:web: web/dist/assets holds ${(total / 1024 / 1024).toFixed(1)} MB in all (the explorer's editor and workers)`);
}

async function main(): Promise<void> {
  if (devDependenciesMissing()) {
    console.warn("build:web: skipped: the build tools (devDependencies) are not installed; the server will say the page is not built.");
    return;
  }
  await printSchema();
  await generateTypes();
  if (check) typeCheck();
  await bundle();
  reportSizes();
}

main().catch((error) => {
  console.error(`build:web: failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
