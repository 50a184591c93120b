/**
 * A connection as the user describes it, before it is stored: input checked and split into
 * plain fields, plain extras and secrets, patches applied with the contract's rules
 * (omitted keeps, null clears), and the adapter's validation. Pure: no database, no keys.
 */
import { CONNECTION_NAME } from "../../airflow/types";
import { changesDestination, getAdapter, validateSettings } from "../../adapters/registry";
import type { ConnectionAdapter, ConnectionSettings } from "../../adapters/types";
import { BadUserInputError } from "../../errors";
import { emptyObject, isPrototypeKey, safeJsonCopy, textProblem, UnsafeJsonError } from "../../input/json";
import { isAllowedSecretField, mergeSecrets, splitExtra } from "./extra-secrets";

export const MAX_EXTRA_BYTES = 64 * 1024;
const MAX_DESCRIPTION = 2000;
const MAX_TEXT_FIELD = 1024;

export type JsonObject = Record<string, unknown>;

export interface ConnectionInputData {
  name: string;
  type: string;
  description?: string | null;
  host?: string | null;
  port?: number | null;
  schema?: string | null;
  login?: string | null;
  password?: string | null;
  extra?: unknown;
}

/** Absent (undefined) keeps the stored value; null clears it (name and type refuse null). */
export type ConnectionPatchData = { [K in keyof ConnectionInputData]?: ConnectionInputData[K] | null };

/** Secret field name (`password` or `extra.<key>`) to its value. */
export type Secrets = Record<string, string>;

export interface ConnectionDraft {
  name: string;
  type: string;
  description: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  /**
   * The extra as stored: in the user's key order, each secret value replaced by a marker
   * (extra-secrets.ts). The API shows it through publicExtra(); settingsOf() merges the secrets back.
   */
  extra: JsonObject;
  secrets: Secrets;
}

export function adapterFor(type: string): ConnectionAdapter {
  const adapter = getAdapter(type);
  if (!adapter) throw new BadUserInputError(`Unknown connection type "${type}"; see connectionTypes for the list.`, "type");
  return adapter;
}

export function checkName(name: string): string {
  if (!CONNECTION_NAME.test(name)) {
    throw new BadUserInputError("A connection name is 1 to 200 letters, digits, '_', '.' or '-'.", "name");
  }
  // `.` and `..` cannot be a path segment of /api/v1/connections/{name}; the prototype keys
  // would be one more way to smuggle them into code that indexes objects by name.
  if (name === "." || name === ".." || isPrototypeKey(name)) {
    throw new BadUserInputError(`"${name}" cannot be a connection name.`, "name");
  }
  return name;
}

/** Turns create input into a draft, or throws BAD_USER_INPUT naming the field. */
export function draftFromInput(input: ConnectionInputData): ConnectionDraft {
  const adapter = adapterFor(input.type);
  const { skeleton: plain, secrets } = splitExtra(adapter, checkExtra(input.extra ?? {}));
  const password = optionalSecret(input.password);
  if (password !== null) secrets.password = password;
  return normalized(adapter, {
    name: checkName(input.name),
    type: adapter.id,
    description: optionalText(input.description, "description", MAX_DESCRIPTION),
    host: optionalText(input.host, "host"),
    port: optionalPort(input.port),
    schema: optionalText(input.schema, "schema"),
    login: optionalText(input.login, "login"),
    extra: plain,
    secrets,
  });
}

/** Applies the adapter's normalize(): only host, port, schema and plain extras may change. */
function normalized(adapter: ConnectionAdapter, draft: ConnectionDraft): ConnectionDraft {
  if (!adapter.normalize) return draft;
  const result = adapter.normalize(settingsOf(draft));
  // Only the skeleton is taken: normalize() may not change secrets.
  const { skeleton } = splitExtra(adapter, result.extra);
  return { ...draft, host: result.host, port: result.port, schema: result.schema, extra: skeleton };
}

export interface PatchedDraft {
  draft: ConnectionDraft;
  /** The type, or a field that decides where or how protected the secrets travel, changed. */
  repointed: boolean;
  /** Secret fields that keep their stored value (not given in the patch). */
  keptSecrets: string[];
}

