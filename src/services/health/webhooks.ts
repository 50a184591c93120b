/**
 * Webhooks: when a connection's status changes (SUCCESS ↔ FAILURE, from any test, scheduled or
 * manual) every webhook of its workspace gets a POST with a JSON body, signed with HMAC-SHA256
 * of the body under the webhook's secret (`X-Patchbay-Signature: sha256=<hex>`; the body's
 * `time` is also sent as `X-Patchbay-Timestamp`, so a receiver can refuse old ones). The secret
 * is shown once, at creation, and sealed with the workspace key at rest. Deliveries go through
 * the egress policy (a refused address gets no packet), each attempt under its own deadline,
 * retried with backoff; every attempt is a row with its outcome. The body never holds a secret:
 * the message is the stored test result's, already scrubbed of the connection's secrets.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { actingUserId } from "../../auth/actor";
import { isHttpFailure, httpRequest } from "../../adapters/common/http-request";
import type { Egress } from "../../adapters/types";
import type { Keyring } from "../../crypto/keyring";
import { openSecrets, sealedKeyVersion, sealSecrets } from "../../crypto/sealed-secrets";
import type { Db } from "../../db/prisma";
import { BadUserInputError, NotFoundError } from "../../errors";
import type { Webhook, WebhookDelivery } from "../../generated/prisma/client";
import type { Logger } from "../../log";
import type { Caller } from "../../policy/caller";
import { recordAudit } from "../audit";

export const MAX_URL_LENGTH = 2048;
const MAX_WEBHOOKS_PER_WORKSPACE = 20;
const MAX_DELIVERIES_LISTED = 100;

/** What a status change tells the webhooks (connections/testing.ts emits it). */
export interface StatusChange {
  workspaceId: string;
  connectionId: string;
  connectionName: string;
  environment: string | null;
  oldStatus: "SUCCESS" | "FAILURE";
  newStatus: "SUCCESS" | "FAILURE";
  code: string | null;
  message: string;
  time: Date;
}

export interface DeliveryOptions {
  egress: Egress;
  /** Deadline of one attempt. */
  timeoutMs: number;
  /** Waits before the second, third, … attempt; attempts = waits + 1. */
  backoffMs: readonly number[];
}

export const DEFAULT_BACKOFF_MS = [1_000, 4_000] as const;

