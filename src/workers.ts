/**
 * PATCHBAY_WORKERS=N: N server processes on one port through node:cluster, behaving exactly as
 * N processes on one database do (DESIGN.md, "Growing past one machine"): they share nothing in
 * memory; rate limits and state live in PostgreSQL, and caches agree through LISTEN/NOTIFY.
 *
 * This module is the primary process. It serves nothing itself: it makes sure the master key
 * exists (a generated one is written before any worker reads it), starts the embedded
 * PostgreSQL when DATABASE_URL is unset, applies the migrations once, then forks the workers
 * with DATABASE_URL pointing at that database. A worker that dies after it was serving is
 * replaced (at most RESTART_BUDGET times a minute); one that dies while the servers start, or
 * a PostgreSQL that gives up, stops everything with exit code 1. SIGTERM or SIGINT stops the
 * workers first (each drains its requests and writes its usage counts), then PostgreSQL.
 */
import cluster, { type Worker } from "node:cluster";
import type { Config } from "./config";
import { loadMasterKey } from "./crypto/master-key";
import { startEmbeddedDatabase } from "./db/embedded-database";
import { applyMigrations, MIGRATIONS_DIR } from "./db/migrate";
import type { Logger } from "./log";
import { clusterMetricsRenderer } from "./observability/metrics";
import { listenForMetrics } from "./observability/metrics-endpoint";
import { gracefulCloser } from "./http/graceful-close";

/** What a worker tells the primary once it serves. */
export const READY_MESSAGE = "patchbay:ready";

const RESTART_BUDGET = 5;
const RESTART_WINDOW_MS = 60_000;

export interface Primary {
  stop(reason: string, exitCode: number): Promise<never>;
}

export async function runPrimary(config: Config, logger: Logger, shutdownDeadlineMs: number): Promise<Primary> {
  const master = await loadMasterKey({ envValue: config.masterKey, dataDir: config.dataDir, production: config.production });
  if (master.source === "generated") logger.warn("generated a new master key", { path: `${config.dataDir}/master.key` });

  let stopping = false;
  let stopEmbedded = async () => {};
  let stopMetrics = async () => {};
  const primary: Primary = {
    async stop(reason, exitCode) {
      if (!stopping) {
        stopping = true;
        logger.info("shutting down", { reason, workers: Object.keys(cluster.workers ?? {}).length });
        setTimeout(() => {
          logger.error(`shutdown took longer than ${shutdownDeadlineMs / 1000} s; exiting anyway`);
          for (const worker of liveWorkers()) worker.process.kill("SIGKILL");
          process.exit(1);
        }, shutdownDeadlineMs).unref();
        await stopWorkers();
        await stopMetrics();
        await stopEmbedded();
      }
      process.exit(exitCode);
    },
  };

  let databaseUrl = config.databaseUrl;
  if (!databaseUrl) {
    const started = await startEmbeddedDatabase(config, logger, (reason) => void primary.stop(reason, 1));
    stopEmbedded = () => started.embedded.stop();
    databaseUrl = started.url;
  }
  try {
    // The migration lock is a session lock: through a transaction pooler it needs the direct connection.
    const migrations = await applyMigrations(config.listenDatabaseUrl ?? databaseUrl, MIGRATIONS_DIR, config.database.migrationTimeoutMs);
    if (migrations.applied.length) logger.info("migrations applied", { applied: migrations.applied });
  } catch (error) {
    await stopEmbedded();
    throw error;
  }

  const env = { DATABASE_URL: databaseUrl };
  const ready = new Set<number>();
  const restarts: number[] = [];
  const fork = () => cluster.fork(env);

  cluster.on("message", (worker, message) => {
    if (message !== READY_MESSAGE) return;
    ready.add(worker.id);
    if (ready.size === config.workers) logger.info("all workers serving", { workers: config.workers });
  });
  cluster.on("exit", (worker, code, signal) => {
    const wasReady = ready.delete(worker.id);
    if (stopping) return;
    if (!wasReady) {
      logger.error("a worker exited before it served; stopping", { worker: worker.id, code, signal });
      void primary.stop("a worker failed to start", 1);
      return;
    }
    const now = Date.now();
    restarts.push(now);
    while (restarts.length && restarts[0] < now - RESTART_WINDOW_MS) restarts.shift();
    if (restarts.length > RESTART_BUDGET) {
      logger.error("workers keep exiting; stopping", { restartsInLastMinute: restarts.length });
      void primary.stop("workers keep exiting", 1);
      return;
    }
    logger.error("a worker exited; starting another", { worker: worker.id, code, signal });
    fork();
  });

  for (let i = 0; i < config.workers; i++) fork();
  if (config.metrics.listen) {
    // One scrape target for the machine: every worker's counts, added up by the primary.
    const server = await listenForMetrics({ ...config.metrics, listen: config.metrics.listen }, clusterMetricsRenderer());
    stopMetrics = gracefulCloser(server);
    logger.info("metrics are served", { url: `http://${config.metrics.listen.host}:${config.metrics.listen.port}/metrics`, workers: config.workers });
  }
  return primary;

  async function stopWorkers(): Promise<void> {
    const exits = liveWorkers().map(
      (worker) =>
        new Promise<void>((resolve) => {
          worker.once("exit", () => resolve());
          worker.process.kill("SIGTERM");
        }),
    );
    await Promise.all(exits);
  }
}

function liveWorkers(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker !== undefined && !worker.isDead());
}
