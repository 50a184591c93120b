/** `npm start`: serve Patchbay with the configuration from the environment. */
import cluster from "node:cluster";
import type { App } from "./app";
import type { Config } from "./config";
import { importWithGraphqlInProductionMode } from "./graphql/production-mode";
import type { Logger } from "./log";
import { parseServerArgs, version } from "./server-cli";

// Under the 10 s a supervisor usually allows between SIGTERM and SIGKILL.
const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const command = parseServerArgs(process.argv.slice(2));
  if (command.kind === "print") return void process.stdout.write(command.text);
  if (command.kind === "usage-error") {
    process.stderr.write(command.text);
    process.exit(2);
  }
  // Loaded only to serve, so --help and --version answer at once.
  const [{ ConfigError, loadConfig }, { createLogger }] = await Promise.all([import("./config"), import("./log")]);
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  if (config.workers > 1 && cluster.isPrimary) return servePrimary(config, logger);

  // graphql-js in its production mode (graphql/production-mode.ts), whatever NODE_ENV the configuration read.
  const [{ startApp }, { MasterKeyError }, { EmbeddedPostgresError }] = await importWithGraphqlInProductionMode(() =>
    Promise.all([import("./app"), import("./crypto/master-key"), import("./db/embedded-postgres")]),
  );
  const worker = cluster.isWorker ? cluster.worker!.id : undefined;
  // Only when OTEL_EXPORTER_OTLP_ENDPOINT is set is OpenTelemetry loaded at all.
  const { startTracing } = await import("./observability/tracing");
  const stopTracing = await startTracing(version());
  let app: App | undefined;
  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { reason });
    setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting anyway`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    // The HTTP server drains first; the embedded PostgreSQL stops last (app.close() order).
    await app?.close();
    // Last, so the spans of the drained requests are sent.
    await stopTracing?.().catch((error) => logger.warn("sending the last traces failed", { error }));
    process.exit(exitCode);
  };
  try {
    app = await startApp(config, { logger, onFatal: (reason) => void stop(reason, 1), worker });
  } catch (error) {
    if (error instanceof MasterKeyError || error instanceof EmbeddedPostgresError) fail(error.message);
    throw error;
  }
  // Ctrl-C signals the terminal's whole process group; the embedded PostgreSQL runs in its own
  // session, so only this process hears it and stops PostgreSQL after the last request.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(signal, 0));
  if (worker !== undefined) {
    // A worker never outlives its primary (killed outright, it cannot stop them itself).
    process.on("disconnect", () => void stop("the primary process exited", 1));
    process.send!((await import("./workers")).READY_MESSAGE);
  }
}

/** PATCHBAY_WORKERS > 1: this process starts the database and the workers, and stops them (workers.ts). */
async function servePrimary(config: Config, logger: Logger): Promise<void> {
  const [{ runPrimary }, { MasterKeyError }, { EmbeddedPostgresError }] = await Promise.all([
    import("./workers"),
    import("./crypto/master-key"),
    import("./db/embedded-postgres"),
  ]);
  let primary;
  try {
    primary = await runPrimary(config, logger, SHUTDOWN_DEADLINE_MS);
  } catch (error) {
    if (error instanceof MasterKeyError || error instanceof EmbeddedPostgresError) fail(error.message);
    throw error;
  }
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void primary.stop(signal, 0));
}

function fail(message: string): never {
  process.stderr.write(`patchbay: ${message}\n`);
  process.exit(1);
}

main().catch((error) => {
  process.stderr.write(`patchbay: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
