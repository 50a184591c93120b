/** `npm start`: serve Patchbay with the configuration from the environment. */
import type { App } from "./app";
import { importWithGraphqlInProductionMode } from "./graphql/production-mode";
import { parseServerArgs } from "./server-cli";

// Under the 10 s a supervisor usually allows between SIGTERM and SIGKILL.
const SHUTDOWN_DEADLINE_MS = 10_000;

async function main(): Promise<void> {
  const command = parseServerArgs(process.argv.slice(2));
  if (command.kind === "print") return void process.stdout.write(command.text);
  if (command.kind === "usage-error") {
    process.stderr.write(command.text);
    process.exit(2);
  }
  // Loaded only to serve, so --help and --version answer at once; with graphql-js in its
  // production mode (graphql/production-mode.ts), whatever NODE_ENV the configuration reads.
  const [{ startApp }, { ConfigError, loadConfig }, { MasterKeyError }, { EmbeddedPostgresError }, { createLogger }] =
    await importWithGraphqlInProductionMode(() =>
      Promise.all([import("./app"), import("./config"), import("./crypto/master-key"), import("./db/embedded-postgres"), import("./log")]),
    );

  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
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
    process.exit(exitCode);
  };
  try {
    app = await startApp(config, { logger, onFatal: (reason) => void stop(reason, 1) });
  } catch (error) {
    if (error instanceof MasterKeyError || error instanceof EmbeddedPostgresError) fail(error.message);
    throw error;
  }
  // Ctrl-C signals the terminal's whole process group; the embedded PostgreSQL runs in its own
  // session, so only this process hears it and stops PostgreSQL after the last request.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => void stop(signal, 0));
}

function fail(message: string): never {
  process.stderr.write(`patchbay: ${message}\n`);
  process.exit(1);
}

main().catch((error) => {
  process.stderr.write(`patchbay: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
