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
import { type ConnectionDraft, type JsonObject } from "./draft";
import type { ConnectionSecrets } from "./secrets";
import type { Db } from "../../db/prisma";

/** A connection the caller may see: versions are matched on its workspace too. */
export interface VersionedConnection {
  id: string;
  workspaceId: string;
}

/** What made a version. `baseline` is a connection's state from before versions were kept. */
export type VersionAction = "create" | "update" | "upsert" | "import" | "rollback" | "rename" | "baseline";

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

export type Snapshot = SnapshotV1;

export function snapshotOf(draft: ConnectionDraft): Snapshot {
  return {
    format: 1,
    name: draft.name,
    type: draft.type,
    description: draft.description,
    host: draft.host,
    port: draft.port,
    schema: draft.schema,
    login: draft.login,
    extra: draft.extra,
    secretFields: Object.keys(draft.secrets).sort(),
  };
}

/** A stored snapshot read back; an unknown format is damage (or a newer server's row), not an empty state. */
export function readSnapshot(stored: unknown): Snapshot {
  const s = stored as Partial<SnapshotV1> | null;
  if (!s || typeof s !== "object" || s.format !== 1) throw new Error("A stored connection version has a snapshot format this server does not know.");
  return s as SnapshotV1;
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

  /** A stored version's full state, secrets opened; NOT_FOUND when it was never kept or is gone. */
  async draftAt(workspaceId: string, connectionId: string, version: number): Promise<ConnectionDraft> {
    const row = await this.db.connectionVersion.findFirst({ where: { workspaceId, connectionId, version } });
    if (!row) throw new NotFoundError(`Version ${version} of this connection`);
    const snapshot = readSnapshot(row.snapshot);
    const secrets = await this.secrets.openVersion({
      workspaceId,
      connectionId,
      version,
      secretFields: snapshot.secretFields,
      secretCiphertext: row.secretCiphertext,
    });
    return {
      name: snapshot.name,
      type: snapshot.type,
      description: snapshot.description,
      host: snapshot.host,
      port: snapshot.port,
      schema: snapshot.schema,
      login: snapshot.login,
      extra: Object.assign(emptyObject(), snapshot.extra),
      secrets,
    };
  }
}

/** The snapshot as the API shows it: the fields of Connection at that version. */
function publicSnapshot(snapshot: Snapshot, version: number): JsonObject {
  const { format: _format, ...fields } = snapshot;
  // Secret values inside extra are markers in the stored state (extra-secrets.ts): left out here.
  return { ...fields, extra: publicExtra(fields.extra), version };
}
