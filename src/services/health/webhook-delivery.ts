/**
 * Delivering webhook messages from the outbox ("WebhookOutbox", written by webhooks.ts in the
 * transaction that stored the status change), in any process:
 *
 * - A pass claims due messages with FOR UPDATE SKIP LOCKED in one statement that also counts
 *   the attempt and moves nextAttemptAt past the attempt's deadline (a lease): two processes
 *   never make the same attempt, and a process that dies mid-attempt leaves the message due
 *   again once the lease ends, to be tried as the next attempt by whichever process is up.
 * - Each attempt is one POST through the egress policy under its own deadline, signed with the
 *   webhook's secret, recorded as a "WebhookDelivery" row: written SENDING by the claim itself,
 *   then DELIVERED, FAILED or REFUSED. An attempt whose process died is marked FAILED
 *   ("interrupted") by the claim of the next one, so every attempt made is on record.
 * - After a FAILED attempt the message waits 1 s × 4^(n−1) (at most an hour) while attempts
 *   are left; a DELIVERED or REFUSED one (or the last) removes it from the outbox. The write
 *   names the attempt it claimed, so a late writer never undoes a newer claim.
 * - prune() keeps the newest `keptPerWebhook` attempt rows of each webhook and none older than
 *   `keptDays`.
 *
 * Delivery is at least once: a process killed after the receiver answered but before the row
 * was written sends that message again as its next attempt. Receivers deduplicate on the
 * message id (`X-Patchbay-Delivery`, also `id` in the body).
 */
import { isHttpFailure, httpRequest } from "../../adapters/common/http-request";
import type { Egress } from "../../adapters/types";
import type { Keyring } from "../../crypto/keyring";
import { openSecrets, sealedKeyVersion } from "../../crypto/sealed-secrets";
import type { Db } from "../../db/prisma";
import type { Sql, Statement } from "../../db/sql";
import type { Logger } from "../../log";
import { signBody, webhookSealContext } from "./webhooks";

export interface DeliveryOptions {
  egress: Egress;
  /** Deadline of one attempt. */
  timeoutMs: number;
  /** Attempts per message, the first included (1 to 20). */
  maxAttempts: number;
  /** Attempt rows kept per webhook, newest first. */
  keptPerWebhook: number;
  /** Attempt rows older than this are deleted. */
  keptDays: number;
}

/** Messages claimed per pass; a full pass asks for another at once. */
const CLAIM_PER_PASS = 20;
const FIRST_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 3_600_000;
/** The lease past an attempt's deadline before another process may try the message again. */
const LEASE_MARGIN_MS = 30_000;
const PRUNE_BATCH = 5_000;

/** How long the message waits after failed attempt `attempt` (1-based). */
export function backoffAfter(attempt: number): number {
  return Math.min(FIRST_BACKOFF_MS * 4 ** (attempt - 1), MAX_BACKOFF_MS);
}

interface Claimed {
  id: string;
  webhookId: string;
  workspaceId: string;
  connectionId: string;
  environment: string | null;
  oldStatus: "SUCCESS" | "FAILURE";
  newStatus: "SUCCESS" | "FAILURE";
  body: string;
  attempts: number;
  createdAt: Date;
  url: string;
  secretCiphertext: Uint8Array;
  /** The attempt's row, written SENDING by the claim; null when no attempt is left. */
  deliveryId: string | null;
}

/** How an attempt cut short by its process's end reads in the record. */
export const INTERRUPTED = "Interrupted: the process making this attempt stopped before it was answered.";

const CLAIM: Statement = {
  name: "webhook-outbox-claim",
  text: `
    WITH due AS (
      SELECT "id" FROM "WebhookOutbox"
      WHERE "nextAttemptAt" <= now()
      ORDER BY "nextAttemptAt"
      LIMIT $1
      FOR UPDATE SKIP LOCKED
    ), claimed AS (
      UPDATE "WebhookOutbox" o
      SET "attempts" = o."attempts" + 1, "nextAttemptAt" = now() + make_interval(secs => $2::double precision / 1000)
      FROM due WHERE o."id" = due."id"
      RETURNING o.*
    ), interrupted AS (
      UPDATE "WebhookDelivery" d SET "outcome" = 'FAILED', "error" = $4
      FROM claimed c
      WHERE d."messageId" = c."id" AND d."workspaceId" = c."workspaceId" AND d."outcome" = 'SENDING'
    ), recorded AS (
      INSERT INTO "WebhookDelivery" ("id", "webhookId", "workspaceId", "messageId", "connectionId", "environment", "oldStatus", "newStatus", "attempt", "outcome", "at")
      SELECT gen_random_uuid()::text, c."webhookId", c."workspaceId", c."id", c."connectionId", c."environment", c."oldStatus", c."newStatus", c."attempts", 'SENDING', now()
      FROM claimed c WHERE c."attempts" <= $3
      RETURNING "id", "messageId"
    )
    SELECT c.*, w."url", w."secretCiphertext", r."id" AS "deliveryId"
    FROM claimed c
    JOIN "Webhook" w ON w."id" = c."webhookId" AND w."workspaceId" = c."workspaceId"
    LEFT JOIN recorded r ON r."messageId" = c."id"`,
};

const PRUNE_OLD: Statement = {
  name: "webhook-delivery-prune-old",
  text: `
    DELETE FROM "WebhookDelivery" WHERE "id" IN (
      SELECT "id" FROM "WebhookDelivery" WHERE "at" < now() - make_interval(days => $1) LIMIT $2
    )`,
};

