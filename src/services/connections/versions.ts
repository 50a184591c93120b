/**
 * A connection's history (DESIGN.md, "Connections over time"). Every change stores the full
 * state as a version: the plain fields as a snapshot, the secrets sealed apart with the version
 * number in the AAD (secrets.ts), who made it and which fields changed (secrets by name only).
 * Written only through ConnectionStore (store.ts), in the transaction of the change itself.
 *
 * The snapshot is a versioned JSON shape (`format`): a later format may carry more of the
 * connection (environment overrides) and readers keep understanding the older ones.
 */
import { publicExtra } from "./extra-secrets";
import type { Sql } from "../../db/sql";
import { NotFoundError } from "../../errors";
import { emptyObject } from "../../input/json";
import { pageSize } from "../pagination";
import { type ConnectionDraft, type JsonObject, type Secrets } from "./draft";
import { changedOverrideFields, type EnvironmentValues } from "./override-draft";
import type { ConnectionSecrets } from "./secrets";
import type { Db } from "../../db/prisma";

/** A connection the caller may see: versions are matched on its workspace too. */
export interface VersionedConnection {
  id: string;
  workspaceId: string;
}

/**
 * What made a version. `baseline` is a connection's state from before versions were kept;
 * `override` a change of one environment's values; `bundle` an importBundle.
 */
export type VersionAction = "create" | "update" | "upsert" | "import" | "rollback" | "rename" | "baseline" | "override" | "bundle";

/** The stored snapshot, format 1: a connection's plain fields and the names of its secret fields. */
export interface SnapshotV1 {
  format: 1;
  name: string;
  type: string;
  description: string | null;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  extra: JsonObject;
  secretFields: string[];
}

/** One environment's override in a snapshot: its plain fields, and its secret fields by name. */
export interface SnapshotOverride {
  environment: string;
  host: string | null;
  port: number | null;
  schema: string | null;
  login: string | null;
  extra: JsonObject;
  secretFields: string[];
}

/**
 * Format 2: format 1 and the connection's overrides, by environment name. Their secrets are
 * sealed in the version's one document beside the connection's, under
 * `env:<environment>:<field>` (overrideSecretKey): a connection's own secret fields are
 * `password` and `extra.<path>`, and an environment name has no ':', so the names cannot meet.
 */
export interface SnapshotV2 extends Omit<SnapshotV1, "format"> {
  format: 2;
  overrides: SnapshotOverride[];
}

export type Snapshot = SnapshotV1 | SnapshotV2;

/** A connection's full state: its own values and its overrides by environment. */
export interface StateSnapshotInput {
  draft: ConnectionDraft;
  overrides: readonly EnvironmentValues[];
}

export function snapshotOf(state: StateSnapshotInput): SnapshotV2 {
  const { draft } = state;
  return {
    format: 2,
    name: draft.name,
    type: draft.type,
    description: draft.description,
    host: draft.host,
    port: draft.port,
    schema: draft.schema,
    login: draft.login,
    extra: draft.extra,
    secretFields: Object.keys(draft.secrets).sort(),
    overrides: sortedOverrides(state.overrides).map((o) => ({
      environment: o.environment,
      host: o.host,
      port: o.port,
      schema: o.schema,
      login: o.login,
      extra: o.extra,
      secretFields: Object.keys(o.secrets).sort(),
    })),
  };
}

/** The name of an override's secret field inside a version's sealed document. */
export function overrideSecretKey(environment: string, field: string): string {
  return `env:${environment}:${field}`;
}

/** Every secret of a state as one document: the connection's, then each override's under overrideSecretKey. */
export function versionSecretsOf(state: StateSnapshotInput): Secrets {
  const secrets: Secrets = Object.assign(emptyObject<string>(), state.draft.secrets);
  for (const o of state.overrides) for (const [field, value] of Object.entries(o.secrets)) secrets[overrideSecretKey(o.environment, field)] = value;
  return secrets;
}

export function sortedOverrides<T extends { environment: string }>(overrides: readonly T[]): T[] {
  return [...overrides].sort((a, b) => (a.environment < b.environment ? -1 : a.environment > b.environment ? 1 : 0));
}

/** A stored snapshot read back; an unknown format is damage (or a newer server's row), not an empty state. */
export function readSnapshot(stored: unknown): Snapshot {
  const s = stored as Partial<Snapshot> | null;
  if (!s || typeof s !== "object" || (s.format !== 1 && s.format !== 2)) {
    throw new Error("A stored connection version has a snapshot format this server does not know.");
  }
  if (s.format === 2 && !Array.isArray((s as Partial<SnapshotV2>).overrides)) throw new Error("A stored connection version lacks its overrides.");
  return s as Snapshot;
}

const PLAIN_FIELDS = ["name", "type", "description", "host", "port", "schema", "login"] as const;

/**
 * Names of the fields that differ from the previous state (none: the fields a new connection
 * sets). Secret values are compared, never recorded: a secret appears by its field name.
 */
export function changedFields(before: ConnectionDraft | null, after: ConnectionDraft): string[] {
  const previous: ConnectionDraft = before ?? {
    name: "",
    type: "",
    description: null,
    host: null,
    port: null,
    schema: null,
    login: null,
    extra: emptyObject(),
    secrets: emptyObject(),
  };
  const changed: string[] = [];
  for (const key of PLAIN_FIELDS) if (previous[key] !== after[key]) changed.push(key);
  if (JSON.stringify(previous.extra) !== JSON.stringify(after.extra)) changed.push("extra");
  const secretNames = new Set([...Object.keys(previous.secrets), ...Object.keys(after.secrets)]);
  for (const field of [...secretNames].sort()) if (previous.secrets[field] !== after.secrets[field]) changed.push(field);
  return changed;
}

