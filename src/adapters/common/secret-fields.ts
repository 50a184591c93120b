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

// Names that say a value is a credential (Airflow's generic connections carry `token`,
// `api_key`, `keyfile_dict`, ...), at any depth of extra.
const CREDENTIAL_NAME =
  /pass(word|wd|phrase)?|secret|token|credential|private[_-]?key|api[_-]?key|access[_-]?key|keyfile|auth[_-]?key|sas[_-]?key|signature/i;
// Values that carry a password by what they hold, whatever else they hold.
const PASSWORD_CARRIERS = new Set(["connection_string", "connectionstring", "conn_string", "key_json", "keyfile_json", "private_key", "dsn", "sqlalchemy_url"]);

/** Whether a key's name says its value is a credential or carries one. */
export function isCredentialName(key: string): boolean {
  return CREDENTIAL_NAME.test(key) || PASSWORD_CARRIERS.has(key.toLowerCase());
}

/** A webhook URL with anything past its origin (Slack, Teams and Discord put the token in the path or query). */
export function isTokenUrl(key: string, value: unknown): boolean {
  if (!/webhook/i.test(key) || typeof value !== "string") return false;
  try {
    const url = new URL(value);
    return url.username !== "" || url.password !== "" || url.search !== "" || url.pathname.replace(/\/+$/, "") !== "";
  } catch {
    return true;
  }
}
