/**
 * The connection page in one statement on pg (DESIGN.md, "Persistence"): for each of one or
 * more workspaces, a page of its connections by name, each with its newest test result and its
 * last use, and the number of its connections the filters match. Every part is scoped by the
 * workspace, and no workspace's rows are read past its page.
 */
import type { Sql, Statement } from "../../db/sql";
import type { Connection, TestResult } from "../../generated/prisma/client";

/** A connection as pages show it: every column but the sealed secrets. */
export type ConnectionSummary = Omit<Connection, "secretCiphertext">;

/** What the page's statement already read for a row, so its fields need no statement of their own. */
export interface Prefetched {
  lastTest: TestResult | null;
  /** The newest use recorded in the database (ConnectionUsage), before this process's unflushed counts. */
  lastUse: Date | null;
}

export type ListedConnection = ConnectionSummary & { prefetched: Prefetched };

export interface ListingFilter {
  type: string | null;
  /** Already escaped for LIKE (backslash before \ % _). */
  search: string | null;
  /** Names after this one (the cursor). */
  after: string | null;
}

export const SUMMARY_COLUMNS = `c."id", c."workspaceId", c."name", c."type", c."description", c."host", c."port", c."schema", c."login",
  c."extra", c."secretFields", c."keyVersion", c."version", c."createdAt", c."updatedAt", c."lastUsedAt"`;

const TEST_COLUMNS = ["id", "workspaceId", "connectionId", "status", "errorCode", "message", "latencyMs", "serverVersion", "testedAt", "actorKind", "actorId"] as const;

/** One statement text per combination of filters, each prepared once. */
const statements = new Map<string, Statement>();

function statementFor(filter: ListingFilter): Statement {
  const key = `${filter.type !== null ? "t" : ""}${filter.search !== null ? "s" : ""}${filter.after !== null ? "a" : ""}`;
  let statement = statements.get(key);
  if (statement) return statement;
  // $1 workspaces, $2 rows to read per workspace, then the filters in this order.
  let next = 2;
  const param = () => `$${++next}`;
  const matches: string[] = [];
  if (filter.type !== null) matches.push(`c."type" = ${param()}`);
  if (filter.search !== null) {
    const pattern = `'%' || ${param()} || '%'`;
    matches.push(`(c."name" ILIKE ${pattern} OR c."description" ILIKE ${pattern} OR c."host" ILIKE ${pattern})`);
  }
  const matching = [`c."workspaceId" = w.id`, ...matches].join(" AND ");
  const afterCursor = filter.after !== null ? ` AND c."name" > ${param()}` : "";
  const text = `
    SELECT w.id AS "pageOf", total."count" AS "totalCount", page.*
    FROM unnest($1::text[]) WITH ORDINALITY AS w(id, position)
    CROSS JOIN LATERAL (SELECT count(*)::int AS "count" FROM "Connection" c WHERE ${matching}) AS total
    LEFT JOIN LATERAL (
      SELECT ${SUMMARY_COLUMNS},
        -- Reached through c, a row of the workspace (its usage rows are its own, by foreign key):
        -- a second condition on u."workspaceId" made the planner AND in the whole workspace's index.
        (SELECT u."lastUsedAt" FROM "ConnectionUsage" u WHERE u."connectionId" = c."id"
         ORDER BY u."lastUsedAt" DESC LIMIT 1) AS "lastUse",
        ${TEST_COLUMNS.map((column) => `t."${column}" AS "test_${column}"`).join(", ")}
      FROM "Connection" c
      -- The workspace is checked on the row found, not in the lookup: inside it, the planner
      -- ANDed in the whole workspace's index for every row of the page (3,000 entries each at
      -- 1,000 connections) and sorted, instead of reading the newest entry of (connectionId,
      -- testedAt DESC, id DESC). A result's connection is its own, by foreign key.
      LEFT JOIN LATERAL (
        SELECT * FROM "TestResult" r
        WHERE r."connectionId" = c."id"
        ORDER BY r."testedAt" DESC, r."id" DESC
        LIMIT 1
      ) AS t ON t."workspaceId" = c."workspaceId"
      WHERE ${matching}${afterCursor}
      ORDER BY c."name"
      LIMIT $2
    ) AS page ON true
    ORDER BY w.position, page."name"`;
  statement = { name: `connection-pages-${key || "all"}`, text };
  statements.set(key, statement);
  return statement;
}

type PageRow = ConnectionSummary & { pageOf: string; totalCount: number; lastUse: Date | null } & Record<`test_${(typeof TEST_COLUMNS)[number]}`, unknown>;

export interface Listing {
  rows: ListedConnection[];
  totalCount: number;
}

/** For each workspace, up to `limit` connections after the cursor, and how many match the filters in all. */
export async function listConnections(
  sql: Sql,
  workspaceIds: readonly string[],
  filter: ListingFilter,
  limit: number,
): Promise<Map<string, Listing>> {
  const values: unknown[] = [[...workspaceIds], limit];
  if (filter.type !== null) values.push(filter.type);
  if (filter.search !== null) values.push(filter.search);
  if (filter.after !== null) values.push(filter.after);
  const found = await sql.rows<PageRow>(statementFor(filter), values);
  const listings = new Map<string, Listing>(workspaceIds.map((id) => [id, { rows: [], totalCount: 0 }]));
  for (const row of found) {
    const listing = listings.get(row.pageOf)!;
    listing.totalCount = row.totalCount;
    if (row.id === null) continue; // the count's row of an empty page
    const { pageOf: _workspace, totalCount: _count, lastUse, ...rest } = row;
    const connection: Record<string, unknown> = {};
    const test: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(rest)) {
      if (key.startsWith("test_")) test[key.slice(5)] = value;
      else connection[key] = value;
    }
    listing.rows.push({
      ...(connection as ConnectionSummary),
      prefetched: { lastTest: test.id === null ? null : (test as unknown as TestResult), lastUse },
    });
  }
  return listings;
}
