/**
 * Stored overrides: reading them back as values (secrets opened only for the paths that use
 * them), the overlay a resolve or a test in an environment applies, and the repointing
 * rule's question about overrides when a connection itself moves. No policy here: callers
 * are the services that already checked it.
 */
import { changesDestination } from "../../adapters/registry";
import type { Db, DbOrTx } from "../../db/prisma";
import type { ConnectionOverride, OverrideTestResult } from "../../generated/prisma/client";
import { adapterFor, type ConnectionDraft, type JsonObject, settingsOf } from "./draft";
import { effectiveDraft, NO_OVERRIDE, type OverrideValues } from "./override-draft";
import type { ConnectionSecrets } from "./secrets";
import type { StoredOverride } from "./store";

export class OverrideStore {
  constructor(
    private readonly db: Db,
    private readonly secrets: ConnectionSecrets,
  ) {}

  /** The override of one connection in one environment, or null. */
  find(workspaceId: string, connectionId: string, environment: string, db: DbOrTx = this.db): Promise<ConnectionOverride | null> {
    return db.connectionOverride.findFirst({ where: { workspaceId, connectionId, environment } });
  }

  /** Every override of these connections (already visible to the caller), by environment name. */
  async ofConnections(connections: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<ConnectionOverride[][]> {
    if (connections.length === 0) return [];
    const rows = await this.db.connectionOverride.findMany({
      where: { connectionId: { in: connections.map((c) => c.id) }, workspaceId: { in: [...new Set(connections.map((c) => c.workspaceId))] } },
      orderBy: [{ connectionId: "asc" }, { environment: "asc" }],
    });
    const byConnection = new Map<string, ConnectionOverride[]>();
    for (const row of rows) byConnection.set(row.connectionId, [...(byConnection.get(row.connectionId) ?? []), row]);
    return connections.map((c) => (byConnection.get(c.id) ?? []).filter((r) => r.workspaceId === c.workspaceId));
  }

  /** The stored override with its secrets opened. */
  async valuesOf(row: ConnectionOverride): Promise<OverrideValues> {
    return {
      host: row.host,
      port: row.port,
      schema: row.schema,
      login: row.login,
      extra: (row.extra ?? {}) as JsonObject,
      secrets: await this.secrets.open(row),
    };
  }

  /** Every override of these connections with its secrets opened, by environment name: their part of a StoredState. */
  async storedOf(connections: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<StoredOverride[][]> {
    const rows = await this.ofConnections(connections);
    return Promise.all(rows.map((list) => Promise.all(list.map(async (row) => ({ id: row.id, environment: row.environment, ...(await this.valuesOf(row)) })))));
  }

  /**
   * The connection as `environment` sees it: one indexed lookup, and a decryption only when
   * the override holds secrets. A connection without an override there is its own values.
   */
  async overlay(workspaceId: string, connectionId: string, base: ConnectionDraft, environment: string): Promise<ConnectionDraft> {
    const row = await this.find(workspaceId, connectionId, environment);
    return row ? effectiveDraft(base, await this.valuesOf(row)) : base;
  }

  /**
   * For a change of the connection itself from `before` to `after`: the secrets of overrides
   * that would now travel somewhere new, as `<environment>: <field>`. The repointing rule
   * (DESIGN.md) applies to them as to the connection's own, and they cannot be typed again in
   * an updateConnection, so a caller who may not read them cannot make that change.
   */
  async secretsRepointedWith(workspaceId: string, connectionId: string, before: ConnectionDraft, after: ConnectionDraft): Promise<string[]> {
    const rows = await this.db.connectionOverride.findMany({
      where: { workspaceId, connectionId, NOT: { secretFields: { isEmpty: true } } },
      orderBy: { environment: "asc" },
    });
    const moved: string[] = [];
    for (const row of rows) {
      // Only which fields it holds matters here, not their values: no decryption.
      const values: OverrideValues = { ...(await this.plainValuesOf(row)) };
      const was = effectiveDraft(before, values);
      const will = effectiveDraft(after, values);
      if (after.type !== before.type || changesDestination(adapterFor(after.type), settingsOf(was), settingsOf(will))) {
        for (const field of row.secretFields) moved.push(`${row.environment}: ${field}`);
      }
    }
    return moved;
  }

  /** Newest test result of each override, or null. */
  async lastTests(overrides: ReadonlyArray<{ id: string; workspaceId: string }>): Promise<Array<OverrideTestResult | null>> {
    if (overrides.length === 0) return [];
    const rows = await this.db.$queryRaw<OverrideTestResult[]>`
      SELECT t.*
      FROM unnest(${overrides.map((o) => o.id)}::text[], ${overrides.map((o) => o.workspaceId)}::text[]) AS wanted(id, workspace_id)
      CROSS JOIN LATERAL (
        SELECT * FROM "OverrideTestResult" r
        WHERE r."overrideId" = wanted.id AND r."workspaceId" = wanted.workspace_id
        ORDER BY r."testedAt" DESC, r."id" DESC
        LIMIT 1
      ) AS t`;
    const byOverride = new Map(rows.map((row) => [row.overrideId, row]));
    return overrides.map((o) => byOverride.get(o.id) ?? null);
  }

  /** The override's fields with its secret fields present by name only (placeholder values). */
  private async plainValuesOf(row: ConnectionOverride): Promise<OverrideValues> {
    const secrets: Record<string, string> = {};
    for (const field of row.secretFields) secrets[field] = "";
    return { ...NO_OVERRIDE, host: row.host, port: row.port, schema: row.schema, login: row.login, extra: (row.extra ?? {}) as JsonObject, secrets };
  }
}
