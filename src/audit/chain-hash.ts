/**
 * The audit log's hash chain (DESIGN.md, "The audit log is a chain"): each event stores the
 * hash of the event before it in its chain (one chain per workspace, one for the instance)
 * and its own SHA-256 over a canonical form of itself, the previous hash included. Editing an
 * event changes its hash; deleting one breaks the next event's link.
 *
 * Canonical form, version 1: the UTF-8 JSON text of the array
 *   ["patchbay-audit-v1", chainId, seq (decimal string), prevHash, id, action, actorKind,
 *    actorId, actorLabel, targetType, targetId, clientIp, details, at]
 * where absent values are null, `details` is canonical JSON (object keys sorted by UTF-16 code
 * units, no whitespace) embedded as a string, and `at` is the ISO-8601 UTC time in
 * milliseconds. Hashes are lower-case hex. The first event's prevHash is 64 zeros.
 */
import { createHash } from "node:crypto";

export const GENESIS_HASH = "0".repeat(64);
const FORM = "patchbay-audit-v1";

export interface ChainedFields {
  chainId: string;
  seq: bigint;
  prevHash: string;
  id: string;
  action: string;
  actorKind: string | null;
  actorId: string | null;
  actorLabel: string;
  targetType: string | null;
  targetId: string | null;
  clientIp: string | null;
  details: unknown;
  at: Date;
}

export function auditEventHash(event: ChainedFields): string {
  const form = JSON.stringify([
    FORM,
    event.chainId,
    event.seq.toString(),
    event.prevHash,
    event.id,
    event.action,
    event.actorKind,
    event.actorId,
    event.actorLabel,
    event.targetType,
    event.targetId,
    event.clientIp,
    event.details === null || event.details === undefined ? null : canonicalJson(event.details),
    event.at.toISOString(),
  ]);
  return createHash("sha256").update(form, "utf8").digest("hex");
}

/**
 * JSON with object keys sorted by code units (not locale: a hash must not depend on ICU).
 * Numbers, strings and literals as JSON.stringify writes them; arrays keep their order.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item === undefined ? null : item)).join(",")}]`;
  const keys = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`).join(",")}}`;
}
