/**
 * The master key (KEK) that wraps every workspace data key (DESIGN.md, Keys and ciphertext).
 * It comes from PATCHBAY_MASTER_KEY; in the embedded default it is generated once into the
 * data directory (mode 0600). Production refuses to start without it, because a key generated
 * on an ephemeral disk would make every stored secret unreadable after a redeploy.
 * Error messages never contain the key material.
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { link, mkdir, open, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = "master.key";

export class MasterKeyError extends Error {
  override name = "MasterKeyError";
}

export interface LoadedMasterKey {
  key: Buffer;
  source: "env" | "file" | "generated";
  /** Set when the key loaded but something deserves a log line (e.g. a too-open file mode). */
  warning?: string;
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** Decodes standard or url-safe base64 of exactly 32 bytes; null if it is anything else. */
function decodeKey(text: string): { key: Buffer } | { problem: string } {
  const s = text.trim();
  if (!BASE64.test(s) || s.replace(/=+$/, "").length % 4 === 1) return { problem: "is not valid base64" };
  const key = Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  if (key.length !== MASTER_KEY_BYTES) {
    return { problem: `must decode to exactly ${MASTER_KEY_BYTES} bytes (it decodes to ${key.length})` };
  }
  return { key };
}

const HOW_TO = "Generate one with `openssl rand -base64 32`.";

/**
 * PATCHBAY_MASTER_KEY_PREVIOUS: the master key being rotated away from (README, Rotating the
 * master key). Null when unset; an error when it is set but not a key, or equals the current one.
 */
export function loadPreviousMasterKey(envValue: string | undefined, current: Buffer): Buffer | null {
  if (envValue === undefined || envValue.trim() === "") return null;
  const decoded = decodeKey(envValue);
  if ("problem" in decoded) throw new MasterKeyError(`PATCHBAY_MASTER_KEY_PREVIOUS ${decoded.problem}. It is the master key being rotated away from.`);
  if (decoded.key.equals(current)) {
    throw new MasterKeyError("PATCHBAY_MASTER_KEY_PREVIOUS equals the current master key; set PATCHBAY_MASTER_KEY to the new key and PATCHBAY_MASTER_KEY_PREVIOUS to the old one.");
  }
  return decoded.key;
}

/**
 * A master key's public name: 16 hex characters of an HKDF output bound to this purpose, so
 * it tells keys apart (which one wrapped a stored key) without revealing anything of them.
 */
export function masterKeyFingerprint(masterKey: Buffer): string {
  return deriveSubkey(masterKey, "master-key-fingerprint").subarray(0, 8).toString("hex");
}

export async function loadMasterKey(opts: {
  envValue: string | undefined;
  dataDir: string;
  production: boolean;
}): Promise<LoadedMasterKey> {
  // An empty variable counts as unset: `PATCHBAY_MASTER_KEY=` in a compose file is a mistake.
  if (opts.envValue !== undefined && opts.envValue.trim() !== "") {
    const decoded = decodeKey(opts.envValue);
    if ("problem" in decoded) throw new MasterKeyError(`PATCHBAY_MASTER_KEY ${decoded.problem}. ${HOW_TO}`);
    return { key: decoded.key, source: "env" };
  }
  if (opts.production) {
    throw new MasterKeyError(
      `PATCHBAY_MASTER_KEY is required when NODE_ENV=production (base64 of ${MASTER_KEY_BYTES} random bytes). ` +
        `Keep it outside the database: without it no stored secret can be opened. ${HOW_TO}`,
    );
  }
  return loadOrCreateKeyFile(opts.dataDir);
}

async function loadOrCreateKeyFile(dataDir: string): Promise<LoadedMasterKey> {
  const path = join(dataDir, MASTER_KEY_FILE);
  const existing = await readKeyFile(path);
  if (existing) return existing;

  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  // Write a complete temp file, then link() it into place: link fails with EEXIST instead of
  // replacing, so two first starts agree on one key and no reader ever sees a half-written file.
  const tmp = join(dataDir, `.${MASTER_KEY_FILE}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  const fh = await open(tmp, "wx", 0o600);
  try {
    try {
      await fh.writeFile(`${key.toString("base64")}\n`, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await link(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    const winner = await readKeyFile(path);
    if (!winner) throw new MasterKeyError(`${path} appeared and vanished while starting; try again.`);
    return winner;
  } finally {
    await unlink(tmp).catch(() => {});
  }
  await syncDir(dataDir);
  return { key, source: "generated" };
}

async function readKeyFile(path: string): Promise<LoadedMasterKey | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new MasterKeyError(`Cannot read the master key file ${path}: ${(err as Error).message}`);
  }
  const decoded = decodeKey(text);
  if ("problem" in decoded) {
    throw new MasterKeyError(`The master key file ${path} is corrupt: its content ${decoded.problem}.`);
  }
  const loaded: LoadedMasterKey = { key: decoded.key, source: "file" };
  if (process.platform !== "win32") {
    const mode = (await stat(path)).mode & 0o777;
    if (mode & 0o077) {
      loaded.warning = `${path} has mode 0${mode.toString(8)}; it should be 0600 (chmod 600 ${path}).`;
    }
  }
  return loaded;
}

async function syncDir(dir: string): Promise<void> {
  // Best effort: makes the new directory entry durable; not supported everywhere.
  try {
    const fh = await open(dir, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch {
    /* ignore */
  }
}

/**
 * A purpose-bound key derived from the master key (HKDF-SHA256, empty salt, info
 * `patchbay:<purpose>`), so the session-signing key and the API token hash key never equal
 * the KEK or each other. Purposes in use: "session-signing", "api-token-hash",
 * "rate-limit-keys", "invitation-hash".
 */
export function deriveSubkey(masterKey: Buffer, purpose: string): Buffer {
  if (masterKey.length !== MASTER_KEY_BYTES) throw new RangeError(`The master key must be ${MASTER_KEY_BYTES} bytes.`);
  if (purpose === "") throw new RangeError("A subkey purpose is required.");
  return Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), `patchbay:${purpose}`, 32));
}
