/**
 * SQL statements per request, counted by PostgreSQL itself (pg_stat_statements, utility
 * statements such as BEGIN and COMMIT included): send a fixed sequence of requests one at a
 * time to one server to warm its caches (keys, tokens), reset the counters, send the same
 * sequence again, and sum the calls in the bench database: the steady state, not the first
 * touch of each workspace. The harness's own queries run on the `postgres` database and are not counted;
 * anything a server does in the background meanwhile is (none is expected in a second or two).
 */
import type pg from "pg";
import type { RequestShape } from "./load";
import { send } from "./measurements";

export interface StatementCount {
  perRequest: number;
  requests: number;
  /** Each distinct statement with its calls per request, most frequent first. */
  statements: Array<{ perRequest: number; query: string }>;
}

export async function countStatements(
  admin: pg.Client,
  benchOid: number,
  baseUrl: string,
  sequence: () => () => RequestShape,
  requests = 100,
): Promise<StatementCount> {
  const warm = sequence();
  for (let i = 0; i < requests; i++) await send(baseUrl, warm());
  await admin.query("SELECT pg_stat_statements_reset()");
  const next = sequence();
  for (let i = 0; i < requests; i++) {
    const { status } = await send(baseUrl, next());
    if (status !== 200) throw new Error(`HTTP ${status} while counting statements`);
  }
  const { rows } = await admin.query<{ calls: string; query: string }>(
    "SELECT calls::text, query FROM pg_stat_statements WHERE dbid = $1 ORDER BY calls DESC, query",
    [benchOid],
  );
  const total = rows.reduce((sum, r) => sum + Number(r.calls), 0);
  return {
    perRequest: total / requests,
    requests,
    statements: rows.map((r) => ({ perRequest: Number(r.calls) / requests, query: r.query.replace(/\s+/g, " ").slice(0, 160) })),
  };
}
