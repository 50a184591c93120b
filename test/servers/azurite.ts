/**
 * Azurite, Microsoft's Azure Storage emulator (npm `azurite`, a dev dependency), as a child
 * process serving Blob Storage on 127.0.0.1 with in-memory storage, telemetry off. It checks
 * Shared Key signatures and account SAS signatures as Azure does. The account is made up per
 * run (AZURITE_ACCOUNTS), so no well-known emulator key is involved; `createContainer` signs
 * its PUT with the adapter's own signer.
 */
import { spawn } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sharedKeyAuthorization } from "../../src/adapters/azure-blob";
import { freePort } from "../../src/net/free-port";

export interface AzuriteService {
  account: string;
  /** The account key, base64. */
  key: string;
  /** http://127.0.0.1:<port>/<account> */
  endpoint: string;
  createContainer(name: string): Promise<void>;
  /** An account SAS for the Blob service, signed with the key. */
  accountSas(permissions: string): string;
  stop(): Promise<void>;
}

const API_VERSION = "2021-12-02";

export async function startAzurite(): Promise<AzuriteService> {
  const main = createRequire(import.meta.url).resolve("azurite/dist/src/blob/main.js");
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), "patchbay-azurite-"));
  const account = `pb${randomBytes(5).toString("hex")}`;
  const key = randomBytes(64).toString("base64");
  const child = spawn(
    process.execPath,
    [main, "--blobHost", "127.0.0.1", "--blobPort", String(port), "--inMemoryPersistence", "--disableTelemetry", "--silent"],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, AZURITE_ACCOUNTS: `${account}:${key}` } },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const endpoint = `http://127.0.0.1:${port}/${account}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
      throw new Error(child.exitCode !== null ? `Azurite exited: ${output}` : `Azurite did not start within 30 s: ${output}`);
    }
    const up = await fetch(`${endpoint}?comp=list`).then(
      () => true,
      () => false,
    );
    if (up) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const keyBytes = Buffer.from(key, "base64");
  return {
    account,
    key,
    endpoint,
    async createContainer(name) {
      const url = new URL(`${endpoint}/${name}?restype=container`);
      const headers: Record<string, string> = { "x-ms-date": new Date().toUTCString(), "x-ms-version": API_VERSION };
      const authorization = sharedKeyAuthorization(account, keyBytes, url, headers, "PUT");
      const response = await fetch(url, { method: "PUT", headers: { ...headers, authorization } });
      if (response.status !== 201) throw new Error(`creating container ${name}: ${response.status} ${await response.text()}`);
    },
    accountSas(permissions) {
      const expiry = new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, "Z");
      // Account SAS, version 2020-12-06 and later: the encryption scope line is part of it.
      const toSign = [account, permissions, "b", "sco", "", expiry, "", "", API_VERSION, "", ""].join("\n");
      const sig = createHmac("sha256", keyBytes).update(toSign, "utf8").digest("base64");
      return new URLSearchParams({ sv: API_VERSION, ss: "b", srt: "sco", sp: permissions, se: expiry, sig }).toString();
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
        if (child.exitCode === null) child.kill("SIGKILL");
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
