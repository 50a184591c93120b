/**
 * `npm run bench:compare`: Patchbay side by side with a bare floor (bench/floor/server.mjs)
 * on one embedded PostgreSQL, both started as separate processes on 127.0.0.1 and loaded in
 * turn (floor, Patchbay, floor, Patchbay, ...) with autocannon. Prints every throughput as a
 * ratio of the floor, plus P3 (testConnection against raw pg), P4 (start to ready), RSS, and
 * SQL statements per request. Everything is bounded in count and time. See bench/README.md.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { removeDataDir } from "../src/db/embedded-postgres";
import { freePort } from "../src/net/free-port";
import { type ConnectionTestResult, measureConnectionTest } from "./compare/connection-test";
import { hammer, type LoadResult } from "./compare/load";
import { type LoadMeasurement, loadMeasurements, send, type Side } from "./compare/measurements";
import { LOAD_IDS, type LoadId, type Options, parseOptions } from "./compare/options";
import { BENCH_DATABASE, startBenchPostgres } from "./compare/postgres";
import { baseEnv, type RunningServer, startServer, treeCpuMs } from "./compare/processes";
import { logInForRotation, startRotation } from "./compare/rotation";
import { type Manifest, readManifest, seed } from "./compare/seed";
import { countStatements, type StatementCount } from "./compare/sql-count";
import { int, mib, median, ms, pct, spreadPercent, table } from "./compare/stats";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const FLOOR_SCRIPT = fileURLToPath(new URL("./floor/server.mjs", import.meta.url));

const began = performance.now();
const log = (line: string) => process.stderr.write(`[bench ${((performance.now() - began) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);

/** A measured load run, with the CPU each party spent per request meanwhile. */
interface LoadRun extends LoadResult {
  cpuUsPerRequest: { server: number; postgres: number; loadGenerator: number };
}

interface Results {
  meta: Record<string, unknown>;
  load: Partial<Record<LoadId, Record<Side, LoadRun[]>>>;
  p3?: ConnectionTestResult;
  p4?: { readyMs: number[]; floorReadyMs: number; freshStartMs: number | null };
  rss?: { idleBytes: number[]; peakUnderP1Bytes: number | null };
  sql?: Partial<Record<LoadId, Record<Side, StatementCount>>>;
}

