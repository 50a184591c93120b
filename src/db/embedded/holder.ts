/**
 * Who holds a data directory. PostgreSQL's own `postmaster.pid` is the lock; Patchbay adds
 * `<data dir>/patchbay.pid` once its PostgreSQL is up, so a second start can name the
 * Patchbay process to stop rather than only its database.
 */
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const OWNER_FILE = "patchbay.pid";

export interface Holder {
  postgresPid: number;
  /** The Patchbay process that started it, if it is still running. */
  patchbayPid?: number;
}

/** The live PostgreSQL holding `clusterDir`, or null when the cluster is free. */
export async function currentHolder(dataDir: string, clusterDir: string): Promise<Holder | null> {
  const postgresPid = await readPid(join(clusterDir, "postmaster.pid"));
  if (postgresPid === null || !isAlive(postgresPid)) return null;
  const patchbayPid = await readPid(join(dataDir, OWNER_FILE));
  if (patchbayPid !== null && patchbayPid !== process.pid && isAlive(patchbayPid)) return { postgresPid, patchbayPid };
  return { postgresPid };
}

export function describeHolder(dataDir: string, holder: Holder): string {
  if (holder.patchbayPid !== undefined) {
    return (
      `the data directory ${dataDir} is in use by Patchbay pid ${holder.patchbayPid} (its embedded PostgreSQL is pid ${holder.postgresPid}): ` +
      `stop that process first, or give this one another PATCHBAY_DATA_DIR.`
    );
  }
  return (
    `the embedded PostgreSQL of ${dataDir} is still running as pid ${holder.postgresPid}, and no Patchbay process owns it: ` +
    `stop it (kill -INT ${holder.postgresPid}) and start again.`
  );
}

export async function recordOwner(dataDir: string): Promise<void> {
  await writeFile(join(dataDir, OWNER_FILE), `${process.pid}\n`, { mode: 0o644 });
}

export async function clearOwner(dataDir: string): Promise<void> {
  const path = join(dataDir, OWNER_FILE);
  if ((await readPid(path)) === process.pid) await rm(path, { force: true });
}

async function readPid(path: string): Promise<number | null> {
  const text = await readFile(path, "utf8").catch(() => null);
  const pid = Number(text?.split("\n")[0]?.trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, but another user's (root's PostgreSQL account, say).
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
