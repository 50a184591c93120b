/**
 * What a bundle holds once opened: every connection of a workspace with its secrets and its
 * overrides, as a versioned JSON document; and reading one back into drafts, checked as
 * strictly as create input (a bundle is user input: whoever holds the passphrase wrote it).
 * Pure: no database, no keys.
 */
import { getAdapter, isSecretExtraKey } from "../../adapters/registry";
import { BadUserInputError } from "../../errors";
import { emptyObject, MAX_JSON_DEPTH, parseUserJson, UnsafeJsonError } from "../../input/json";
import { assertValid, type ConnectionDraft, type ConnectionInputData, draftFromInput, type JsonObject, type Secrets } from "./draft";
import { applyOverridePatch, checkEnvironment, NO_OVERRIDE, type OverrideValues } from "./override-draft";
import { MAX_BATCH } from "./sync";

const FORMAT = "patchbay-connections";
const VERSION = 1;
/** Environments of one connection a bundle may carry. */
export const MAX_OVERRIDES_PER_CONNECTION = 100;

export interface BundleOverride extends OverrideValues {
  environment: string;
}

export interface BundleConnection {
  draft: ConnectionDraft;
  /** The connection's version when it was exported (its head), for the reader's information. */
  version: number;
  overrides: BundleOverride[];
}

/** A connection of a bundle, or why it cannot be imported here (by name when it has one). */
export type BundleEntry = { name: string; connection: BundleConnection } | { name: string; error: string };

export function writeBundleDocument(workspaceSlug: string, connections: BundleConnection[]): string {
  return JSON.stringify({
    format: FORMAT,
    version: VERSION,
    exportedAt: new Date().toISOString(),
    workspace: workspaceSlug,
    connections: connections.map(({ draft, version, overrides }) => ({
      name: draft.name,
      type: draft.type,
      description: draft.description,
      host: draft.host,
      port: draft.port,
      schema: draft.schema,
      login: draft.login,
      extra: draft.extra,
      secrets: draft.secrets,
      version,
      overrides: overrides.map((o) => ({
        environment: o.environment,
        host: o.host,
        port: o.port,
        schema: o.schema,
        login: o.login,
        extra: o.extra,
        secrets: o.secrets,
      })),
    })),
  });
}

/** The bundle's entries; BAD_USER_INPUT (field bundle) when the document itself is not one. */
export function readBundleDocument(text: string): BundleEntry[] {
  let doc: JsonObject;
  try {
    doc = parseUserJson(text, MAX_JSON_DEPTH + 4) as JsonObject;
  } catch (error) {
    if (error instanceof UnsafeJsonError || error instanceof SyntaxError) throw notABundle("its content is not a readable document");
    throw error;
  }
  if (!doc || typeof doc !== "object" || doc.format !== FORMAT) throw notABundle("it does not hold Patchbay connections");
  if (doc.version !== VERSION) throw notABundle(`it is of version ${String(doc.version)}; this server reads version ${VERSION}`);
  const list = doc.connections;
  if (!Array.isArray(list)) throw notABundle("it has no list of connections");
  if (list.length > MAX_BATCH) throw new BadUserInputError(`A bundle may hold at most ${MAX_BATCH} connections; this one holds ${list.length}.`, "bundle");
  const seen = new Set<string>();
  return list.map((raw, index) => {
    const name = isObject(raw) && typeof raw.name === "string" ? raw.name : `#${index + 1}`;
    try {
      const connection = readConnection(raw);
      if (seen.has(connection.draft.name)) return { name, error: "This name appears twice in the bundle." };
      seen.add(connection.draft.name);
      return { name: connection.draft.name, connection };
    } catch (error) {
      if (error instanceof BadUserInputError) return { name, error: `${error.field}: ${error.message}` };
      throw error;
    }
  });
}

