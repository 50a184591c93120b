/**
 * The skeleton every connection test runs in (like Grafana's CheckHealth or n8n's
 * credentialTest): it owns what all types share, so a type supplies only its driver's
 * open / query and how to describe what happened.
 *
 * 1. target(): the settings with defaults applied, or the failure that stops the test
 *    before anything is sent (INVALID_CONFIG, SECRET_REQUIRED).
 * 2. The egress check (when the probe names a host()): resolve once, check, or report
 *    EGRESS_DENIED / DNS_ERROR without connecting.
 * 3. open(): connect, log in and run the query, under the deadline and the caller's abort
 *    signal; the driver's connection and every socket in the session are closed in any case
 *    (politely after success, destroyed otherwise).
 * 4. describe() the result, or classify() the error: an egress refusal raised inside open()
 *    is reported as it is; everything else is the type's to name, and may not echo bytes a
 *    peer sent before logging in.
 * 5. Every failure message is scrubbed of the connection's secrets (outcome.ts).
 */
import type { CheckedAddress, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "../types";
import { type Closable, withDeadline } from "./deadline";
import { checkEgress, egressFailure, isFailure, OpenSockets } from "./egress";
import type { Failure } from "./network-errors";
import { failed } from "./outcome";
import { type Progress, startProgress } from "./progress";
import { secretValuesOf } from "./secret-fields";

export interface ProbeSession {
  readonly ctx: TestContext;
  /** The settings under test, secrets decrypted. */
  readonly settings: ConnectionSettings;
  readonly progress: Progress;
  /** Sockets opened for the driver: destroyed whenever the test ends. */
  readonly sockets: OpenSockets;
  /** The checked address of host(); only for probes that name one. */
  readonly address: CheckedAddress;
  /** How to close the driver's connection: `end` politely after success, `destroy` always. */
  closeWith(closable: Partial<Closable>): void;
}

export type Success = { ok: true; message: string; serverVersion?: string | null };

export interface Probe<Target, Result> {
  fields: readonly FieldSpec[];
  /** Defaults applied and checked, or the failure that stops the test first (a target has no `code` of its own). */
  target(settings: ConnectionSettings, ctx: TestContext): Target | Failure;
  /** The host to check against the egress policy before open(); absent: open() resolves itself (resolveChecked). */
  host?(target: Target): string;
  open(target: Target, session: ProbeSession): Promise<Result>;
  /** The outcome a finished open() stands for. */
  describe(target: Target, result: Result, session: ProbeSession): Success | Failure;
  /** What an error thrown by open() means (DeadlineExceeded when the deadline or the caller's signal ended it). */
  classify(error: unknown, target: Target, session: ProbeSession): Failure;
  /** false: open() keeps its own deadline (one covering several HTTP hops); default true. */
  deadline?: boolean;
}

export async function runProbe<Target, Result>(
  probe: Probe<Target, Result>,
  settings: ConnectionSettings,
  ctx: TestContext,
): Promise<TestOutcome> {
  const secrets = secretValuesOf(probe.fields, settings);
  const target = probe.target(settings, ctx);
  if (isFailureOf(target)) return failed(target.code, target.message, secrets);

  let address: CheckedAddress | undefined;
  if (probe.host) {
    const checked = await checkEgress(ctx, probe.host(target));
    if (isFailure(checked)) return failed(checked.code, checked.message, secrets);
    address = checked;
  }

  const sockets = new OpenSockets();
  const closers: Array<Partial<Closable>> = [];
  const session: ProbeSession = {
    ctx,
    settings,
    progress: startProgress(),
    sockets,
    get address(): CheckedAddress {
      if (!address) throw new Error("this probe names no host to check before opening");
      return address;
    },
    closeWith: (closable) => void closers.push(closable),
  };
  const connection: Closable = {
    end: () => Promise.all(closers.map((c) => c.end?.())),
    destroy: () => {
      for (const c of closers) c.destroy?.();
      sockets.destroyAll();
    },
  };

  try {
    const result =
      probe.deadline === false
        ? await probe.open(target, session)
        : await withDeadline(ctx, connection, () => probe.open(target, session));
    const outcome = probe.describe(target, result, session);
    return "code" in outcome ? failed(outcome.code, outcome.message, secrets) : outcome;
  } catch (error) {
    const { code, message } = egressFailure(error) ?? probe.classify(error, target, session);
    return failed(code, message, secrets);
  } finally {
    if (probe.deadline === false) connection.destroy();
  }
}

function isFailureOf<T>(value: T | Failure): value is Failure {
  const candidate = value as { code?: unknown; message?: unknown } | null;
  return typeof candidate === "object" && candidate !== null && typeof candidate.code === "string" && typeof candidate.message === "string";
}

/** A target function's "why not" (a message, or problems by field) as the INVALID_CONFIG failure. */
export function invalidConfig<T extends object>(target: T | string | FieldProblem[]): T | Failure {
  if (typeof target === "string") return { code: "INVALID_CONFIG", message: target };
  if (Array.isArray(target)) return { code: "INVALID_CONFIG", message: target.map((problem) => problem.message).join(" ") };
  return target;
}
