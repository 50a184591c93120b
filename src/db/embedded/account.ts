/**
 * PostgreSQL refuses to run as root. When Patchbay runs as root it runs PostgreSQL as a
 * dedicated unprivileged account, created on first use: not the distribution's `postgres`
 * account, which may own (and reach, by peer authentication) a system PostgreSQL.
 */
import { execFile } from "node:child_process";
import { EmbeddedPostgresError, OTHER_WAYS } from "./errors";

export interface RunAs {
  uid: number;
  gid: number;
}

export const POSTGRES_ACCOUNT = "patchbay-postgres";

const COMMAND_DEADLINE_MS = 30_000;
// useradd lives in sbin, which a login shell's PATH may leave out.
const SEARCH_PATH = [process.env.PATH, "/usr/sbin", "/usr/bin", "/sbin", "/bin"].filter(Boolean).join(":");

export function runningAsRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The account's ids, creating it (a system account with no home and no shell) if missing. */
export async function postgresAccount(): Promise<RunAs> {
  const existing = await lookUp(POSTGRES_ACCOUNT);
  if (existing) return existing;
  const created = await run("useradd", [
    "--system",
    "--user-group",
    "--no-create-home",
    "--home-dir",
    "/nonexistent",
    "--shell",
    "/usr/sbin/nologin",
    "--comment",
    "Patchbay embedded PostgreSQL",
    POSTGRES_ACCOUNT,
  ]);
  // A concurrent start may have created it between the look-up and useradd.
  const account = await lookUp(POSTGRES_ACCOUNT);
  if (account) return account;
  throw new EmbeddedPostgresError(
    `running as root, the embedded PostgreSQL needs an unprivileged account and could not create ${POSTGRES_ACCOUNT} (useradd: ${created.problem}). ` +
      `Fixes: create it (useradd --system --user-group ${POSTGRES_ACCOUNT}), or ${OTHER_WAYS}.`,
  );
}

/**
 * Whether `account` passes every `test` check, e.g. [["-x", dir]]: asked of a real shell
 * running as that account, so ACLs and group bits count exactly as they will for PostgreSQL.
 */
export async function accountCan(account: RunAs, checks: Array<["-x" | "-r", string]>): Promise<boolean> {
  const script = 'while [ "$#" -gt 0 ]; do test "$1" "$2" || exit 1; shift 2; done';
  const result = await run("/bin/sh", ["-c", script, "sh", ...checks.flat()], account);
  return result.problem === undefined;
}

async function lookUp(name: string): Promise<RunAs | null> {
  const [uid, gid] = await Promise.all([run("id", ["-u", name]), run("id", ["-g", name])]);
  if (uid.problem !== undefined || gid.problem !== undefined) return null;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function run(file: string, args: string[], as?: RunAs): Promise<{ stdout: string; problem?: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { timeout: COMMAND_DEADLINE_MS, env: { PATH: SEARCH_PATH }, ...as },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout });
        const code = (error as NodeJS.ErrnoException).code;
        const problem = code === "ENOENT" ? "not installed" : stderr.trim().split("\n")[0] || error.message;
        resolve({ stdout, problem });
      },
    );
  });
}
