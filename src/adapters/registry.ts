/**
 * The connection types this service knows, by registry id, and the checks every type shares.
 * Adding a type is one module and one line in `adapters` below; nothing else branches on type.
 */
import { hostProblem } from "./common/host";
import { isCredentialName, isSecretName, isTokenUrl, secretExtraKeysOf } from "./common/secret-fields";
import { azureBlobAdapter } from "./azure-blob";
import { gcsAdapter } from "./gcs";
import { genericAdapter } from "./generic";
import { httpAdapter } from "./http";
import { imapAdapter } from "./imap";
import { mongodbAdapter } from "./mongodb";
import { mssqlAdapter } from "./mssql";
import { mysqlAdapter } from "./mysql";
import { oauth2Adapter } from "./oauth2";
import { packageIndexAdapter } from "./package-index";
import { postgresAdapter } from "./postgres";
import { redisAdapter } from "./redis";
import { s3Adapter } from "./s3";
import { secretAdapter } from "./secret";
import { smtpAdapter } from "./smtp";
import { sqliteAdapter } from "./sqlite";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec } from "./types";

const adapters = {
  postgres: postgresAdapter,
  mysql: mysqlAdapter,
  http: httpAdapter,
  package_index: packageIndexAdapter,
  s3: s3Adapter,
  mssql: mssqlAdapter,
  mongodb: mongodbAdapter,
  smtp: smtpAdapter,
  imap: imapAdapter,
  sqlite: sqliteAdapter,
  redis: redisAdapter,
  generic: genericAdapter,
  secret: secretAdapter,
  oauth2: oauth2Adapter,
  azure_blob: azureBlobAdapter,
  gcs: gcsAdapter,
} satisfies Record<string, ConnectionAdapter>;

export type AdapterId = keyof typeof adapters;

export function getAdapter(id: string): ConnectionAdapter | undefined {
  return Object.hasOwn(adapters, id) ? adapters[id as AdapterId] : undefined;
}

export function listAdapters(): ConnectionAdapter[] {
  return Object.values(adapters);
}

/**
 * A connection as Airflow-shaped consumers get it (airflowUri, airflowJson, the REST resolve
 * endpoint, Airflow export files): the type's toAirflow() applied to its settings. Name, type,
 * description and secrets stay as they are; an unknown type or one without the hook is unchanged.
 */
export function airflowView<C extends ConnectionSettings & { type: string }>(conn: C): C {
  const adapter = getAdapter(conn.type);
  if (!adapter?.toAirflow) return conn;
  const { host, port, schema, login, password, extra } = conn;
  const view = adapter.toAirflow({ host, port, schema, login, password, extra });
  return { ...conn, host: view.host, port: view.port, schema: view.schema, extra: view.extra };
}

/** Whether a field (`password`, `extra.<key>`, ...) is stored encrypted. `password` always is. */
export function isSecretField(adapter: ConnectionAdapter, fieldName: string): boolean {
  return isSecretName(adapter.fields, fieldName);
}

/** The keys of `extra` (without the `extra.` prefix) whose values are secret. */
export function secretExtraKeys(adapter: ConnectionAdapter): string[] {
  return secretExtraKeysOf(adapter.fields);
}

/**
 * Whether a top-level extra key is stored sealed: declared secret, or undeclared with a
 * credential's name or a value that carries one (src/services/connections/extra-secrets.ts
 * also seals such keys nested deeper).
 */
export function isSecretExtraKey(adapter: ConnectionAdapter, key: string, value?: unknown): boolean {
  const spec = adapter.fields.find((f) => f.name === `extra.${key}`);
  return spec ? spec.secret === true : isCredentialName(key) || isTokenUrl(key, value);
}

/** Extra keys this type knows: its fields' and its knownExtras. */
export function knownExtraKeys(adapter: ConnectionAdapter): Set<string> {
  return new Set([
    ...adapter.fields.filter((f) => f.name.startsWith("extra.")).map((f) => f.name.slice("extra.".length)),
    ...(adapter.knownExtras ?? []),
  ]);
}

/**
 * Whether going from `before` to `after` changes where, or how protected, the secrets are
 * sent: any non-secret field not marked safeToChange, and any extra key the type does not
 * declare (unknown keys are assumed to matter).
 */
export function changesDestination(adapter: ConnectionAdapter, before: ConnectionSettings, after: ConnectionSettings): boolean {
  const declared = new Set<string>(adapter.fields.map((f) => f.name));
  const fieldChanged = adapter.fields.some(
    (field) => !field.secret && !field.safeToChange && !sameValue(valueOf(before, field.name), valueOf(after, field.name)),
  );
  if (fieldChanged) return true;
  for (const common of ["host", "port", "login"] as const) {
    if (!declared.has(common) && !sameValue(before[common], after[common])) return true;
  }
  const extraKeys = new Set([...Object.keys(before.extra ?? {}), ...Object.keys(after.extra ?? {})]);
  return [...extraKeys].some(
    (key) => !declared.has(`extra.${key}`) && !isSecretExtraKey(adapter, key) && !sameValue(before.extra?.[key], after.extra?.[key]),
  );
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
}

/**
 * Every problem with the settings: the generic checks the field specs imply, the host check
 * every type shares, then the type's own. Empty when the settings are valid.
 */
export function validateSettings(adapter: ConnectionAdapter, settings: ConnectionSettings): FieldProblem[] {
  const problems = adapter.fields.flatMap((field) => {
    const message = fieldProblem(field, valueOf(settings, field.name));
    return message ? [{ field: field.name, message }] : [];
  });
  // The type's own rules assume the generic ones hold.
  if (problems.length > 0 || !adapter.validate) return problems;
  return adapter.validate(settings);
}

function valueOf(settings: ConnectionSettings, fieldName: FieldSpec["name"]): unknown {
  return fieldName.startsWith("extra.")
    ? settings.extra?.[fieldName.slice("extra.".length)]
    : settings[fieldName as Exclude<FieldSpec["name"], `extra.${string}`>];
}

function isEmpty(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === "string" && value.trim() === "");
}

function fieldProblem(field: FieldSpec, value: unknown): string | null {
  if (isEmpty(value)) return field.required ? `${field.label} is required.` : null;

  switch (field.kind) {
    case "STRING":
    case "TEXT":
    case "PASSWORD":
      if (typeof value !== "string") return `${field.label} must be text.`;
      break;
    case "INTEGER":
      if (typeof value !== "number" || !Number.isInteger(value)) return `${field.label} must be a whole number.`;
      break;
    case "BOOLEAN":
      if (typeof value !== "boolean") return `${field.label} must be true or false.`;
      break;
    case "SELECT":
      if (typeof value !== "string" || !(field.options ?? []).includes(value)) {
        return `${field.label} must be one of: ${(field.options ?? []).join(", ")}.`;
      }
      break;
    case "JSON":
      break;
  }

  if (field.name === "port" && ((value as number) < 1 || (value as number) > 65535)) {
    return `${field.label} must be between 1 and 65535.`;
  }
  if (field.name === "host" && !field.path) return hostProblem(value as string);
  return null;
}
