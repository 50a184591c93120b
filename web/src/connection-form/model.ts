/**
 * The New/Edit connection form as data, built only from `connectionTypes`: a field's name
 * says where its value goes (`host`, `port`, `schema`, `login`, `password` are columns,
 * `extra.<key>` goes into extra), its kind how it is typed, `secret` that it is write-only.
 * Nothing here knows any particular connection type, so a new adapter needs no change.
 */
import type { ConnectionInput, ConnectionPatch, ConnectionRowFragment, ConnectionTypesQuery } from "../gql/graphql";

export type TypeSpec = ConnectionTypesQuery["connectionTypes"][number];
export type FieldSpec = TypeSpec["fields"][number];

/** What happens to a stored secret on save: kept, replaced by the typed value, or cleared. */
export type SecretAction = "keep" | "replace" | "clear";

export interface FormState {
  name: string;
  type: string;
  description: string;
  /** Each field's value as the control holds it: text, or a checkbox's boolean. */
  values: Record<string, string | boolean>;
  /** Edit only: what to do with each secret field. */
  secrets: Record<string, SecretAction>;
  /** Non-secret extra keys the type does not declare (e.g. from an Airflow import), as JSON. */
  otherExtra: string;
}

export type FieldErrors = Record<string, string>;

const COMMON = new Set(["host", "port", "schema", "login", "password"]);
export const OTHER_EXTRA = "otherExtra";

export function isExtra(name: string): boolean {
  return name.startsWith("extra.");
}

function extraKey(name: string): string {
  return name.slice("extra.".length);
}

/** The text a control starts with for a value of this kind. */
function toControl(field: FieldSpec, value: unknown): string | boolean {
  if (field.kind === "BOOLEAN") return value === true || value === "true";
  if (value === null || value === undefined) return "";
  if (field.kind === "JSON") return typeof value === "string" ? value : JSON.stringify(value, null, 2);
  return String(value);
}

export function newForm(type: TypeSpec, previous?: { state: FormState; type: TypeSpec }): FormState {
  const values: Record<string, string | boolean> = {};
  for (const field of type.fields) {
    if (field.secret) {
      values[field.name] = "";
      continue;
    }
    const fallback = field.name === "port" && field.default == null ? type.defaultPort : field.default;
    values[field.name] = toControl(field, fallback);
    // Switching type keeps what was typed into a field of the same name and kind.
    const old = previous?.type.fields.find((f) => f.name === field.name && f.kind === field.kind && !f.secret);
    if (old && previous) {
      const typed = previous.state.values[old.name];
      const oldDefault = toControl(old, old.name === "port" && old.default == null ? previous.type.defaultPort : old.default);
      if (typed !== undefined && typed !== oldDefault) values[field.name] = typed;
    }
  }
  return {
    name: previous?.state.name ?? "",
    type: type.id,
    description: previous?.state.description ?? "",
    values,
    secrets: {},
    otherExtra: "",
  };
}

export function editForm(connection: ConnectionRowFragment, type: TypeSpec | undefined): FormState {
  const extra = (connection.extra ?? {}) as Record<string, unknown>;
  const values: Record<string, string | boolean> = {};
  const secrets: Record<string, SecretAction> = {};
  const declared = new Set<string>();
  for (const field of type?.fields ?? []) {
    if (isExtra(field.name)) declared.add(extraKey(field.name));
    if (field.secret) {
      values[field.name] = "";
      secrets[field.name] = "keep";
      continue;
    }
    const stored = isExtra(field.name) ? extra[extraKey(field.name)] : connection[field.name as "host" | "port" | "schema" | "login"];
    // A checkbox never stored shows what the adapter will assume.
    values[field.name] = toControl(field, stored === undefined && field.kind === "BOOLEAN" ? field.default : stored);
  }
  const other = Object.fromEntries(Object.entries(extra).filter(([key]) => !declared.has(key)));
  return {
    name: connection.name,
    type: connection.type,
    description: connection.description ?? "",
    values,
    secrets,
    otherExtra: Object.keys(other).length ? JSON.stringify(other, null, 2) : "",
  };
}

/** When the type changes while editing: fields of the new type, stored values where they exist. */
export function retypeEditForm(state: FormState, connection: ConnectionRowFragment, type: TypeSpec): FormState {
  const fresh = editForm({ ...connection, type: type.id }, type);
  for (const field of type.fields) {
    if (field.secret) {
      fresh.secrets[field.name] = state.secrets[field.name] ?? "keep";
      fresh.values[field.name] = state.values[field.name] ?? "";
    } else if (state.values[field.name] !== undefined) {
      fresh.values[field.name] = state.values[field.name];
    } else if (field.name === "port" && type.defaultPort != null && fresh.values.port === "") {
      fresh.values.port = String(type.defaultPort);
    }
  }
  return { ...fresh, name: state.name, description: state.description, otherExtra: state.otherExtra, type: type.id };
}

export interface Parsed {
  common: Record<string, string | number | null>;
  extra: Record<string, unknown>;
  secretCommon: Record<string, string | null>;
  secretExtra: Record<string, string | null>;
}

/**
 * Turns the controls into typed values, collecting every problem a person can fix before
 * asking the server. `secretFilter` says which secret fields take part (New: the typed ones;
 * Edit: those being replaced or cleared).
 */
