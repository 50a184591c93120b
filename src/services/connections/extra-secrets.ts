/**
 * Secrets anywhere in `extra`, and the order of its keys.
 *
 * A connection's extra is stored whole, in the order the user gave it (a `json` column keeps
 * the text), with each secret value replaced by a marker, `{"$patchbay": "sealed"}`, and the
 * value itself in the sealed document under its path (`extra.<key>`, `extra.<key>.<key>`,
 * path segments escaped as in JSON Pointer: `~` is `~0`, `.` is `~1`). So:
 * - the API shows the extra without the marked keys (`publicExtra`), and never a secret;
 * - resolving puts every secret back where it was (`mergeSecrets`): key order survives,
 *   nested keys included;
 * - secrets stored before markers existed (top-level keys only, their names unescaped) and
 *   secrets kept from an earlier version that the new extra does not mark are added after
 *   the keys that are there.
 *
 * What is secret: a top-level key the type declares secret; a key the type does not declare
 * whose name says it holds a credential (`token`, `client_secret`, …) at any depth, and every
 * text value below such a key; values that carry a password by what they are
 * (`connection_string`, `key_json`, `private_key`, a `webhook_url` with more than an origin).
 */
import { isCredentialName, isTokenUrl } from "../../adapters/common/secret-fields";
import { isSecretExtraKey } from "../../adapters/registry";
import type { ConnectionAdapter } from "../../adapters/types";
import { BadUserInputError } from "../../errors";
import { emptyObject } from "../../input/json";

export { isSecretExtraKey };
export type JsonObject = Record<string, unknown>;

export const SEALED_MARKER_KEY = "$patchbay";
const SEALED_MARKER_VALUE = "sealed";

function marker(): JsonObject {
  const m = emptyObject();
  m[SEALED_MARKER_KEY] = SEALED_MARKER_VALUE;
  return m;
}

export function isSealedMarker(value: unknown): boolean {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === SEALED_MARKER_KEY && (value as JsonObject)[SEALED_MARKER_KEY] === SEALED_MARKER_VALUE;
}

/** The path segment as it appears in a secret field name. */
export function escapeSegment(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll(".", "~1");
}

function unescapeSegment(segment: string): string {
  return segment.replaceAll("~1", ".").replaceAll("~0", "~");
}

export interface SplitExtra {
  /** The extra as stored: every secret value replaced by the marker. */
  skeleton: JsonObject;
  /** Secret field name (`extra.<path>`) to its value. */
  secrets: Record<string, string>;
  /** With keepNulls: secret fields given as null or "" (cleared), besides those set. */
  secretUpdates: Record<string, string | null>;
}

/**
 * Splits a user's extra into what is stored in the clear (with markers where secrets were)
 * and the secrets. A credential given as a number or boolean is refused (give it as text),
 * and so is a marker in the input: it would read as a secret that is not there.
 */
export function splitExtra(adapter: ConnectionAdapter, extra: JsonObject, options: { keepNulls?: boolean } = {}): SplitExtra {
  const secrets: Record<string, string> = emptyObject();
  const secretUpdates: Record<string, string | null> = emptyObject();

  const walk = (value: unknown, path: string[], secret: boolean): unknown => {
    if (isSealedMarker(value)) {
      throw new BadUserInputError(`extra may not hold {"${SEALED_MARKER_KEY}": "${SEALED_MARKER_VALUE}"}: Patchbay marks sealed values so.`, fieldOf(path));
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, String(i)], secret));
    if (typeof value === "object" && value !== null) {
      const out = emptyObject();
      for (const [key, child] of Object.entries(value)) {
        const childSecret = secret || isCredentialName(key) || isTokenUrl(key, child);
        const walked = walk(child, [...path, key], childSecret);
        if (walked !== undefined) out[key] = walked;
      }
      return out;
    }
    if (!secret) return value;
    const field = fieldOf(path);
    if (value === null || value === "") {
      if (options.keepNulls) secretUpdates[field] = null;
      return undefined;
    }
    if (typeof value !== "string") {
      // Below a credential's key, numbers and booleans are settings (an expiry, a flag).
      if (path.length > 1 && !isCredentialName(path[path.length - 1])) return value;
      throw new BadUserInputError(`${field} holds a credential and is stored encrypted: give it as text (e.g. JSON as a string).`, field);
    }
    secrets[field] = value;
    secretUpdates[field] = value;
    return marker();
  };

  const skeleton = emptyObject();
  for (const [key, value] of Object.entries(extra)) {
    const secret = isSecretExtraKey(adapter, key, value);
    const declared = adapter.fields.some((f) => f.name === `extra.${key}`);
    // A declared non-secret field is the type's own setting, whatever its name: kept as given.
    const walked = declared && !secret ? value : walk(value, [key], secret);
    if (walked !== undefined) skeleton[key] = walked;
  }
  return { skeleton, secrets, secretUpdates };
}

