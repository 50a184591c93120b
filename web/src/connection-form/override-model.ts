/**
 * An environment's override as a form, built from the same `connectionTypes` specs and checked
 * by the same rules as the connection form (whole numbers, JSON, ...), with one difference: an
 * empty field is not missing, it falls back to the connection's own value. Secrets are never
 * filled in: typed replaces, empty keeps, Clear stops overriding a stored one.
 */
import type { ConnectionPatch, OverrideFieldsFragment } from "../gql/graphql";
import { type FieldErrors, type FieldSpec, type FormState, isExtra, parse, type TypeSpec } from "./model";

/** As the server checks it (README: Environments): dev, staging, prod … */
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function environmentProblem(name: string): string | null {
  if (!name) return "Name the environment, e.g. dev, staging or prod.";
  if (!ENVIRONMENT_NAME.test(name)) return "1 to 64 letters, digits, '_', '.' or '-', starting with a letter or digit.";
  return null;
}

function controlOf(field: FieldSpec, value: unknown): string {
  if (value === null || value === undefined) return "";
  if (field.kind === "BOOLEAN") return value === true || value === "true" ? "true" : "false";
  if (field.kind === "JSON") return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return String(value);
}

/** The form for an environment's override: its own values only, empty where it falls back. */
export function overrideForm(override: OverrideFieldsFragment | null, type: TypeSpec): FormState {
  const extra = (override?.extra ?? {}) as Record<string, unknown>;
  const values: Record<string, string | boolean> = {};
  const declared = new Set<string>();
  for (const field of type.fields) {
    if (isExtra(field.name)) declared.add(field.name.slice("extra.".length));
    if (field.secret) {
      values[field.name] = "";
      continue;
    }
    const stored = isExtra(field.name) ? extra[field.name.slice("extra.".length)] : override?.[field.name as "host" | "port" | "schema" | "login"];
    values[field.name] = controlOf(field, stored);
  }
  const other = Object.fromEntries(Object.entries(extra).filter(([key]) => !declared.has(key)));
  return { name: "", type: type.id, description: "", values, secrets: {}, otherExtra: Object.keys(other).length ? JSON.stringify(other, null, 2) : "" };
}

/**
 * The patch that makes the override hold exactly what the form shows: each plain field its
 * value or null (falls back), `extra` whole (it replaces the override's plain extras), and of
 * the secrets only those typed (replace) or cleared (null); absent ones are kept.
 */
export function toOverridePatch(state: FormState, type: TypeSpec, existing: OverrideFieldsFragment | null): { patch: ConnectionPatch; errors: FieldErrors } {
  const { parsed, errors } = parse(state, type, "override");
  delete errors.name;
  const patch: ConnectionPatch = {};
  for (const name of ["host", "port", "schema", "login"] as const) {
    if (type.fields.some((f) => f.name === name)) (patch as Record<string, unknown>)[name] = parsed.common[name] ?? null;
  }
  if ("password" in parsed.secretCommon) patch.password = parsed.secretCommon.password;
  patch.extra = { ...parsed.extra, ...parsed.secretExtra };
  const holdsSomething =
    ["host", "port", "schema", "login"].some((n) => (patch as Record<string, unknown>)[n] != null) ||
    typeof patch.password === "string" ||
    Object.values(patch.extra as Record<string, unknown>).some((v) => v !== null) ||
    (existing?.secretFields ?? []).some((f) => state.secrets[f] !== "clear");
  if (!holdsSomething && Object.keys(errors).length === 0) {
    errors.form = existing
      ? "This override would replace nothing. Use Remove to make the environment use the connection's values."
      : "Fill in at least one field: the environment uses the connection's value for every field left empty.";
  }
  return { patch, errors };
}
