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
  return createHash("sha256").update(canonicalForm(event), "utf8").digest("hex");
}

/** The text that is hashed (version 1, above). */
export function canonicalForm(event: ChainedFields): string {
  return formText({ ...event, seq: event.seq.toString() });
}

/**
 * The canonical form of an event whose position, previous hash and target are not known yet,
 * for the database to complete (src/services/connections/resolve-batch.ts): four texts, to be
 * joined with the JSON strings of seq (decimal), prevHash and targetId between them. Joined so,
 * they are exactly canonicalForm()'s text.
 */
export function canonicalFormAround(event: Omit<ChainedFields, "seq" | "prevHash" | "targetId">): [string, string, string, string] {
  // formText's array, element by element as JSON.stringify writes it ("," between, no spaces),
  // cut where the three open fields go: one pass, on the resolve path once per resolve.
  return [
    `[${json(FORM)},${json(event.chainId)},`,
    ",",
    `,${json(event.id)},${json(event.action)},${json(event.actorKind)},${json(event.actorId)},${json(event.actorLabel)},${json(event.targetType)},`,
    `,${json(event.clientIp)},${json(detailsText(event.details))},${json(event.at.toISOString())}]`,
  ];
}

/** An array element as JSON.stringify writes it inside an array (undefined is null there). */
function json(value: string | null | undefined): string {
  return value === undefined || value === null ? "null" : JSON.stringify(value);
}

function detailsText(details: unknown): string | null {
  return details === null || details === undefined ? null : canonicalJson(details);
}

function formText(event: Omit<ChainedFields, "seq"> & { seq: string }): string {
  return JSON.stringify([
    FORM,
    event.chainId,
    event.seq,
    event.prevHash,
    event.id,
    event.action,
    event.actorKind,
    event.actorId,
    event.actorLabel,
    event.targetType,
    event.targetId,
    event.clientIp,
    detailsText(event.details),
    event.at.toISOString(),
  ]);
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