function readConnection(raw: unknown): BundleConnection {
  if (!isObject(raw)) throw new BadUserInputError("Each connection of a bundle is an object.", "connection");
  const type = text(raw.type, "type");
  const adapter = getAdapter(type ?? "");
  if (!adapter) throw new BadUserInputError(`This server has no connection type "${String(type)}".`, "type");
  const secrets = secretsOf(raw.secrets, type!);
  const draft = draftFromInput({
    name: text(raw.name, "name") ?? "",
    type: type!,
    description: text(raw.description, "description"),
    host: text(raw.host, "host"),
    port: port(raw.port),
    schema: text(raw.schema, "schema"),
    login: text(raw.login, "login"),
    password: secrets.password ?? null,
    extra: withSecretExtras(plainExtra(raw.extra), secrets),
  } satisfies ConnectionInputData);
  assertValid(draft);
  const overrides = raw.overrides === undefined ? [] : raw.overrides;
  if (!Array.isArray(overrides)) throw new BadUserInputError("overrides is a list.", "overrides");
  if (overrides.length > MAX_OVERRIDES_PER_CONNECTION) {
    throw new BadUserInputError(`A connection may carry at most ${MAX_OVERRIDES_PER_CONNECTION} environments.`, "overrides");
  }
  const environments = new Set<string>();
  const read = overrides.map((o) => {
    const override = readOverride(draft, o);
    if (environments.has(override.environment)) throw new BadUserInputError(`${override.environment} appears twice.`, "overrides");
    environments.add(override.environment);
    return override;
  });
  const version = Number.isSafeInteger(raw.version) && (raw.version as number) > 0 ? (raw.version as number) : 1;
  return { draft, version, overrides: read };
}

function readOverride(base: ConnectionDraft, raw: unknown): BundleOverride {
  if (!isObject(raw)) throw new BadUserInputError("Each override is an object.", "overrides");
  const environment = checkEnvironment(text(raw.environment, "overrides.environment") ?? "", "overrides.environment");
  const secrets = secretsOf(raw.secrets, base.type);
  const patched = applyOverridePatch(base, NO_OVERRIDE, {
    host: text(raw.host, "host"),
    port: port(raw.port),
    schema: text(raw.schema, "schema"),
    login: text(raw.login, "login"),
    password: secrets.password ?? null,
    extra: withSecretExtras(plainExtra(raw.extra), secrets),
  });
  assertValid(patched.after);
  return { environment, ...patched.values };
}

/**
 * The secret fields, each one the type declares secret here: a secret of a newer server's
 * type that this one does not know as secret must not end up stored as a plain extra.
 */
function secretsOf(raw: unknown, type: string): Secrets {
  const adapter = getAdapter(type)!;
  const secrets: Secrets = emptyObject();
  if (raw === undefined || raw === null) return secrets;
  if (!isObject(raw)) throw new BadUserInputError("secrets is an object of field names and values.", "secrets");
  for (const [field, value] of Object.entries(raw)) {
    if (typeof value !== "string") throw new BadUserInputError(`${field} is text.`, field);
    const isSecret = field === "password" || (field.startsWith("extra.") && isSecretExtraKey(adapter, field.slice("extra.".length)));
    if (!isSecret) throw new BadUserInputError(`${field} is not a secret field of ${type} connections on this server.`, field);
    secrets[field] = value;
  }
  return secrets;
}

function plainExtra(raw: unknown): JsonObject {
  if (raw === undefined || raw === null) return emptyObject();
  if (!isObject(raw)) throw new BadUserInputError("extra must be a JSON object.", "extra");
  return raw;
}

function withSecretExtras(extra: JsonObject, secrets: Secrets): JsonObject {
  const merged: JsonObject = Object.assign(emptyObject(), extra);
  for (const [field, value] of Object.entries(secrets)) if (field.startsWith("extra.")) merged[field.slice("extra.".length)] = value;
  return merged;
}

function text(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string") throw new BadUserInputError(`${field} is text.`, field);
  return value;
}

function port(value: unknown): number | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number") throw new BadUserInputError("port is a number.", "port");
  return value;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function notABundle(why: string): BadUserInputError {
  return new BadUserInputError(`The bundle opened, but ${why}.`, "bundle");
}
