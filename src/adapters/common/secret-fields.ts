/**
 * Which of a type's fields hold secrets, read from its field specs. `password` is always
 * secret, whatever a spec says, so a type cannot forget to protect it.
 */
import type { ConnectionSettings, FieldSpec } from "../types";

const EXTRA_PREFIX = "extra.";

export function isSecretName(fields: readonly FieldSpec[], fieldName: string): boolean {
  if (fieldName === "password") return true;
  return fields.some((field) => field.name === fieldName && field.secret === true);
}

/** The keys inside `extra` (without the `extra.` prefix) whose values are secret. */
export function secretExtraKeysOf(fields: readonly FieldSpec[]): string[] {
  return fields
    .filter((field) => field.secret === true && field.name.startsWith(EXTRA_PREFIX))
    .map((field) => field.name.slice(EXTRA_PREFIX.length));
}

/** Every secret value present in the settings, as strings, for scrubbing messages. */
export function secretValuesOf(fields: readonly FieldSpec[], settings: ConnectionSettings): string[] {
  const values: unknown[] = [settings.password, ...secretExtraKeysOf(fields).map((key) => settings.extra[key])];
  return values.flatMap((value) => {
    if (value === null || value === undefined || value === "") return [];
    return [typeof value === "string" ? value : JSON.stringify(value)];
  });
}
