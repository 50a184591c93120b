/**
 * Statements on the process's pg pool directly, for the hot paths (DESIGN.md, "Persistence"):
 * the token check, resolve, the connection page and a test's writes. Prisma serves everything
 * else. Each statement is a fixed, parameterised text with a name, so PostgreSQL parses and
 * plans it once per connection (turn naming off with PATCHBAY_DB_PREPARED_STATEMENTS=0 behind
 * a pooler that cannot keep prepared statements, such as PgBouncer before 1.21 in transaction
 * mode). The pool's deadlines (db/pool.ts) apply to every one of them.
 *
 * Timestamps: Prisma's DateTime columns are `timestamp without time zone` holding UTC, which
 * pg would read as local time; they are read as UTC here, and written as ISO strings cast with
 * `::timestamptz AT TIME ZONE 'UTC'`.
 */
import pg from "pg";

export interface Statement {
  /** Unique per text: a prepared statement's name. */
  name: string;
  text: string;
}

export interface SqlOptions {
  /** Name statements so the server keeps them prepared (default true). */
  prepared?: boolean;
  /** Called once per statement sent (tests count them, as they count Prisma's). */
  onQuery?: (sql: string) => void;
}

type Queryable = pg.Pool | pg.PoolClient;

const TIMESTAMP_OID = 1114;
const TIMESTAMP_ARRAY_OID = 1115;

const utcTimestamp = (text: string): Date => new Date(`${text.replace(" ", "T")}Z`);

const types = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID) return utcTimestamp;
    if (oid === TIMESTAMP_ARRAY_OID) {
      const parseArray = pg.types.getTypeParser(1009 as never) as (text: string) => Array<string | null>;
      return (text: string) => parseArray(text).map((item) => (item === null ? null : utcTimestamp(item)));
    }
    return pg.types.getTypeParser(oid as never, format as never);
  },
};

export class Sql {
  private readonly prepared: boolean;
  private readonly onQuery?: (sql: string) => void;

  constructor(
    readonly pool: pg.Pool,
    options: SqlOptions = {},
  ) {
    this.prepared = options.prepared ?? true;
    this.onQuery = options.onQuery;
  }

  /** Runs one statement on the pool (or on `client`, inside its transaction); returns its rows. */
  async rows<Row>(statement: Statement, values: readonly unknown[], client: Queryable = this.pool): Promise<Row[]> {
    this.onQuery?.(statement.text);
    const config = { text: statement.text, values: values as unknown[], types, ...(this.prepared ? { name: statement.name } : {}) };
    const result = await client.query(config as pg.QueryConfig);
    return result.rows as Row[];
  }

  /** Runs `fn` in a transaction on one pooled connection; rolls back when it throws. */
  async transaction<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    // A connection lost mid-transaction also emits "error" on the client, which the pool only
    // listens for while the client is idle: without this the process would die of it. The
    // statement in flight fails on its own, and the client is discarded below.
    const onError = () => (broken = true);
    client.on("error", onError);
    try {
      this.onQuery?.("BEGIN");
      await client.query("BEGIN");
      const result = await fn(client);
      this.onQuery?.("COMMIT");
      await client.query("COMMIT");
      return result;
    } catch (error) {
      this.onQuery?.("ROLLBACK");
      await client.query("ROLLBACK").catch(() => (broken = true));
      throw error;
    } finally {
      // A connection whose rollback failed is in an unknown state: it is closed, not reused.
      client.off("error", onError);
      client.release(broken || undefined);
    }
  }
}

/** A Date as a statement parameter for a `timestamp without time zone` column holding UTC. */
export function utc(date: Date): string {
  return date.toISOString();
}
