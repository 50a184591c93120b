/**
 * Row counts of every table of a test server's database, to show that a refused request wrote
 * nothing, in any table, including tables added after this helper was written.
 */
import pg from "pg";

/**
 * Bookkeeping that is not the application's data, and usage counts, which the server flushes
 * from memory about once a second whatever request is running, so a resolve made by an earlier
 * test can land in the middle of a later test's window.
 */
const IGNORED = new Set(["_prisma_migrations", "ConnectionUsage"]);

export interface RowCounter {
  /** Table name -> rows, read in one statement (one snapshot). */
  counts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}

export async function openRowCounter(databaseUrl: string, options: { ignore?: string[] } = {}): Promise<RowCounter> {
  const ignored = new Set([...IGNORED, ...(options.ignore ?? [])]);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let statement: string | null = null;
  return {
    async counts() {
      // Listed on first use, once the server has migrated; later tables need a new counter.
      if (!statement) {
        const { rows } = await client.query<{ name: string }>(
          `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
        );
        const tables = rows.map((r) => r.name).filter((name) => !ignored.has(name));
        const quoted = (name: string) => `"${name.replaceAll('"', '""')}"`;
        statement = `SELECT ${tables.map((t) => `(SELECT count(*) FROM ${quoted(t)})::int AS ${quoted(t)}`).join(", ")}`;
      }
      const { rows } = await client.query(statement);
      return rows[0];
    },
    close: () => client.end(),
  };
}

export async function rowCounts(databaseUrl: string): Promise<Record<string, number>> {
  const counter = await openRowCounter(databaseUrl);
  try {
    return await counter.counts();
  } finally {
    await counter.close();
  }
}