const PRUNE_EXCESS: Statement = {
  name: "webhook-delivery-prune-excess",
  text: `
    DELETE FROM "WebhookDelivery" WHERE "id" IN (
      SELECT "id" FROM (
        SELECT "id", row_number() OVER (PARTITION BY "webhookId" ORDER BY "at" DESC, "attempt" DESC, "id" DESC) AS n
        FROM "WebhookDelivery"
      ) ranked
      WHERE ranked.n > $1
      LIMIT $2
    )`,
};

type Outcome = { outcome: "DELIVERED" | "FAILED" | "REFUSED"; statusCode: number | null; error: string | null };

export class WebhookDelivery {
  private readonly stopping = new AbortController();
  /** Attempts made by this process (tests and the log). */
  attemptsMade = 0;

  constructor(
    private readonly db: Db,
    private readonly sql: Sql,
    private readonly keyring: Keyring,
    private readonly options: DeliveryOptions,
    private readonly logger: Logger,
  ) {}

  /** One pass: claims the due messages and makes one attempt at each; true when it claimed a full batch. */
  async runOnce(): Promise<boolean> {
    if (this.stopping.signal.aborted) return false;
    const lease = this.options.timeoutMs + LEASE_MARGIN_MS;
    const claimed = await this.sql.rows<Claimed>(CLAIM, [CLAIM_PER_PASS, lease, this.options.maxAttempts, INTERRUPTED]);
    await Promise.all(claimed.map((message) => this.attempt(message)));
    return claimed.length === CLAIM_PER_PASS;
  }

  /** Ends attempts in flight (recorded as failed, retried later by any process). */
  stop(): void {
    this.stopping.abort();
  }

  /** Deletes attempt rows beyond the newest `keptPerWebhook` of each webhook and those older than `keptDays`. */
  async prune(): Promise<number> {
    let deleted = 0;
    for (const [statement, limit] of [
      [PRUNE_OLD, this.options.keptDays],
      [PRUNE_EXCESS, this.options.keptPerWebhook],
    ] as const) {
      for (;;) {
        const result = await this.sql.pool.query({ text: statement.text, values: [limit, PRUNE_BATCH] });
        deleted += result.rowCount ?? 0;
        if ((result.rowCount ?? 0) < PRUNE_BATCH || this.stopping.signal.aborted) break;
      }
    }
    return deleted;
  }

  private async attempt(message: Claimed): Promise<void> {
    if (message.deliveryId === null) {
      // Its last attempt was interrupted (now on record as such): nothing is left to try.
      await this.db.webhookOutbox.deleteMany({ where: { id: message.id, attempts: message.attempts } });
      return;
    }
    let result: Outcome;
    try {
      const secret = await this.secretOf(message);
      const headers = {
        "content-type": "application/json",
        "x-patchbay-signature": signBody(secret, message.body),
        "x-patchbay-timestamp": String(Math.floor(Date.parse(JSON.parse(message.body).time) / 1000)),
        "x-patchbay-delivery": message.id,
        "x-patchbay-attempt": String(message.attempts),
      };
      result = await this.post(new URL(message.url), message.body, headers);
    } catch (error) {
      this.logger.warn("a webhook attempt could not be made", { error, webhookId: message.webhookId, workspaceId: message.workspaceId });
      result = { outcome: "FAILED", statusCode: null, error: "The delivery could not be prepared (the signing key is unavailable)." };
    }
    this.attemptsMade++;
    const last = result.outcome !== "FAILED" || message.attempts >= this.options.maxAttempts;
    const claim = { id: message.id, attempts: message.attempts };
    try {
      await this.db.$transaction([
        this.db.webhookDelivery.updateMany({ where: { id: message.deliveryId, workspaceId: message.workspaceId, outcome: "SENDING" }, data: { ...result, at: new Date() } }),
        last
          ? this.db.webhookOutbox.deleteMany({ where: claim })
          : this.db.webhookOutbox.updateMany({ where: claim, data: { nextAttemptAt: new Date(Date.now() + backoffAfter(message.attempts)) } }),
      ]);
    } catch (error) {
      // The lease brings the message back: at worst it is sent once more.
      this.logger.warn("recording a webhook attempt failed", { error, webhookId: message.webhookId, workspaceId: message.workspaceId });
    }
  }

  private async secretOf(message: Claimed): Promise<string> {
    const blob = Buffer.from(message.secretCiphertext);
    const key = await this.keyring.version(message.workspaceId, sealedKeyVersion(blob));
    return openSecrets(key, blob, { workspaceId: message.workspaceId, connectionId: webhookSealContext(message.webhookId) }).secret;
  }

  private async post(url: URL, body: string, headers: Record<string, string>): Promise<Outcome> {
    const { timeoutMs, egress } = this.options;
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopping.signal]);
    try {
      const answer = await httpRequest({ signal, timeoutMs, egress, sqliteRoot: null }, { url, method: "POST", body, headers, followRedirects: false, verifyTls: true });
      if (isHttpFailure(answer)) {
        return { outcome: answer.code === "EGRESS_DENIED" ? "REFUSED" : "FAILED", statusCode: null, error: `${answer.code}: ${answer.message}`.slice(0, 500) };
      }
      const ok = answer.status >= 200 && answer.status < 300;
      return { outcome: ok ? "DELIVERED" : "FAILED", statusCode: answer.status, error: ok ? null : `The receiver answered ${answer.status}.` };
    } catch (error) {
      if (this.stopping.signal.aborted) return { outcome: "FAILED", statusCode: null, error: "Interrupted: the process was shutting down." };
      return { outcome: "FAILED", statusCode: null, error: signal.aborted ? `No answer within ${timeoutMs} ms.` : String((error as Error)?.message ?? error).slice(0, 500) };
    }
  }
}
