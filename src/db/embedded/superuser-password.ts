/**
 * The embedded cluster's superuser password: generated once into `<data dir>/pg-password`
 * (0600, in the 0700 data directory) and never written anywhere else. initdb is handed only
 * its SCRAM verifier, which PostgreSQL stores as given, so not even that short-lived file holds
 * the password.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes } from "node:crypto";
import { chmod, chown, open, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { RunAs } from "./account";
import { EmbeddedPostgresError } from "./errors";

export const PASSWORD_FILE = "pg-password";

export async function superuserPassword(dataDir: string, clusterExists: boolean): Promise<string> {
  const path = join(dataDir, PASSWORD_FILE);
  const existing = await stat(path).catch(() => null);
  if (existing) {
    // Tighten a file loosened by hand or by an older version.
    if ((existing.mode & 0o077) !== 0) await chmod(path, 0o600);
    const password = (await readFile(path, "utf8")).trim();
    if (password) return password;
  }
  if (clusterExists) {
    throw new EmbeddedPostgresError(
      `${path} is missing or empty, and the embedded cluster cannot be opened without it: restore it from a backup of the data directory.`,
    );
  }
  const password = randomBytes(24).toString("base64url");
  const file = await open(path, existing ? "w" : "wx", 0o600);
  try {
    await file.writeFile(`${password}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  return password;
}

/**
 * PostgreSQL's SCRAM-SHA-256 verifier (RFC 5802/7677) for `password`, as `ALTER ROLE … PASSWORD`
 * stores it. The generated passwords are ASCII, which SASLprep leaves as it is.
 */
export function scramVerifier(password: string, iterations = 4096): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, iterations, 32, "sha256");
  const clientKey = createHmac("sha256", salted).update("Client Key").digest();
  const storedKey = createHash("sha256").update(clientKey).digest();
  const serverKey = createHmac("sha256", salted).update("Server Key").digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

/** Writes the verifier for initdb's --pwfile into `dir`, readable by the account only; remove() deletes it. */
export async function verifierFile(dir: string, password: string, runAs: RunAs | undefined): Promise<{ path: string; remove(): Promise<void> }> {
  const path = join(dir, `.initdb-pwfile.${process.pid}.${randomBytes(4).toString("hex")}`);
  const file = await open(path, "wx", 0o600);
  try {
    await file.writeFile(`${scramVerifier(password)}\n`);
  } finally {
    await file.close();
  }
  if (runAs) await chown(path, runAs.uid, runAs.gid);
  return { path, remove: () => rm(path, { force: true }) };
}
