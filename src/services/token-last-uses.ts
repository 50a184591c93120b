/**
 * When each API token was last used (`ApiToken.lastUsedAt`), written off the request path: a
 * token check only notes the time in memory (at most once a minute per token, see
 * api-tokens.ts), and the notes are written in one statement about every second and on a
 * clean shutdown. A crash loses at most that second's notes; lastUsedAt is informational
 * (minute precision), nothing is decided by it.
 */
import type { Sql, Statement } from "../db/sql";

const WRITE: Statement = {
  name: "token-last-uses",
  text: `
    UPDATE "ApiToken" t
    SET "lastUsedAt" = GREATEST(t."lastUsedAt", u.at::timestamptz AT TIME ZONE 'UTC')
    FROM unnest($1::text[], $2::text[], $3::text[]) AS u(id, workspace_id, at)
    WHERE t."id" = u.id AND t."workspaceId" = u.workspace_id`,
};

interface Use {
  workspaceId: string;
  at: Date;
}

export class TokenLastUses {
  private pending = new Map<string, Use>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  /** The notes being written right now: still applied by readers until the write is done. */
  private inFlight: Map<string, Use> | null = null;

  constructor(
    private readonly sql: Sql,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  start(intervalMs: number): void {
    this.timer = setInterval(() => void this.flush().catch(this.onError), intervalMs);
    this.timer.unref();
  }

  /** Stops the timer and writes what is left. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  record(tokenId: string, workspaceId: string, at: Date): void {
    const known = this.pending.get(tokenId);
    if (!known || known.at < at) this.pending.set(tokenId, { workspaceId, at });
  }

  /** A token row with this process's unwritten last use applied (what a reader here should see). */
  applied<Row extends { id: string; lastUsedAt: Date | null }>(row: Row): Row {
    const noted = [this.pending.get(row.id)?.at, this.inFlight?.get(row.id)?.at].filter((at): at is Date => at !== undefined);
    const pending = noted.length ? new Date(Math.max(...noted.map((at) => at.getTime()))) : null;
    return pending && (!row.lastUsedAt || pending > row.lastUsedAt) ? { ...row, lastUsedAt: pending } : row;
  }

  /** Writes the notes gathered so far in one statement; a failed write keeps them for the next. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing.catch(() => {});
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.inFlight = batch;
    const ids = [...batch.keys()];
    this.writing = this.sql
      .rows(WRITE, [ids, ids.map((id) => batch.get(id)!.workspaceId), ids.map((id) => batch.get(id)!.at.toISOString())])
      .then(
        () => {},
        (error: unknown) => {
          for (const [id, use] of batch) this.record(id, use.workspaceId, use.at);
          throw error;
        },
      )
      .finally(() => {
        this.writing = null;
        this.inFlight = null;
      });
    await this.writing;
  }
}