/**
 * Names of what changed in the environments: `overrides.<environment>` for an environment
 * whose override was added or removed, `overrides.<environment>.<field>` for a field of one
 * that changed (secrets compared, by name only).
 */
export function changedOverrideStates(before: readonly EnvironmentValues[], after: readonly EnvironmentValues[]): string[] {
  const was = new Map(before.map((o) => [o.environment, o]));
  const will = new Map(after.map((o) => [o.environment, o]));
  const changed: string[] = [];
  for (const environment of [...new Set([...was.keys(), ...will.keys()])].sort()) {
    const a = was.get(environment);
    const b = will.get(environment);
    if (!a || !b) changed.push(`overrides.${environment}`);
    else for (const field of changedOverrideFields(a, b)) changed.push(`overrides.${environment}.${field}`);
  }
  return changed;
}

/** A version as the API shows it: never a secret value. */
export interface ConnectionVersionData {
  version: number;
  changedAt: Date;
  changedBy: string;
  changedFields: string[];
  /** The non-secret state at this version: the fields of Connection. */
  snapshot: JsonObject;
}

interface VersionListRow {
  connectionId: string;
  version: number;
  createdAt: Date;
  actorLabel: string;
  changedFields: string[];
  snapshot: unknown;
}

// One statement for a page of connections: each connection's newest `first` versions by its
// primary key, the workspace in the WHERE clause like every statement.
const LIST_VERSIONS = {
  name: "connection_versions_list",
  text: `SELECT v."connectionId", v."version", v."createdAt", v."actorLabel", v."changedFields", v."snapshot"
FROM unnest($1::text[], $2::text[]) AS k(id, ws)
CROSS JOIN LATERAL (
  SELECT * FROM "ConnectionVersion" cv
  WHERE cv."connectionId" = k.id AND cv."workspaceId" = k.ws
  ORDER BY cv."version" DESC
  LIMIT $3
) v`,
};

export class ConnectionVersions {
  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly secrets: ConnectionSecrets,
  ) {}

  /** Newest first, `first` of each (1 to 200), for connections the caller may already see. */
  async listOf(connections: readonly VersionedConnection[], first: number | null | undefined): Promise<ConnectionVersionData[][]> {
    const size = pageSize(first, 20);
    if (connections.length === 0) return [];
    const rows = await this.sql.rows<VersionListRow>(
      LIST_VERSIONS,
      [connections.map((c) => c.id), connections.map((c) => c.workspaceId), size],
    );
    const byConnection = new Map<string, ConnectionVersionData[]>();
    for (const row of rows) {
      const list = byConnection.get(row.connectionId) ?? [];
      list.push({
        version: row.version,
        changedAt: row.createdAt,
        changedBy: row.actorLabel,
        changedFields: row.changedFields,
        snapshot: publicSnapshot(readSnapshot(row.snapshot), row.version),
      });
      byConnection.set(row.connectionId, list);
    }
    return connections.map((c) => byConnection.get(c.id) ?? []);
  }

  /**
   * A stored version's full state, secrets opened; NOT_FOUND when it was never kept or is gone.
   * `overrides` is null for a format-1 version, written before versions held the environments:
   * it does not say what they were.
   */
  async stateAt(workspaceId: string, connectionId: string, version: number): Promise<VersionState> {
    const row = await this.db.connectionVersion.findFirst({ where: { workspaceId, connectionId, version } });
    if (!row) throw new NotFoundError(`Version ${version} of this connection`);
    const snapshot = readSnapshot(row.snapshot);
    const overrides = snapshot.format === 2 ? snapshot.overrides : [];
    const opened = await this.secrets.openVersion({
      workspaceId,
      connectionId,
      version,
      secretFields: [...snapshot.secretFields, ...overrides.flatMap((o) => o.secretFields)],
      secretCiphertext: row.secretCiphertext,
    });
    const pick = (fields: readonly string[], key: (field: string) => string): Secrets => {
      const out: Secrets = emptyObject();
      for (const field of fields) {
        const value = opened[key(field)];
        if (typeof value !== "string") throw new Error("A stored connection version's secrets do not match its snapshot.");
        out[field] = value;
      }
      return out;
    };
    return {
      draft: {
        name: snapshot.name,
        type: snapshot.type,
        description: snapshot.description,
        host: snapshot.host,
        port: snapshot.port,
        schema: snapshot.schema,
        login: snapshot.login,
        extra: Object.assign(emptyObject(), snapshot.extra),
        secrets: pick(snapshot.secretFields, (field) => field),
      },
      overrides:
        snapshot.format === 2
          ? overrides.map((o) => ({
              environment: o.environment,
              host: o.host,
              port: o.port,
              schema: o.schema,
              login: o.login,
              extra: Object.assign(emptyObject(), o.extra),
              secrets: pick(o.secretFields, (field) => overrideSecretKey(o.environment, field)),
            }))
          : null,
    };
  }
}

/** A version's state read back (stateAt). */
export interface VersionState {
  draft: ConnectionDraft;
  /** Null: a format-1 version, which does not record the environments. */
  overrides: EnvironmentValues[] | null;
}

/**
 * The snapshot as the API shows it: the fields of Connection at that version, and from
 * format 2 on its overrides (the fields of ConnectionOverride, secrets by name only).
 */
function publicSnapshot(snapshot: Snapshot, version: number): JsonObject {
  const { format: _format, ...fields } = snapshot;
  // Secret values inside extra are markers in the stored state (extra-secrets.ts): left out here.
  const shown: JsonObject = { ...fields, extra: publicExtra(fields.extra), version };
  if (snapshot.format === 2) shown.overrides = snapshot.overrides.map((o) => ({ ...o, extra: publicExtra(o.extra) }));
  return shown;
}