const cleanups: Array<() => Promise<void>> = [];
async function cleanUp(): Promise<void> {
  for (const step of cleanups.splice(0).reverse()) await step().catch((error) => log(`clean-up step failed: ${error}`));
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), REPO_ROOT);
  const watchdog = setTimeout(() => {
    log(`the run exceeded --max-minutes ${options.maxMinutes}; stopping`);
    void cleanUp().finally(() => process.exit(2));
  }, options.maxMinutes * 60_000);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
  }

  const results: Results = { meta: meta(options), load: {} };
  log(`measuring ${[...options.only].join(", ")} at ${options.scale.label}; server: ${options.serverCommand} in ${options.serverDir}`);

  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "patchbay-bench-")));
  if (!options.dataDir) cleanups.push(() => removeDataDir(dataDir));
  // The cluster lives in pg/ of the data directory (src/db/embedded-postgres.ts).
  const pg = await startBenchPostgres(dataDir);
  cleanups.push(() => pg.stop());

  if (options.serverPrestart) {
    log(`running the server's prestart script once (not timed): ${options.serverPrestart}`);
    const run = spawnSync("sh", ["-c", options.serverPrestart], { cwd: options.serverDir, env: baseEnv(), stdio: ["ignore", "inherit", "inherit"], timeout: 300_000 });
    if (run.status !== 0) throw new Error("the prestart script failed");
  }

  // Every server started is stopped at the end, or when the run fails or is interrupted.
  const tracked = async (starting: Promise<RunningServer>) => {
    const server = await starting;
    cleanups.push(() => server.stop());
    return server;
  };
  const startPatchbay = async (masterKey: string, extraEnv: Record<string, string> = {}) =>
    tracked(startServer({
      name: "Patchbay",
      command: options.serverCommand,
      cwd: options.serverDir,
      env: {
        ...baseEnv(),
        DATABASE_URL: pg.databaseUrl,
        PATCHBAY_MASTER_KEY: masterKey,
        PATCHBAY_DATA_DIR: join(dataDir, "patchbay"),
        // P3 tests a PostgreSQL on loopback, which production mode would deny.
        PATCHBAY_EGRESS_ALLOW: "127.0.0.1/32",
        ...options.serverEnv,
        ...extraEnv,
      },
      port: await freePort(),
      logPath: join(dataDir, "patchbay.log"),
    }));

  let manifest = await readManifest(dataDir);
  if (manifest && manifest.scaleId !== options.scaleId) {
    throw new Error(`${dataDir} holds the ${manifest.scaleId} data set; use another --data-dir for --scale ${options.scaleId}.`);
  }
  let freshStartMs: number | null = null;
  if (manifest) {
    log(`reusing the data set seeded ${manifest.createdAt} in ${dataDir}`);
  } else {
    // A seed that did not finish leaves no manifest: start again from an empty database.
    await pg.recreateDatabase();
    manifest = await seed({ dataDir, scaleId: options.scaleId, scale: options.scale, databaseUrl: pg.databaseUrl, startPatchbay, log });
    freshStartMs = manifest.freshStartMs;
    log(`seeded in ${manifest.seedSeconds.toFixed(0)} s`);
  }
  const m = manifest;
  results.meta.loadAverageBeforeRun = loadavg().map((n) => Number(n.toFixed(2)));

  const floor = await tracked(
    startServer({
      name: "floor",
      command: `node ${FLOOR_SCRIPT}`,
      cwd: REPO_ROOT,
      env: { ...baseEnv(), FLOOR_DATABASE_URL: pg.databaseUrl, FLOOR_MASTER_KEY: m.floorMasterKey },
      port: await freePort(),
      logPath: join(dataDir, "floor.log"),
    }),
  );

  // P4 and idle RSS: three starts on the existing database; the last one stays up for the rest.
  let patchbay: RunningServer;
  if (options.only.has("p4") || options.only.has("rss")) {
    const readyMs: number[] = [];
    const idle: number[] = [];
    for (let i = 0; i < 3; i++) {
      const server = await startPatchbay(m.masterKey);
      readyMs.push(server.readyMs);
      await sleep(3_000);
      idle.push(server.rss());
      log(`P4 start ${i + 1}: ready in ${Math.round(server.readyMs)} ms, idle RSS ${mib(idle[i])}`);
      if (i < 2) await server.stop();
      else patchbay = server;
    }
    results.p4 = { readyMs, floorReadyMs: floor.readyMs, freshStartMs };
    results.rss = { idleBytes: idle, peakUnderP1Bytes: null };
  } else {
    patchbay = await startPatchbay(m.masterKey);
  }
  const servers: Record<Side, RunningServer> = { floor, patchbay: patchbay! };

  const all = loadMeasurements(m);
  const selected: LoadMeasurement[] = LOAD_IDS.filter((id) => options.only.has(id)).map((id) => all[id]);

  // Every server answers every selected measurement correctly before it is timed.
  const responseBytes: Record<string, Record<Side, number>> = {};
  for (const measurement of new Set([...selected, all.p1, all.p2, all["resolve-gql"]])) {
    responseBytes[measurement.id] = { floor: 0, patchbay: 0 };
    for (const side of ["floor", "patchbay"] as const) {
      const { status, body } = await send(servers[side].url, measurement.requests(side)());
      measurement.fullCheck(side, body, status);
      responseBytes[measurement.id][side] = Buffer.byteLength(body);
    }
  }
  results.meta.responseBytes = responseBytes;

  if (options.only.has("sql")) {
    results.sql = {};
    // --only sql alone counts the three measurements issue 10 names.
    for (const measurement of selected.length ? selected : [all.p1, all.p2, all["resolve-gql"]]) {
      const counts = {} as Record<Side, StatementCount>;
      for (const side of ["floor", "patchbay"] as const) {
        counts[side] = await countStatements(pg.admin, pg.benchOid, servers[side].url, () => measurement.requests(side));
      }
      results.sql[measurement.id] = counts;
      log(`SQL statements per request, ${measurement.id}: floor ${counts.floor.perRequest.toFixed(2)}, Patchbay ${counts.patchbay.perRequest.toFixed(2)}`);
    }
  }

  if (options.only.has("p3")) {
    results.p3 = await measureConnectionTest(patchbay!.url, m, { port: pg.handle.port, password: pg.handle.password, database: BENCH_DATABASE }, options.rounds);
    log(`P3: raw pg ${ms(median(results.p3.rawMs))}, Patchbay testConnection ${ms(median(results.p3.patchbayMs))}`);
  }

  // Peak RSS is sampled while Patchbay serves P1; with rss but not p1, one unreported P1 run does it.
  let peak = 0;
  const sampleWhile = async <T>(run: () => Promise<T>): Promise<T> => {
    const timer = setInterval(() => (peak = Math.max(peak, patchbay.rss())), 100);
    try {
      return await run();
    } finally {
      clearInterval(timer);
    }
  };
  const loadOptions = { connections: options.connections, seconds: options.durationSeconds };
  const runLoad = async (measurement: LoadMeasurement, side: Side, seconds: number) =>
    hammer(servers[side].url, measurement.requests(side), measurement.quickCheck(side), { ...loadOptions, seconds });

  if (options.only.has("rss") && !options.only.has("p1")) {
    await sampleWhile(() => runLoad(all.p1, "patchbay", options.durationSeconds));
  }
  const rotationSession = options.duringRotation ? await logInForRotation(servers.patchbay.url, m) : null;
  for (const measurement of selected) results.load[measurement.id] = { floor: [], patchbay: [] };
  for (let round = 1; round <= options.rounds; round++) {
    for (const measurement of selected) {
      for (const side of ["floor", "patchbay"] as const) {
        const sampled = side === "patchbay" && measurement.id === "p1" ? sampleWhile : <T>(run: () => Promise<T>) => run();
        const result = await sampled(async () => {
          if (options.warmAll) {
            const amount = 3 * m.seeded.length;
            await hammer(servers[side].url, measurement.requests(side), measurement.quickCheck(side), { ...loadOptions, seconds: 120, amount });
          }
          if (options.warmupSeconds > 0) await runLoad(measurement, side, options.warmupSeconds);
          const rotation = rotationSession && side === "patchbay" ? await startRotation(servers.patchbay.url, rotationSession, m) : null;
          let rotationSeconds: number | null = null;
          void rotation?.finished.then((seconds) => (rotationSeconds = seconds));
          const server = servers[side].cpuMs();
          const postgres = treeCpuMs(pg.pid());
          const generator = process.cpuUsage();
          const run = await runLoad(measurement, side, options.durationSeconds);
          const generatorUs = process.cpuUsage(generator);
          const per = (usedUs: number) => usedUs / Math.max(1, run.requests);
          const cpuUsPerRequest = {
            server: per((servers[side].cpuMs() - server) * 1000),
            postgres: per((treeCpuMs(pg.pid()) - postgres) * 1000),
            loadGenerator: per(generatorUs.user + generatorUs.system),
          };
          rotation?.stop();
          if (rotation) {
            log(
              `  rotation: ${rotation.pendingAtStart} sealed values to re-encrypt; ` +
                (rotationSeconds === null ? `still re-encrypting when the ${options.durationSeconds} s run ended` : `done ${(rotationSeconds as number).toFixed(1)} s into the run`),
            );
          }
          return { ...run, cpuUsPerRequest, ...(rotation ? { rotation: { pendingAtStart: rotation.pendingAtStart, seconds: rotationSeconds } } : {}) };
        });
        results.load[measurement.id]![side].push(result);
        const trouble = result.errors + result.non2xx + result.mismatches;
        log(
          `round ${round} ${measurement.id.padEnd(14)} ${side.padEnd(8)} ${int(result.rps).padStart(6)} req/s  p50 ${ms(result.p50)}  p99 ${ms(result.p99)}` +
            `  CPU/request: server ${int(result.cpuUsPerRequest.server)} µs, PostgreSQL ${int(result.cpuUsPerRequest.postgres)} µs; load ${loadavg()[0].toFixed(1)}` +
            (trouble ? `  (${result.errors} errors, ${result.non2xx} non-2xx, ${result.mismatches} bad bodies)` : ""),
        );
        await sleep(300);
      }
    }
  }
  if (results.rss && peak) results.rss.peakUnderP1Bytes = peak;

  results.meta.loadAverageAfterRun = loadavg().map((n) => Number(n.toFixed(2)));
  clearTimeout(watchdog);
  process.stdout.write(report(options, results, m));
  if (options.jsonPath) await writeFile(options.jsonPath, JSON.stringify(results, null, 2));
  if (options.verbose && results.sql) process.stdout.write(statementDetail(results.sql));
}

