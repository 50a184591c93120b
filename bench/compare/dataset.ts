/**
 * The benchmark's data, the same for Patchbay and the floor: connections that look like a
 * team's (mostly PostgreSQL, some MySQL, varied hosts and users, a password each) and a short
 * test history for every one, newest mostly successful. Passwords derive from a seed, so a
 * response can be checked without storing them.
 */
import { createHash } from "node:crypto";
import type { ConnectionInputData } from "../../src/services/connections/draft";

/** Test results per connection; the newest is what `lastTest` shows. */
export const TESTS_PER_CONNECTION = 3;

export function connectionName(index: number): string {
  return `conn-${String(index).padStart(5, "0")}`;
}

export function workspaceSlug(index: number): string {
  return index === 0 ? "bench" : `bench-${String(index).padStart(4, "0")}`;
}

export function passwordOf(seed: string, workspaceIndex: number, index: number): string {
  return createHash("sha256").update(`${seed}/${workspaceIndex}/${index}`).digest("base64url").slice(0, 24);
}

export function connectionInput(seed: string, workspaceIndex: number, index: number): ConnectionInputData {
  const mysql = index % 5 === 4;
  return {
    name: connectionName(index),
    type: mysql ? "mysql" : "postgres",
    description: `Bench connection ${index} of workspace ${workspaceIndex}`,
    host: `db-${index % 40}.w${workspaceIndex}.internal.example`,
    port: mysql ? 3306 : 5432,
    schema: `app_${index % 20}`,
    login: `svc_${index % 50}`,
    password: passwordOf(seed, workspaceIndex, index),
    extra: mysql ? { ssl_mode: "REQUIRED" } : { sslmode: "require" },
  };
}

export interface TestResultSeed {
  status: "SUCCESS" | "FAILURE";
  errorCode: string | null;
  message: string;
  latencyMs: number;
  serverVersion: string | null;
  testedAt: Date;
}

/** Oldest first; the newest fails for one connection in ten. */
export function testHistory(index: number, now: number): TestResultSeed[] {
  const history: TestResultSeed[] = [];
  for (let k = 0; k < TESTS_PER_CONNECTION; k++) {
    const newest = k === TESTS_PER_CONNECTION - 1;
    const fails = newest ? index % 10 === 3 : k === 0;
    const testedAt = new Date(now - (TESTS_PER_CONNECTION - k) * 86_400_000 + (index % 3600) * 1000);
    history.push(
      fails
        ? { status: "FAILURE", errorCode: "TIMEOUT", message: "No answer within 10000 ms.", latencyMs: 10_000, serverVersion: null, testedAt }
        : { status: "SUCCESS", errorCode: null, message: "Connected.", latencyMs: 3 + (index % 40), serverVersion: "18.0", testedAt },
    );
  }
  return history;
}

/**
 * The k-th request's (workspace, connection) pair: spread over every workspace and name in a
 * fixed pseudo-random order, so both servers see the same sequence and no row is a hot spot.
 */
export function requestTargets(workspaces: number, perWorkspace: number): () => { workspace: number; connection: number } {
  let state = 0x2545f491;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const x = state >>> 4;
    return { workspace: x % workspaces, connection: Math.floor(x / workspaces) % perWorkspace };
  };
}
