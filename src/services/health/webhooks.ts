/**
 * Webhooks: when a connection's status changes (SUCCESS ↔ FAILURE, from any stored test,
 * scheduled or manual, of the connection or of one environment's override) every webhook of
 * its workspace gets a POST with a JSON body, signed with HMAC-SHA256 of the body under the
 * webhook's secret (`X-Patchbay-Signature: sha256=<hex>`; the body's `time` is also sent as
 * `X-Patchbay-Timestamp`, so a receiver can refuse old ones). The secret is shown once, at
 * creation, and sealed with the workspace key at rest.
 *
 * enqueue() writes one outbox row per webhook in the transaction that stores the result, so a
 * change is never lost to a crash; webhook-delivery.ts delivers them from any process. The
 * body never holds a secret: the message is the stored test result's, already scrubbed of the
 * connection's secrets.
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { actingUserId } from "../../auth/actor";
import type { Keyring } from "../../crypto/keyring";
import { sealSecrets } from "../../crypto/sealed-secrets";
import type { Db, DbOrTx } from "../../db/prisma";
import { BadUserInputError, NotFoundError } from "../../errors";
import type { Webhook, WebhookDelivery } from "../../generated/prisma/client";
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

/** The seal context of a webhook's secret: never the same as a connection's. Key rotation reseals with it. */
export function webhookSealContext(webhookId: string): string {
  return `${webhookId}#webhook`;
}

export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
}

export class Webhooks {
  constructor(
    private readonly db: Db,
    private readonly keyring: Keyring,
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

  /**
   * Queues a status change for every webhook of its workspace, in the caller's transaction
   * (the one that stored the result). The body is fixed here: every attempt sends the same bytes.
   */
  async enqueue(tx: DbOrTx, change: StatusChange): Promise<number> {
    const hooks = await tx.webhook.findMany({ where: { workspaceId: change.workspaceId }, select: { id: true } });
    if (hooks.length === 0) return 0;
    const rows = hooks.map((hook) => {
      const id = randomUUID();
      const body = JSON.stringify({
        id,
        connection: { id: change.connectionId, name: change.connectionName },
        environment: change.environment,
        oldStatus: change.oldStatus,
        newStatus: change.newStatus,
        code: change.code,
        message: change.message,
        time: change.time.toISOString(),
      });
      return {
        id,
        webhookId: hook.id,
        workspaceId: change.workspaceId,
        connectionId: change.connectionId,
        environment: change.environment,
        oldStatus: change.oldStatus,
        newStatus: change.newStatus,
        body,
      };
    });
    await tx.webhookOutbox.createMany({ data: rows });
    return rows.length;
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
