import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile, chmod, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MasterKeyError, deriveSubkey, loadMasterKey } from "../../src/crypto/master-key";

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), "patchbay-mk-"));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function expectMasterKeyError(p: Promise<unknown>, mustNotContain?: string): Promise<MasterKeyError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(MasterKeyError);
  if (mustNotContain) expect((err as Error).message).not.toContain(mustNotContain);
  return err as MasterKeyError;
}

const posix = process.platform !== "win32";

describe("loadMasterKey from the environment", () => {
  it("accepts standard and url-safe base64 of 32 bytes, padded or not", async () => {
    const raw = randomBytes(32);
    for (const envValue of [
      raw.toString("base64"),
      raw.toString("base64url"),
      `${raw.toString("base64")}\n`,
      raw.toString("base64").replace(/=+$/, ""),
    ]) {
      const loaded = await loadMasterKey({ envValue, dataDir: join(root, "d"), production: true });
      expect(loaded.source).toBe("env");
      expect(loaded.key.equals(raw)).toBe(true);
    }
    // Nothing is written when the key comes from the environment.
    expect(await readdir(root)).toEqual([]);
  });

  it("rejects the wrong length without echoing the value", async () => {
    for (const n of [16, 31, 33, 64]) {
      const envValue = randomBytes(n).toString("base64");
      const err = await expectMasterKeyError(loadMasterKey({ envValue, dataDir: root, production: false }), envValue);
      expect(err.message).toMatch(/32 bytes/);
    }
  });

  it("rejects values that are not base64 without echoing them", async () => {
    for (const envValue of ["not base64 at all!", "hunter2*hunter2*hunter2*hunter2*hunter2*hunt", `${"a".repeat(41)}`]) {
      await expectMasterKeyError(loadMasterKey({ envValue, dataDir: root, production: false }), envValue);
    }
    // A hex key is a common mistake: 64 hex chars decode as base64 to 48 bytes.
    const hex = randomBytes(32).toString("hex");
    await expectMasterKeyError(loadMasterKey({ envValue: hex, dataDir: root, production: false }), hex);
  });

  it("refuses to start in production without it", async () => {
    for (const envValue of [undefined, "", "  "]) {
      const err = await expectMasterKeyError(loadMasterKey({ envValue, dataDir: root, production: true }));
      expect(err.message).toMatch(/^PATCHBAY_MASTER_KEY is required when NODE_ENV=production/);
    }
    expect(await readdir(root)).toEqual([]);
  });
});

describe("loadMasterKey from the data directory", () => {
  it("generates master.key with mode 0600 in a 0700 directory, then reuses it", async () => {
    const dataDir = join(root, "nested", "data");
    const first = await loadMasterKey({ envValue: undefined, dataDir, production: false });
    expect(first.source).toBe("generated");
    expect(first.key.length).toBe(32);
    const file = join(dataDir, "master.key");
    expect(Buffer.from((await readFile(file, "utf8")).trim(), "base64").equals(first.key)).toBe(true);
    if (posix) {
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      expect((await stat(dataDir)).mode & 0o077).toBe(0);
    }
    expect(await readdir(dataDir)).toEqual(["master.key"]); // no temp file left behind

    const second = await loadMasterKey({ envValue: undefined, dataDir, production: false });
    expect(second.source).toBe("file");
    expect(second.key.equals(first.key)).toBe(true);
    expect(second.warning).toBeUndefined();
  });

  it("concurrent first starts agree on one key", async () => {
    const dataDir = join(root, "race");
    const results = await Promise.all(
      Array.from({ length: 8 }, () => loadMasterKey({ envValue: undefined, dataDir, production: false })),
    );
    expect(results.filter((r) => r.source === "generated")).toHaveLength(1);
    for (const r of results) expect(r.key.equals(results[0].key)).toBe(true);
    expect(await readdir(dataDir)).toEqual(["master.key"]);
  });

  it("prefers the environment over an existing file", async () => {
    const dataDir = join(root, "d");
    await loadMasterKey({ envValue: undefined, dataDir, production: false });
    const raw = randomBytes(32);
    const loaded = await loadMasterKey({ envValue: raw.toString("base64"), dataDir, production: false });
    expect(loaded).toMatchObject({ source: "env" });
    expect(loaded.key.equals(raw)).toBe(true);
  });

  it.runIf(posix)("loads a key file with a loose mode but warns", async () => {
    const raw = randomBytes(32);
    const file = join(root, "master.key");
    await writeFile(file, raw.toString("base64"));
    await chmod(file, 0o644);
    const loaded = await loadMasterKey({ envValue: undefined, dataDir: root, production: false });
    expect(loaded.source).toBe("file");
    expect(loaded.key.equals(raw)).toBe(true);
    expect(loaded.warning).toMatch(/0644/);
  });

  it("rejects a corrupt key file instead of replacing it", async () => {
    const file = join(root, "master.key");
    await writeFile(file, "short", { mode: 0o600 });
    await expectMasterKeyError(loadMasterKey({ envValue: undefined, dataDir: root, production: false }), "short");
    expect(await readFile(file, "utf8")).toBe("short");
  });
});

describe("deriveSubkey", () => {
  it("is deterministic, 32 bytes, and differs per purpose and from the master key", () => {
    const master = randomBytes(32);
    const session = deriveSubkey(master, "session-signing");
    const tokens = deriveSubkey(master, "api-token-hash");
    expect(session.length).toBe(32);
    expect(deriveSubkey(master, "session-signing").equals(session)).toBe(true);
    expect(session.equals(tokens)).toBe(false);
    expect(session.equals(master)).toBe(false);
    expect(deriveSubkey(randomBytes(32), "session-signing").equals(session)).toBe(false);
  });

  it("is HKDF-SHA256 (RFC 5869) with an empty salt and info patchbay:<purpose>", () => {
    // Computed independently with HMAC: PRK = HMAC(zeros(32), IKM); OKM = HMAC(PRK, info || 0x01).
    const master = randomBytes(32);
    const prk = createHmac("sha256", Buffer.alloc(32)).update(master).digest();
    const okm = createHmac("sha256", prk).update("patchbay:session-signing").update(Buffer.of(1)).digest();
    expect(deriveSubkey(master, "session-signing").equals(okm)).toBe(true);
  });
});
