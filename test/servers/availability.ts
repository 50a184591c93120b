/**
 * Tests that need a server binary which is not installed print why and skip; with
 * REQUIRE_SERVICES=1 (as in CI) they fail instead, so a missing install step is caught.
 */
import { execFileSync } from "node:child_process";

export const servicesRequired = process.env.REQUIRE_SERVICES === "1";

/** The absolute path of a program on PATH (or in the given directories), or null. */
export function findProgram(name: string, extraDirs: string[] = []): string | null {
  const path = [...extraDirs, ...(process.env.PATH ?? "").split(":"), "/usr/sbin", "/sbin"].join(":");
  try {
    return execFileSync("sh", ["-c", `command -v ${name}`], { env: { ...process.env, PATH: path }, encoding: "utf8" }).trim() || null;
  } catch {
    return null;
  }
}

/**
 * Returns true when the program exists. When it does not, throws under REQUIRE_SERVICES=1
 * and otherwise prints the reason and returns false, so the caller can `describe.skipIf`.
 */
export function serviceAvailable(program: string, why: string): boolean {
  if (findProgram(program)) return true;
  const message = `${program} is not installed: ${why} (apt-get install it, or see .ci/run).`;
  if (servicesRequired) throw new Error(`REQUIRE_SERVICES=1 but ${message}`);
  console.warn(`skipping: ${message}`);
  return false;
}