function meta(options: Options): Record<string, unknown> {
  const git = (dir: string, ...args: string[]) => {
    try {
      return execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
    } catch {
      return "?";
    }
  };
  return {
    date: new Date().toISOString(),
    serverDir: options.serverDir,
    serverCommand: options.serverCommand,
    serverEnv: options.serverEnv,
    serverCommit: git(options.serverDir, "rev-parse", "--short", "HEAD"),
    // Uncommitted changes that could change the server (the benchmark's own files and docs cannot).
    serverDirty: git(options.serverDir, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench", ":!*.md") !== "",
    node: process.version,
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model,
    scale: options.scaleId,
    connections: options.connections,
    rounds: options.rounds,
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    warmAll: options.warmAll,
    duringRotation: options.duringRotation,
  };
}

function report(options: Options, results: Results, manifest: Manifest): string {
  const out: string[] = [];
  const metaInfo = results.meta;
  out.push("");
  out.push(`Patchbay against the floor: ${options.scale.label}`);
  out.push(
    `server ${metaInfo.serverCommit}${metaInfo.serverDirty ? " (with uncommitted changes)" : ""}: ${options.serverCommand}` +
      (Object.keys(options.serverEnv).length ? ` with ${Object.entries(options.serverEnv).map(([k, v]) => `${k}=${v}`).join(" ")}` : ""),
  );
  out.push(
    `${metaInfo.date}, node ${metaInfo.node}, ${metaInfo.cpus} cores; load average ${(metaInfo.loadAverageBeforeRun as number[])[0]} before, ${(metaInfo.loadAverageAfterRun as number[])[0]} after`,
  );
  out.push("");

  const ids = Object.keys(results.load) as LoadId[];
  if (ids.length) {
    out.push(
      `autocannon -c ${options.connections}, ${options.rounds} interleaved rounds of ${options.durationSeconds} s (after ${options.warmAll ? "~3 requests per workspace and " : ""}${options.warmupSeconds} s warm-up); medians of the rounds`,
    );
    const labels = loadMeasurements(manifest);
    const bytes = results.meta.responseBytes as Record<string, Record<Side, number>>;
    const rows = [["", "floor req/s", "p50", "p99", "Patchbay req/s", "p50", "p99", "ratio", "p50 ×", "p99 ×", "spread floor/Patchbay"]];
    const troubles: string[] = [];
    for (const id of ids) {
      const runs = results.load[id]!;
      const f = summarise(runs.floor);
      const p = summarise(runs.patchbay);
      rows.push([
        labels[id].label,
        int(f.rps),
        ms(f.p50),
        ms(f.p99),
        int(p.rps),
        ms(p.p50),
        ms(p.p99),
        pct((p.rps / f.rps) * 100),
        `${(p.p50 / f.p50).toFixed(1)}×`,
        `${(p.p99 / f.p99).toFixed(1)}×`,
        `${pct(f.spread)} / ${pct(p.spread)}`,
      ]);
      for (const side of ["floor", "patchbay"] as const) {
        const bad = runs[side].reduce((n, r) => n + r.errors + r.non2xx + r.mismatches, 0);
        if (bad) troubles.push(`${id} ${side}: ${bad} failed requests (errors, non-2xx or bad bodies) over ${runs[side].length} rounds`);
      }
    }
    out.push(table(rows));
    out.push(`ratio: Patchbay's req/s as a share of the floor's; spread: (max - min) / median of the rounds' req/s`);
    out.push("");
    const cpuRows = [["CPU per request, median of the rounds", "floor server", "PostgreSQL", "Patchbay server", "PostgreSQL", "response bytes floor / Patchbay"]];
    for (const id of ids) {
      const runs = results.load[id]!;
      const cpu = (side: Side, part: keyof LoadRun["cpuUsPerRequest"]) => median(runs[side].map((r) => r.cpuUsPerRequest[part]));
      cpuRows.push([
        labels[id].label,
        us(cpu("floor", "server")),
        us(cpu("floor", "postgres")),
        us(cpu("patchbay", "server")),
        us(cpu("patchbay", "postgres")),
        `${int(bytes[id].floor)} / ${int(bytes[id].patchbay)}`,
      ]);
    }
    out.push(table(cpuRows));
    for (const line of troubles) out.push(`! ${line}`);
    out.push("");
  }

  const lines: string[][] = [];
  if (results.p3) {
    const raw = median(results.p3.rawMs);
    const via = median(results.p3.patchbayMs);
    lines.push([
      "P3 testConnection, local PostgreSQL",
      `Patchbay ${ms(via)} (it records ${ms(median(results.p3.reportedMs))}); raw pg connect + SELECT 1 ${ms(raw)}: ${(via / raw).toFixed(2)}×  (medians of ${results.p3.rawMs.length} each)`,
    ]);
  }
  if (results.p4) {
    lines.push([
      "P4 start to ready, existing database",
      `${int(median(results.p4.readyMs))} ms (starts: ${results.p4.readyMs.map(int).join(", ")} ms); floor ${int(results.p4.floorReadyMs)} ms` +
        (results.p4.freshStartMs ? `; empty database with migrations ${int(results.p4.freshStartMs)} ms` : ""),
    ]);
  }
  if (results.rss) {
    lines.push([
      "RSS of Patchbay, idle / peak under P1",
      `${mib(median(results.rss.idleBytes))} / ${results.rss.peakUnderP1Bytes ? mib(results.rss.peakUnderP1Bytes) : "not measured"}`,
    ]);
  }
  if (results.sql) {
    const parts = Object.entries(results.sql).map(([id, c]) => `${id} ${fmtCount(c!.patchbay.perRequest)} (floor ${fmtCount(c!.floor.perRequest)})`);
    lines.push(["SQL statements per request", `${parts.join("; ")}  (pg_stat_statements, ${Object.values(results.sql)[0]!.patchbay.requests} requests one at a time)`]);
  }
  if (lines.length) out.push(table(lines));
  out.push("");
  return out.join("\n");
}

const us = (n: number) => `${int(n)} µs`;

function summarise(runs: LoadResult[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    spread: spreadPercent(runs.map((r) => r.rps)),
  };
}

const fmtCount = (n: number) => (Number.isInteger(n) ? String(n) : n.toFixed(2));

function statementDetail(sql: NonNullable<Results["sql"]>): string {
  const out = ["SQL statements per request, by statement:"];
  for (const [id, counts] of Object.entries(sql)) {
    for (const side of ["floor", "patchbay"] as const) {
      out.push(`  ${id} ${side}:`);
      for (const s of counts![side].statements) out.push(`    ${fmtCount(s.perRequest).padStart(5)}  ${s.query}`);
    }
  }
  return out.join("\n") + "\n";
}

main()
  .then(() => cleanUp())
  .catch(async (error) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    await cleanUp();
    process.exit(1);
  });