/** The seal context of a webhook's secret: never the same as a connection's. Key rotation reseals with it. */
export function webhookSealContext(webhookId: string): string {
  return `${webhookId}#webhook`;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export class Webhooks {
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
    private readonly options: DeliveryOptions,
    private readonly logger: Logger,
  ) {}

  async list(caller: Caller, workspaceId: string): Promise<Webhook[]> {
    await caller.authorize(workspaceId, "workspace.admin");
    return this.db.webhook.findMany({ where: { workspaceId }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  }

  /** The newest attempts of a webhook already listed to the caller (list checked the workspace). */
  deliveries(webhook: Pick<Webhook, "id" | "workspaceId">, first: number): Promise<WebhookDelivery[]> {
    const take = Math.min(Math.max(Math.trunc(first) || 1, 1), MAX_DELIVERIES_LISTED);
    return this.db.webhookDelivery.findMany({
      where: { webhookId: webhook.id, workspaceId: webhook.workspaceId },
      orderBy: [{ at: "desc" }, { attempt: "desc" }, { id: "desc" }],
      take,
    });
  }

  /** ADMIN and above; the secret is in the answer once and never again. */
  async create(caller: Caller, workspaceId: string, url: string): Promise<{ secret: string; webhook: Webhook }> {
    await caller.authorize(workspaceId, "workspace.admin");
    const checked = checkUrl(url);
    if ((await this.db.webhook.count({ where: { workspaceId } })) >= MAX_WEBHOOKS_PER_WORKSPACE) {
      throw new BadUserInputError(`A workspace has at most ${MAX_WEBHOOKS_PER_WORKSPACE} webhooks.`, "workspaceId");
    }
    const id = randomUUID();
    const secret = `whsec_${randomBytes(32).toString("hex")}`;
    const { version, key } = await this.keyring.current(workspaceId);
    const secretCiphertext = sealSecrets(key, version, { workspaceId, connectionId: webhookSealContext(id) }, { secret });
    const webhook = await this.db.webhook.create({
      data: { id, workspaceId, url: checked.href, secretCiphertext: new Uint8Array(secretCiphertext), keyVersion: version, createdById: actingUserId(caller.signedIn) },
    });
    // The URL's origin only: its path or query may carry a token of the receiver's.
    await recordAudit(this.db, caller, { workspaceId, action: "webhook.create", targetType: "Webhook", targetId: id, details: { origin: checked.origin } });
    return { secret, webhook };
  }

  async delete(caller: Caller, id: string): Promise<boolean> {
    const row = await this.db.webhook.findUnique({ where: { id: String(id).slice(0, 200) } });
    if (!row) throw new NotFoundError("Webhook");
    await caller.authorize(row.workspaceId, "workspace.admin", "Webhook");
    const { count } = await this.db.webhook.deleteMany({ where: { id: row.id, workspaceId: row.workspaceId } });
    if (count > 0) {
      await recordAudit(this.db, caller, { workspaceId: row.workspaceId, action: "webhook.delete", targetType: "Webhook", targetId: row.id, details: { origin: new URL(row.url).origin } });
    }
    return count > 0;
  }

  /** Delivers a status change to the workspace's webhooks in the background (stop() waits). */
  notify(change: StatusChange): void {
    const task = this.deliverAll(change).catch((error: unknown) => this.logger.warn("webhook delivery failed", { error, workspaceId: change.workspaceId }));
    this.running.add(task);
    void task.finally(() => this.running.delete(task));
  }

  /** Ends retries now and waits for attempts in flight (each has its deadline). */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
  }

  private async deliverAll(change: StatusChange): Promise<void> {
    const hooks = await this.db.webhook.findMany({ where: { workspaceId: change.workspaceId } });
    await Promise.all(hooks.map((hook) => this.deliver(hook, change)));
  }

  private async deliver(hook: Webhook, change: StatusChange): Promise<void> {
    const blob = Buffer.from(hook.secretCiphertext);
    const key = await this.keyring.version(hook.workspaceId, sealedKeyVersion(blob));
    const { secret } = openSecrets(key, blob, { workspaceId: hook.workspaceId, connectionId: webhookSealContext(hook.id) });
    const body = JSON.stringify({
      connection: { id: change.connectionId, name: change.connectionName },
      environment: change.environment,
      oldStatus: change.oldStatus,
      newStatus: change.newStatus,
      code: change.code,
      message: change.message,
      time: change.time.toISOString(),
    });
    const headers = {
      "content-type": "application/json",
      "x-patchbay-signature": signBody(secret, body),
      "x-patchbay-timestamp": String(Math.floor(change.time.getTime() / 1000)),
    };
    const attempts = this.options.backoffMs.length + 1;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const outcome = await this.attempt(new URL(hook.url), body, headers);
      await this.db.webhookDelivery.create({
        data: {
          id: randomUUID(),
          webhookId: hook.id,
          workspaceId: hook.workspaceId,
          connectionId: change.connectionId,
          environment: change.environment,
          oldStatus: change.oldStatus,
          newStatus: change.newStatus,
          attempt,
          ...outcome,
        },
      });
      if (outcome.outcome !== "FAILED" || attempt === attempts || this.stopping.signal.aborted) return;
      await sleep(this.options.backoffMs[attempt - 1], this.stopping.signal);
      if (this.stopping.signal.aborted) return;
    }
  }

  private async attempt(url: URL, body: string, headers: Record<string, string>): Promise<{ outcome: string; statusCode: number | null; error: string | null }> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs), this.stopping.signal]);
    try {
      const answer = await httpRequest(
        { signal, timeoutMs: this.options.timeoutMs, egress: this.options.egress, sqliteRoot: null },
        { url, method: "POST", body, headers, followRedirects: false, verifyTls: true },
      );
      if (isHttpFailure(answer)) {
        return { outcome: answer.code === "EGRESS_DENIED" ? "REFUSED" : "FAILED", statusCode: null, error: `${answer.code}: ${answer.message}`.slice(0, 500) };
      }
      const ok = answer.status >= 200 && answer.status < 300;
      return { outcome: ok ? "DELIVERED" : "FAILED", statusCode: answer.status, error: ok ? null : `The receiver answered ${answer.status}.` };
    } catch (error) {
      return { outcome: "FAILED", statusCode: null, error: signal.aborted ? `No answer within ${this.options.timeoutMs} ms.` : String((error as Error)?.message ?? error).slice(0, 500) };
    }
  }
}

/** A webhook URL: http or https, a host, no credentials, at most MAX_URL_LENGTH characters. */
export function checkUrl(raw: string): URL {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_URL_LENGTH) {
    throw new BadUserInputError(`The URL must be 1 to ${MAX_URL_LENGTH} characters.`, "url");
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new BadUserInputError("The URL is not a valid absolute URL.", "url");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new BadUserInputError("The URL must start with https:// or http://.", "url");
  if (!url.hostname) throw new BadUserInputError("The URL needs a host.", "url");
  if (url.username || url.password) throw new BadUserInputError("The URL must not carry a user name or password; the signature authenticates Patchbay.", "url");
  if (/[\u0000-\u001f\u007f]/.test(raw)) throw new BadUserInputError("The URL must not contain control characters.", "url");
  return url;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