/** Applies a patch to a stored draft: the contract's keep, clear and replace rules. */
export function applyPatch(stored: ConnectionDraft, patch: ConnectionPatchData): PatchedDraft {
  if (patch.type === null) throw new BadUserInputError("A connection always has a type.", "type");
  if (patch.name === null) throw new BadUserInputError("A connection always has a name.", "name");
  const adapter = adapterFor(patch.type ?? stored.type);
  const allowedSecret = (field: string) => isAllowedSecretField(adapter, field);

  // Stored secrets survive unless the new type has no such field.
  const secrets: Secrets = emptyObject();
  for (const [field, value] of Object.entries(stored.secrets)) if (allowedSecret(field)) secrets[field] = value;
  const given = new Set<string>();

  if (patch.password !== undefined) {
    given.add("password");
    const password = optionalSecret(patch.password);
    if (password === null) delete secrets.password;
    else secrets.password = password;
  }

  let extra = stored.extra;
  if (patch.extra !== undefined) {
    // `extra` replaces the plain extras; a secret key is set when present, cleared when
    // null, kept when absent.
    const raw = patch.extra === null ? {} : checkExtra(patch.extra);
    const split = splitExtra(adapter, raw, { keepNulls: true });
    extra = split.skeleton;
    for (const [field, value] of Object.entries(split.secretUpdates)) {
      given.add(field);
      if (value === null) delete secrets[field];
      else secrets[field] = value;
    }
  } else if (patch.type !== undefined && patch.type !== stored.type) {
    // A new type reinterprets the stored extras: keys it declares secret cannot stay plain
    // (a stored secret the new type does not mark stays sealed, merged back at its path).
    const split = splitExtra(adapter, mergeSecrets(stored.extra, {}));
    extra = split.skeleton;
    for (const [field, value] of Object.entries(split.secrets)) secrets[field] = value;
  }

  const draft: ConnectionDraft = normalized(adapter, {
    name: patch.name !== undefined ? checkName(patch.name) : stored.name,
    type: adapter.id,
    description: patch.description !== undefined ? optionalText(patch.description, "description", MAX_DESCRIPTION) : stored.description,
    host: patch.host !== undefined ? optionalText(patch.host, "host") : stored.host,
    port: patch.port !== undefined ? optionalPort(patch.port) : stored.port,
    schema: patch.schema !== undefined ? optionalText(patch.schema, "schema") : stored.schema,
    login: patch.login !== undefined ? optionalText(patch.login, "login") : stored.login,
    extra,
    secrets,
  });
  // Compared after normalize(), so a URL pasted into host counts by its parts.
  const repointed = draft.type !== stored.type || changesDestination(adapter, settingsOf(stored), settingsOf(draft));
  const keptSecrets = Object.keys(secrets).filter((field) => !given.has(field)).sort();
  return { draft, repointed, keptSecrets };
}

/** The decrypted settings an adapter works on. */
export function settingsOf(draft: ConnectionDraft): ConnectionSettings {
  const extra = mergeSecrets(draft.extra, draft.secrets);
  return {
    host: draft.host,
    port: draft.port,
    schema: draft.schema,
    login: draft.login,
    password: draft.secrets.password ?? null,
    extra,
  };
}

/** Throws BAD_USER_INPUT for the first problem the adapter finds. */
export function assertValid(draft: ConnectionDraft): void {
  const problems = validateSettings(adapterFor(draft.type), settingsOf(draft));
  if (problems.length > 0) {
    const [first] = problems;
    throw new BadUserInputError(first.message, first.field);
  }
}

export function sameDraft(a: ConnectionDraft, b: ConnectionDraft): boolean {
  return (
    a.name === b.name &&
    a.type === b.type &&
    a.description === b.description &&
    a.host === b.host &&
    a.port === b.port &&
    a.schema === b.schema &&
    a.login === b.login &&
    // Key order is part of extra (it is kept as given), so a reordered extra is a change.
    JSON.stringify(a.extra) === JSON.stringify(b.extra) &&
    canonicalJson(a.secrets) === canonicalJson(b.secrets)
  );
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([x], [y]) => x.localeCompare(y))) : v,
  );
}

/**
 * `extra` as it will be stored: a bounded copy without prototype keys (see src/input/json.ts),
 * so that validation and the repointing rule see exactly the keys that reach the database.
 */
function checkExtra(extra: unknown): JsonObject {
  if (extra === null || typeof extra !== "object" || Array.isArray(extra)) {
    throw new BadUserInputError("extra must be a JSON object.", "extra");
  }
  let copy: JsonObject;
  try {
    copy = safeJsonCopy(extra) as JsonObject;
  } catch (error) {
    if (!(error instanceof UnsafeJsonError)) throw error;
    const at = error.path.length > 0 ? ` (at extra.${error.path.join(".")})` : "";
    throw new BadUserInputError(`extra is not allowed: ${error.message}${at}.`, "extra");
  }
  if (Buffer.byteLength(JSON.stringify(copy), "utf8") > MAX_EXTRA_BYTES) {
    throw new BadUserInputError(`extra must be at most ${MAX_EXTRA_BYTES / 1024} KiB of JSON.`, "extra");
  }
  return copy;
}

function optionalText(value: string | null | undefined, field: string, max = MAX_TEXT_FIELD): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (value.length > max) throw new BadUserInputError(`${field} is too long (${max} characters at most).`, field);
  const problem = textProblem(value);
  if (problem) throw new BadUserInputError(`${field} ${problem}.`, field);
  return value;
}

function optionalSecret(value: string | null | undefined): string | null {
  if (value === null || value === undefined || value === "") return null;
  if (value.length > 16 * 1024) throw new BadUserInputError("password is too long.", "password");
  return value;
}

function optionalPort(port: number | null | undefined): number | null {
  if (port === null || port === undefined) return null;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new BadUserInputError("port must be a whole number from 1 to 65535.", "port");
  }
  return port;
}