/** `extra.<path>` for a path of keys. */
export function fieldOf(path: string[]): string {
  return `extra.${path.map(escapeSegment).join(".")}`;
}

/** The extra as the API shows it: marked (secret) keys left out. */
export function publicExtra(stored: unknown): JsonObject {
  if (typeof stored !== "object" || stored === null || Array.isArray(stored)) return emptyObject();
  return strip(stored) as JsonObject;
}

function strip(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => !isSealedMarker(v)).map(strip);
  if (typeof value === "object" && value !== null) {
    const out = emptyObject();
    for (const [key, child] of Object.entries(value)) if (!isSealedMarker(child)) out[key] = strip(child);
    return out;
  }
  return value;
}

/** Whether a stored extra marks any value as sealed. */
export function hasMarkers(value: unknown): boolean {
  if (isSealedMarker(value)) return true;
  if (typeof value !== "object" || value === null) return false;
  return Object.values(value).some(hasMarkers);
}

/**
 * The full extra, secrets in place: each marker replaced by its secret (a marker whose secret
 * is gone is left out), then the secrets no marker names added at their paths, in name order.
 */
export function mergeSecrets(skeleton: JsonObject, secrets: Record<string, string>): JsonObject {
  const placed = new Set<string>();
  const walk = (value: unknown, path: string[]): unknown => {
    if (isSealedMarker(value)) {
      const field = fieldOf(path);
      if (!Object.hasOwn(secrets, field)) return undefined;
      placed.add(field);
      return secrets[field];
    }
    if (Array.isArray(value)) return value.map((item, i) => walk(item, [...path, String(i)]));
    if (typeof value === "object" && value !== null) {
      const out = emptyObject();
      for (const [key, child] of Object.entries(value)) {
        const walked = walk(child, [...path, key]);
        if (walked !== undefined) out[key] = walked;
      }
      return out;
    }
    return value;
  };
  const extra = emptyObject();
  for (const [key, value] of Object.entries(skeleton)) {
    const walked = walk(value, [key]);
    if (walked !== undefined) extra[key] = walked;
  }
  for (const field of Object.keys(secrets).sort()) {
    if (!field.startsWith("extra.") || placed.has(field)) continue;
    placeAt(extra, field.slice("extra.".length), secrets[field]);
  }
  return extra;
}

/**
 * Puts a secret that no marker names at its path. A name without escapes that matches no
 * nested object is a top-level key, as secrets were named before nesting (`extra.a.b` was the
 * key `a.b`).
 */
function placeAt(extra: JsonObject, name: string, value: string): void {
  const segments = name.split(".").map(unescapeSegment);
  if (segments.length === 1 || !name.includes("~")) {
    let parent: JsonObject = extra;
    for (const segment of segments.slice(0, -1)) {
      const next = parent[segment];
      if (typeof next !== "object" || next === null || Array.isArray(next)) {
        if (!name.includes("~")) extra[name] = value;
        return;
      }
      parent = next as JsonObject;
    }
    parent[segments[segments.length - 1]] = value;
    return;
  }
  let parent: JsonObject = extra;
  for (const segment of segments.slice(0, -1)) {
    const next = parent[segment];
    if (typeof next !== "object" || next === null) parent[segment] = emptyObject();
    parent = parent[segment] as JsonObject;
  }
  parent[segments[segments.length - 1]] = value;
}

/** Whether a secret field (`password`, `extra.<path>`) can belong to a connection of this type. */
export function isAllowedSecretField(adapter: ConnectionAdapter, field: string): boolean {
  if (field === "password") return true;
  if (!field.startsWith("extra.")) return false;
  const segments = field.slice("extra.".length).split(".").map(unescapeSegment);
  if (segments.length === 1) return isSecretExtraKey(adapter, segments[0]) || isCredentialName(segments[0]);
  return segments.some(isCredentialName) || /webhook/i.test(segments[0]);
}
