/**
 * Where the cluster lives and who runs it. As a normal user: `<data dir>/pg`, run by that
 * user. As root: PostgreSQL runs as an unprivileged account, which cannot enter a 0700
 * data directory (root's home, a fresh `mktemp -d`), so a new cluster goes to
 * /var/lib/patchbay/clusters/<id>/pg, owned by that account and linked from `<data dir>/pg`.
 * An existing cluster is always used where it is, run by the account that owns it.
 */
import { randomBytes } from "node:crypto";
import { chown, lstat, mkdir, readdir, readlink, rm, stat, symlink, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { accountCan, postgresAccount, type RunAs, runningAsRoot } from "./account";
import { EmbeddedPostgresError, OTHER_WAYS } from "./errors";

/** Root's home for what the PostgreSQL account must reach: clusters and a copy of the binaries. */
export const SYSTEM_DIR = "/var/lib/patchbay";
const CLUSTERS_DIR = join(SYSTEM_DIR, "clusters");

export interface ClusterPlace {
  /** PGDATA. */
  clusterDir: string;
  /** Who runs PostgreSQL; undefined: this process's own user. */
  runAs?: RunAs;
  /** A directory the PostgreSQL account can read and nobody else can: for initdb's password file. */
  privateDir: string;
  /** Set when root keeps the cluster outside the data directory. */
  relocated: boolean;
}

export function clusterLink(dataDir: string): string {
  return join(dataDir, "pg");
}

export async function placeCluster(dataDir: string): Promise<ClusterPlace> {
  const link = clusterLink(dataDir);
  const entry = await lstat(link).catch(() => null);
  const clusterDir = entry?.isSymbolicLink() ? await followLink(link) : link;

  if (!runningAsRoot()) {
    if (!entry) await mkdir(link, { mode: 0o700 });
    const owner = (await stat(clusterDir)).uid;
    if (owner !== process.getuid?.()) {
      throw new EmbeddedPostgresError(
        `the embedded cluster ${clusterDir} belongs to uid ${owner}: run Patchbay as that user, or give it another PATCHBAY_DATA_DIR.`,
      );
    }
    return { clusterDir, privateDir: dataDir, relocated: entry?.isSymbolicLink() ?? false };
  }

  if (entry) {
    const owner = await stat(clusterDir);
    if (owner.uid !== 0) {
      return { clusterDir, runAs: { uid: owner.uid, gid: owner.gid }, privateDir: dirname(clusterDir), relocated: entry.isSymbolicLink() };
    }
    // A directory root made for a cluster whose initdb never ran can be handed over; a full one cannot.
    if ((await readdir(clusterDir)).length > 0) {
      throw new EmbeddedPostgresError(
        `the embedded cluster ${clusterDir} is owned by root and PostgreSQL refuses to run as root. Fixes: chown -R it to an unprivileged account, or ${OTHER_WAYS}.`,
      );
    }
  }

  const account = await postgresAccount();
  if (entry) {
    await chown(clusterDir, account.uid, account.gid);
    return { clusterDir, runAs: account, privateDir: dirname(clusterDir), relocated: entry.isSymbolicLink() };
  }
  // A data directory the account can enter (made so on purpose) keeps its cluster inside.
  if (await accountCan(account, [["-x", dataDir]])) {
    await mkdir(link, { mode: 0o700 });
    await chown(link, account.uid, account.gid);
    return { clusterDir: link, runAs: account, privateDir: dataDir, relocated: false };
  }
  return relocate(dataDir, account);
}

async function relocate(dataDir: string, account: RunAs): Promise<ClusterPlace> {
  const home = join(CLUSTERS_DIR, randomBytes(8).toString("hex"));
  const clusterDir = join(home, "pg");
  try {
    await mkdir(SYSTEM_DIR, { recursive: true, mode: 0o755 });
    // Search-only: the account reaches its own cluster by name, nobody lists the others.
    await mkdir(CLUSTERS_DIR, { recursive: true, mode: 0o711 });
    await mkdir(home, { mode: 0o700 });
    await mkdir(clusterDir, { mode: 0o700 });
    await chown(clusterDir, account.uid, account.gid);
    await chown(home, account.uid, account.gid);
    // So an operator can tell which data directory a cluster belongs to.
    await writeFile(join(home, "data-dir"), `${dataDir}\n`, { mode: 0o644 });
  } catch (error) {
    await rm(home, { recursive: true, force: true }).catch(() => {});
    throw new EmbeddedPostgresError(
      `running as root, the embedded PostgreSQL runs as an unprivileged account that cannot enter ${dataDir}, and its cluster could not be kept in ${CLUSTERS_DIR} instead (${reason(error)}). ` +
        `Fixes: make ${SYSTEM_DIR} writable, point PATCHBAY_DATA_DIR at a directory that account can enter, or ${OTHER_WAYS}.`,
    );
  }
  try {
    await symlink(clusterDir, clusterLink(dataDir));
  } catch (error) {
    await rm(home, { recursive: true, force: true });
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new EmbeddedPostgresError(`another Patchbay is setting up the embedded cluster in ${dataDir}; start this one again once it is up, or give it another PATCHBAY_DATA_DIR.`);
    }
    throw error;
  }
  return { clusterDir, runAs: account, privateDir: home, relocated: true };
}

async function followLink(link: string): Promise<string> {
  const target = resolve(dirname(link), await readlink(link));
  if (!(await stat(target).catch(() => null))) {
    throw new EmbeddedPostgresError(
      `${link} points to ${target}, which is gone: restore it from a backup, or remove the link to start an empty embedded database.`,
    );
  }
  return target;
}

/**
 * Removes a data directory and, when root kept its cluster elsewhere, that cluster too. For
 * throwaway data directories (tests, benchmarks); an operator can do the same by hand.
 */
export async function removeDataDir(dataDir: string): Promise<void> {
  const link = clusterLink(dataDir);
  const entry = await lstat(link).catch(() => null);
  if (entry?.isSymbolicLink()) {
    const home = dirname(resolve(dirname(link), await readlink(link)));
    if (dirname(home) === CLUSTERS_DIR) await rm(home, { recursive: true, force: true });
  }
  await rm(dataDir, { recursive: true, force: true });
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code} on ${e.path ?? "?"}` : String(e.message ?? e);
}
