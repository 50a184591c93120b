/**
 * One environment's values for a connection, before they are stored: which fields the
 * override replaces (a null plain field and an absent extra or secret fall back to the
 * connection's own), a ConnectionPatch applied to it with the contract's rules, and the
 * effective draft an environment sees. Pure: no database, no keys.
 */
import { changesDestination, isSecretExtraKey } from "../../adapters/registry";
import { isSealedMarker } from "./extra-secrets";
import { BadUserInputError } from "../../errors";
import { emptyObject, isPrototypeKey, textProblem } from "../../input/json";
import type { Repointing } from "../../policy/policy";
import { adapterFor, applyPatch, type ConnectionDraft, type ConnectionPatchData, type JsonObject, type Secrets, settingsOf } from "./draft";

/** dev, staging, prod …: a short name, as safe in a URL query or a file name as a conn_id. */
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export interface OverrideValues {
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  /** Plain extras the override replaces, key by key. */
  extra: JsonObject;
  /** Secret fields the override replaces (`password`, `extra.<key>`). */
  secrets: Secrets;
}

/** An override with the environment it belongs to (a connection's state, a version, a bundle). */
export interface EnvironmentValues extends OverrideValues {
  environment: string;
}

/** The overrides of every environment but `environment`. */
export function othersThan<T extends EnvironmentValues>(overrides: readonly T[], environment: string): T[] {
  return overrides.filter((o) => o.environment !== environment);
}

export const NO_OVERRIDE: OverrideValues = Object.freeze({ host: null, port: null, schema: null, login: null, extra: {}, secrets: {} });

/** The environment name, or BAD_USER_INPUT naming `field`. */
export function checkEnvironment(name: string, field = "environment"): string {
  const problem = textProblem(name);
  if (problem || !ENVIRONMENT_NAME.test(name) || isPrototypeKey(name)) {
    throw new BadUserInputError(
      "An environment name is 1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit (e.g. dev, staging, prod).",
      field,
    );
  }
  return name;
}

/**
 * The connection as an environment sees it: each field the override holds replaces the
 * connection's; extras and secrets key by key. Secrets the connection's type no longer has
 * are left out, as a type change drops them from the connection itself.
 */
export function effectiveDraft(base: ConnectionDraft, override: OverrideValues): ConnectionDraft {
  const adapter = adapterFor(base.type);
  const extra: JsonObject = Object.assign(emptyObject(), base.extra);
  // A secret key's marker comes along so its value goes back where the override put it (key
  // order); a marker whose secret is not applied below is dropped when secrets are merged in.
  for (const [key, value] of Object.entries(override.extra)) if (!isSecretExtraKey(adapter, key) || isSealedMarker(value)) extra[key] = value;
  const secrets: Secrets = Object.assign(emptyObject<string>(), base.secrets);
  for (const [field, value] of Object.entries(override.secrets)) {
    if (field === "password" || isSecretExtraKey(adapter, field.slice("extra.".length))) secrets[field] = value;
  }
  return {
    ...base,
    host: override.host ?? base.host,
    port: override.port ?? base.port,
    schema: override.schema ?? base.schema,
    login: override.login ?? base.login,
    extra,
    secrets,
  };
}

export interface PatchedOverride {
  values: OverrideValues;
  /** What the environment sees before and after. */
  before: ConnectionDraft;
  after: ConnectionDraft;
  /** The repointing rule's view of the change, over what the environment sees. */
  change: Repointing;
  /** The override replaces nothing any more. */
  empty: boolean;
}

/**
 * Applies a ConnectionPatch to an override: an omitted field keeps the override's value, null
 * drops it (the connection's own value shows through again), a value replaces. `extra`
 * replaces the override's plain extras; a secret extra key is set, dropped (null) or kept
 * (absent). Name, type and description belong to the connection, not to an environment.
 */
export function applyOverridePatch(base: ConnectionDraft, stored: OverrideValues, patch: ConnectionPatchData): PatchedOverride {
  for (const field of ["name", "type", "description"] as const) {
    if (patch[field] !== undefined) {
      throw new BadUserInputError(`${field} belongs to the connection and is the same in every environment; change it with updateConnection.`, field);
    }
  }
  // The override's own fields as a draft, so that the connection's checks and keep, clear and
  // replace rules apply to it unchanged; absent values are nulls there.
  const asDraft: ConnectionDraft = { ...base, ...stored, extra: stored.extra, secrets: stored.secrets };
  const { draft, keptSecrets } = applyPatch(asDraft, patch);
  const values: OverrideValues = {
    host: draft.host,
    port: draft.port,
    schema: draft.schema,
    login: draft.login,
    extra: draft.extra,
    secrets: draft.secrets,
  };
  const before = effectiveDraft(base, stored);
  const after = effectiveDraft(base, values);
  const adapter = adapterFor(base.type);
  const repointed = changesDestination(adapter, settingsOf(before), settingsOf(after));
  // Every secret the environment keeps without it being typed again: the override's own that
  // the patch left alone, and the connection's that show through.
  const given = new Set(Object.keys(values.secrets).filter((field) => !keptSecrets.includes(field)));
  const kept = Object.keys(after.secrets).filter((field) => !given.has(field)).sort();
  return { values, before, after, change: { repointed, keptSecrets: kept }, empty: isEmpty(values) };
}

export function isEmpty(values: OverrideValues): boolean {
  return (
    values.host === null &&
    values.port === null &&
    values.schema === null &&
    values.login === null &&
    Object.keys(values.extra).length === 0 &&
    Object.keys(values.secrets).length === 0
  );
}

/** The fields an override replaces, by name (secrets by name only), for audit and diffs. */
export function overriddenFields(values: OverrideValues): string[] {
  const fields: string[] = [];
  for (const key of ["host", "port", "schema", "login"] as const) if (values[key] !== null) fields.push(key);
  for (const key of Object.keys(values.extra).sort()) fields.push(`extra.${key}`);
  for (const key of Object.keys(values.secrets).sort()) fields.push(key);
  return fields;
}

/** Names of fields that differ between two overrides; secrets compared, never recorded. */
export function changedOverrideFields(a: OverrideValues, b: OverrideValues): string[] {
  const changed: string[] = [];
  for (const key of ["host", "port", "schema", "login"] as const) if (a[key] !== b[key]) changed.push(key);
  const extraKeys = new Set([...Object.keys(a.extra), ...Object.keys(b.extra)]);
  for (const key of [...extraKeys].sort()) if (JSON.stringify(a.extra[key]) !== JSON.stringify(b.extra[key])) changed.push(`extra.${key}`);
  const secretKeys = new Set([...Object.keys(a.secrets), ...Object.keys(b.secrets)]);
  for (const key of [...secretKeys].sort()) if (a.secrets[key] !== b.secrets[key]) changed.push(key);
  return changed;
}
