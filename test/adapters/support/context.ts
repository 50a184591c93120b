/**
 * The TestContext an adapter test hands to `test()`: a deadline (an AbortSignal that fires
 * after `timeoutMs`), the egress module, and no SQLite root. The egress is the production
 * module in its default mode (link-local and metadata addresses denied, loopback allowed),
 * so adapters are tested through the same checks the server applies.
 */
import type { TestContext } from "../../../src/adapters/types";
import { createEgress, type EgressPolicy } from "../../../src/net/egress";
import { testLookup } from "../../support/lookup";

/** Default mode, no allow or deny list: loopback test servers are reachable. */
export const permissiveEgress = createEgress({ mode: "default", allow: [], deny: [], lookup: testLookup });

/** Strict mode: loopback and private addresses are denied unless `allow` says otherwise. */
export function strictEgress(overrides: Partial<EgressPolicy> = {}) {
  return createEgress({ mode: "strict", allow: [], deny: [], lookup: testLookup, ...overrides });
}

/**
 * `timeoutMs` may be fractional, as the service's is (the time left after waiting for a test
 * slot); adapters must cope with that.
 */
export function testContext(overrides: Partial<TestContext> & { timeoutMs?: number } = {}): TestContext {
  const timeoutMs = overrides.timeoutMs ?? 10_000;
  return {
    signal: overrides.signal ?? AbortSignal.timeout(Math.ceil(timeoutMs)),
    timeoutMs,
    egress: overrides.egress ?? permissiveEgress,
    sqliteRoot: overrides.sqliteRoot ?? null,
  };
}

/** Denies every address, so a test can check that an adapter gives up before connecting. */
export const denyAllEgress = createEgress({ mode: "default", allow: [], deny: ["0.0.0.0/0", "::/0"], lookup: testLookup });

/** A context whose egress denies every address (what interim-context.ts offered). */
export function deniedContext(overrides: Partial<TestContext> & { timeoutMs?: number } = {}): TestContext {
  return testContext({ ...overrides, egress: denyAllEgress });
}