export function parse(state: FormState, type: TypeSpec, mode: "new" | "edit" | "override"): { parsed: Parsed; errors: FieldErrors } {
  const errors: FieldErrors = {};
  const parsed: Parsed = { common: {}, extra: {}, secretCommon: {}, secretExtra: {} };
  // An override replaces only what it holds: an empty field falls back to the connection's value.
  const override = mode === "override";
  if (!override && !state.name.trim()) errors.name = "Give the connection a name.";

  if (state.otherExtra.trim()) {
    try {
      const other = JSON.parse(state.otherExtra);
      if (other === null || typeof other !== "object" || Array.isArray(other)) errors[OTHER_EXTRA] = "Enter a JSON object, e.g. {\"key\": \"value\"}.";
      else Object.assign(parsed.extra, other);
    } catch {
      errors[OTHER_EXTRA] = "This is not valid JSON.";
    }
  }

  for (const field of type.fields) {
    const raw = state.values[field.name];
    if (field.secret) {
      // New, and an override: a typed secret replaces, an empty one keeps (an override may also clear).
      const action: SecretAction =
        mode === "edit" ? (state.secrets[field.name] ?? "keep") : raw ? "replace" : override && state.secrets[field.name] === "clear" ? "clear" : "keep";
      if (action === "keep") {
        if (mode === "new" && field.required) errors[field.name] = `${field.label} is required.`;
        continue;
      }
      if (action === "replace" && !raw) {
        errors[field.name] = mode === "new" ? `${field.label} is required.` : `Type the new ${field.label.toLowerCase()}, or choose Keep.`;
        continue;
      }
      const value = action === "clear" ? null : String(raw);
      if (isExtra(field.name)) parsed.secretExtra[extraKey(field.name)] = value;
      else parsed.secretCommon[field.name] = value;
      continue;
    }
    let value: unknown;
    if (field.kind === "BOOLEAN") {
      // An override's checkbox is a choice of three: "" (the connection's value), "true", "false".
      value = override ? (raw === "" || raw === undefined ? null : raw === true || raw === "true") : raw === true;
    } else {
      const text = typeof raw === "string" ? raw.trim() : "";
      if (text === "") {
        if (field.required && !override) errors[field.name] = `${field.label} is required.`;
        value = null;
      } else if (field.kind === "INTEGER") {
        value = Number(text);
        if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value)) errors[field.name] = `${field.label} must be a whole number.`;
      } else if (field.kind === "JSON") {
        try {
          value = JSON.parse(text);
        } catch {
          errors[field.name] = `${field.label} is not valid JSON.`;
        }
      } else {
        value = text;
      }
    }
    if (isExtra(field.name)) {
      if (value !== null) parsed.extra[extraKey(field.name)] = value;
    } else if (COMMON.has(field.name)) {
      parsed.common[field.name] = value as string | number | null;
    }
  }
  return { parsed, errors };
}

export function toInput(state: FormState, type: TypeSpec): { input: ConnectionInput; errors: FieldErrors } {
  const { parsed, errors } = parse(state, type, "new");
  const input: ConnectionInput = {
    name: state.name.trim(),
    type: type.id,
    description: state.description.trim() || null,
    ...parsed.common,
    ...parsed.secretCommon,
    extra: { ...parsed.extra, ...parsed.secretExtra },
  };
  return { input, errors };
}

/**
 * The patch for an edit: only what changed. `extra` replaces the non-secret extras, so when
 * any extra changed it is sent whole; secret extras are sent only to replace (value) or clear
 * (null), and left out to keep them.
 */
export function toPatch(state: FormState, type: TypeSpec, original: ConnectionRowFragment): { patch: ConnectionPatch; errors: FieldErrors } {
  const { parsed, errors } = parse(state, type, "edit");
  const patch: ConnectionPatch = {};
  if (state.name.trim() !== original.name) patch.name = state.name.trim();
  if (type.id !== original.type) patch.type = type.id;
  const description = state.description.trim() || null;
  if (description !== (original.description ?? null)) patch.description = description;
  for (const name of ["host", "port", "schema", "login"] as const) {
    const declared = type.fields.some((f) => f.name === name);
    const value = declared ? (parsed.common[name] ?? null) : null;
    if (value !== (original[name] ?? null)) (patch as Record<string, unknown>)[name] = value;
  }
  if ("password" in parsed.secretCommon) patch.password = parsed.secretCommon.password;
  // An unticked checkbox for a key that was never stored is "unset", not a change to false.
  const storedExtra = (original.extra ?? {}) as Record<string, unknown>;
  for (const field of type.fields) {
    const key = isExtra(field.name) ? extraKey(field.name) : null;
    if (key && field.kind === "BOOLEAN" && !(key in storedExtra) && parsed.extra[key] === (field.default === true)) delete parsed.extra[key];
  }
  const extrasChanged = stableJson(parsed.extra) !== stableJson(original.extra ?? {});
  if (extrasChanged || Object.keys(parsed.secretExtra).length) patch.extra = { ...parsed.extra, ...parsed.secretExtra };
  return { patch, errors };
}

export function isEmptyPatch(patch: ConnectionPatch): boolean {
  return Object.keys(patch).length === 0;
}

function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What SECRET_REQUIRED means for the person editing: the repointing rule (DESIGN.md). */
export function hintFor(result: { errorCode?: string | null }, secretLabel = "password"): string | null {
  if (result.errorCode === "SECRET_REQUIRED") return `Re-enter the ${secretLabel.toLowerCase()} to test against a new host.`;
  return null;
}

/** The label of the secret a test needs again, for the SECRET_REQUIRED hint. */
export function firstSecretLabel(type: TypeSpec | undefined): string {
  return type?.fields.find((f) => f.secret)?.label ?? "password";
}
