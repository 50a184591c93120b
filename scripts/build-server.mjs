#!/usr/bin/env node
/**
 * `npm run build:server [-- --out DIR]`: compiles src/ to JavaScript in dist/ with the TypeScript compiler, so
 * the server starts without compiling at run time (`node dist/main.js`). `npm install` runs it
 * (postinstall, through `npm run build`), and `npm start` runs it first with --if-stale, which
 * rebuilds only when something under src/ (or the build's configuration) changed since.
 *
 * Each file is compiled on its own (tsconfig has isolatedModules, so that is exact), which takes
 * a second or two; type errors are `npm run typecheck`'s job and do not stop an install.
 *
 * The sources import each other without file extensions, as bundlers and tsx allow; Node's ES
 * module loader needs the file itself, so every relative import (static, re-export, dynamic)
 * is rewritten to the .js file the compiler resolves it to ("./services" becomes
 * "./services/index.js").
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const srcDir = join(root, "src");
const outIndex = process.argv.indexOf("--out");
// --out must name a directory beside src/: the server finds prisma/ and web/ as ../ of itself.
const outDir = outIndex >= 0 ? resolve(root, process.argv[outIndex + 1]) : join(root, "dist");
const stampFile = join(outDir, ".build-stamp.json");
const CONFIG_FILES = ["tsconfig.json", "tsconfig.build.json", "scripts/build-server.mjs", "package.json"];

/** Every input file with its modification time: src/ and the build's own configuration. */
function inputs() {
  const files = [];
  const visit = (path) => {
    const stat = statSync(path);
    if (stat.isDirectory()) for (const entry of readdirSync(path)) visit(join(path, entry));
    else files.push([relative(root, path), stat.mtimeMs]);
  };
  visit(srcDir);
  for (const file of CONFIG_FILES) visit(join(root, file));
  return files.sort(([a], [b]) => (a < b ? -1 : 1));
}

/** The stamp lists what the last build read; any added, removed or touched file makes it stale. */
function isStale(current) {
  try {
    return JSON.stringify(JSON.parse(readFileSync(stampFile, "utf8")).inputs) !== JSON.stringify(current);
  } catch {
    return true;
  }
}

async function build(current) {
  const started = Date.now();
  const { default: ts } = await import("typescript");
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, "tsconfig.build.json"), {}, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => fail([diagnostic], ts),
  });
  if (parsed.errors.length) fail(parsed.errors, ts);
  // A removed source must not leave its old output behind.
  rmSync(outDir, { recursive: true, force: true });
  const diagnostics = [];
  const resolutions = ts.createModuleResolutionCache(root, (name) => name, parsed.options);
  for (const fileName of parsed.fileNames) {
    if (fileName.endsWith(".d.ts")) continue;
    const output = ts.transpileModule(readFileSync(fileName, "utf8"), {
      compilerOptions: parsed.options,
      fileName,
      reportDiagnostics: true,
      transformers: { after: [withJsExtensions(ts, parsed.options, resolutions, fileName)] },
    });
    diagnostics.push(...(output.diagnostics ?? []));
    const target = join(outDir, relative(srcDir, fileName)).replace(/\.(c|m)?ts$/, (ext) => ext.replace("t", "j"));
    mkdirSync(dirname(target), { recursive: true });
    const mapName = `${target.slice(dirname(target).length + 1)}.map`;
    writeFileSync(target, output.outputText.replace(/\/\/# sourceMappingURL=.*$/m, `//# sourceMappingURL=${mapName}`));
    if (output.sourceMapText) writeFileSync(`${target}.map`, fixSourceMap(output.sourceMapText, target, fileName));
  }
  if (diagnostics.length) fail(diagnostics, ts);
  writeFileSync(stampFile, `${JSON.stringify({ inputs: current })}\n`);
  console.log(`build:server: ${parsed.fileNames.length} files compiled from src/ to ${relative(root, outDir)}/ (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** transpileModule names the source relative to nothing; point the map at the real file. */
function fixSourceMap(text, target, fileName) {
  const map = JSON.parse(text);
  map.sources = [relative(dirname(target), fileName).split(sep).join("/")];
  return JSON.stringify(map);
}

/** The transformer that points relative specifiers at the emitted .js files. */
function withJsExtensions(ts, options, resolutions, fileName) {
  const rewrite = (specifier) => {
    if (!ts.isStringLiteral(specifier) || !specifier.text.startsWith(".")) return specifier;
    const resolved = ts.resolveModuleName(specifier.text, fileName, options, ts.sys, resolutions).resolvedModule;
    if (!resolved || resolved.isExternalLibraryImport || !/\.(c|m)?ts$/.test(resolved.resolvedFileName)) return specifier;
    const path = relative(dirname(fileName), resolved.resolvedFileName)
      .split(sep)
      .join("/")
      .replace(/\.(c|m)?ts$/, (ext) => ext.replace("t", "j"));
    return ts.factory.createStringLiteral(path.startsWith(".") ? path : `./${path}`);
  };
  return (context) => (sourceFile) => {
    const visit = (node) => {
      if (ts.isImportDeclaration(node)) {
        return ts.factory.updateImportDeclaration(node, node.modifiers, node.importClause, rewrite(node.moduleSpecifier), node.attributes);
      }
      if (ts.isExportDeclaration(node) && node.moduleSpecifier) {
        return ts.factory.updateExportDeclaration(node, node.modifiers, node.isTypeOnly, node.exportClause, rewrite(node.moduleSpecifier), node.attributes);
      }
      if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments.length > 0) {
        const [specifier, ...rest] = node.arguments;
        return ts.factory.updateCallExpression(node, node.expression, node.typeArguments, [
          rewrite(specifier),
          ...rest.map((argument) => ts.visitNode(argument, visit)),
        ]);
      }
      return ts.visitEachChild(node, visit, context);
    };
    return ts.visitNode(sourceFile, visit);
  };
}

function fail(diagnostics, ts) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
  process.stderr.write(ts.formatDiagnosticsWithColorAndContext(diagnostics, host));
  process.stderr.write("build:server: failed\n");
  process.exit(1);
}

const current = inputs();
if (process.argv.includes("--if-stale") && existsSync(join(outDir, "main.js")) && !isStale(current)) process.exit(0);
await build(current);
