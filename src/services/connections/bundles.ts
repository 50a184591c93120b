/**
 * Moving a workspace's connections between instances: exportBundle writes every connection
 * with its secrets and overrides under a passphrase (src/crypto/passphrase-seal.ts), so the
 * bundle opens on a server with another master key; importBundle shows per connection what
 * would change and applies all of it in one transaction, or nothing. ADMIN and above, people
 * only (a file holding every secret, like exportConnections with includeSecrets); audited.
 *
 * An import writes through ConnectionStore like every other writer: each connection created or
 * changed gets a new version holding its overrides, a name still held as another connection's
 * alias is refused, and a row changed since it was read makes the whole import a CONFLICT.
 * The repointing rule asks nothing of an import: a bundle carries every secret it stores, so
 * none is kept from what was stored before (an importer who may not resolve does not exist:
 * importBundle needs ADMIN).
 */
import { randomUUID } from "node:crypto";
import { isUniqueViolation } from "../../db/errors";
import type { Db } from "../../db/prisma";
import { PassphraseSealError, openWithPassphrase, sealWithPassphrase } from "../../crypto/passphrase-seal";
import { BadUserInputError, ConflictError } from "../../errors";
import type { Connection } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { type AuditEntry, recordAudit, recordAudits } from "../audit";
import { type BundleConnection, readBundleDocument, writeBundleDocument } from "./bundle-document";
import { sameDraft } from "./draft";
import type { ConnectionService } from "./service";
import type { ConnectionStore, StoredState } from "./store";
import { heldMessage } from "./sync";
import { changedFields, changedOverrideStates } from "./versions";
import type { OnConflict } from "./transfer";

/** GraphQL bodies are at most 1 MiB; a bundle is most of one. */
export const MAX_BUNDLE_CHARS = 1000 * 1024;
/** What an opened bundle may inflate to. */
const MAX_DOCUMENT_BYTES = 32 * 1024 * 1024;
const MIN_PASSPHRASE = 12;
const MAX_PASSPHRASE = 1024;

export type BundleOutcome = "CREATED" | "UPDATED" | "UNCHANGED" | "SKIPPED" | "ERROR";

export interface BundleLine {
  name: string;
  outcome: BundleOutcome;
  changedFields: string[];
  message: string | null;
}

export interface BundleReport {
  applied: boolean;
  lines: BundleLine[];
}

export interface ImportBundleArgs {
  bundle: string;
  passphrase: string;
  onConflict: OnConflict;
  dryRun: boolean;
}

interface Planned {
  line: BundleLine;
  incoming?: BundleConnection;
  existing?: StoredState;
}

export class BundleService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly store: ConnectionStore,
  ) {}

  async export(caller: Caller, workspaceId: string, passphrase: string): Promise<string> {
    await caller.authorize(workspaceId, "connection.export_secrets");
    if (passphrase.length < MIN_PASSPHRASE || passphrase.length > MAX_PASSPHRASE) {
      throw new BadUserInputError(`Choose a passphrase of ${MIN_PASSPHRASE} to ${MAX_PASSPHRASE} characters; the bundle holds every secret.`, "passphrase");
    }
    const workspace = await this.db.workspace.findUniqueOrThrow({ where: { id: workspaceId }, select: { slug: true } });
    const rows = await this.db.connection.findMany({ where: { workspaceId }, orderBy: { name: "asc" } });
    const existing = await this.existing(rows);
    const connections: BundleConnection[] = existing.map((e) => ({
      draft: e.draft,
      version: e.row.version,
      overrides: e.overrides.map(({ id: _id, ...values }) => values),
    }));
    const bundle = await sealWithPassphrase(passphrase, writeBundleDocument(workspace.slug, connections));
    if (bundle.length > MAX_BUNDLE_CHARS) {
      throw new BadUserInputError(
        `This workspace's bundle would be ${Math.ceil(bundle.length / 1024)} KiB, more than the ${MAX_BUNDLE_CHARS / 1024} KiB one import accepts.`,
        "workspaceId",
      );
    }
    await recordAudit(this.db, caller, {
      workspaceId,
      action: "bundle.export",
      details: { connections: connections.length, overrides: connections.reduce((n, c) => n + c.overrides.length, 0) },
    });
    return bundle;
  }

  async import(caller: Caller, workspaceId: string, args: ImportBundleArgs): Promise<BundleReport> {
    await caller.authorize(workspaceId, "workspace.admin");
    if (args.bundle.length > MAX_BUNDLE_CHARS) throw new BadUserInputError(`A bundle is at most ${MAX_BUNDLE_CHARS / 1024} KiB.`, "bundle");
    if (args.passphrase.length === 0 || args.passphrase.length > MAX_PASSPHRASE) throw new BadUserInputError("Give the bundle's passphrase.", "passphrase");
    const entries = readBundleDocument(await this.open(args));

    const names = entries.map((e) => e.name);
    const rows = await this.db.connection.findMany({ where: { workspaceId, name: { in: names } } });
    const byName = new Map((await this.existing(rows)).map((e) => [e.row.name, e]));
    // A name to create that is still another connection's former name cannot be taken (aliases.ts).
    const held = await this.connections.aliases.holders(workspaceId, names.filter((name) => !byName.has(name)));
    const plan: Planned[] = entries.map((entry) => {
      if ("error" in entry) return { line: line(entry.name, "ERROR", [], entry.error) };
      const holder = held.get(entry.name);
      if (holder) return { line: line(entry.name, "ERROR", [], heldMessage(entry.name, holder)) };
      return planOne(entry.connection, byName.get(entry.name), args.onConflict);
    });
    const lines = plan.map((p) => p.line);
    if (args.dryRun || lines.some((l) => l.outcome === "ERROR")) return { applied: false, lines };

    await this.apply(caller, workspaceId, plan);
    return { applied: true, lines };
  }

  private async open(args: ImportBundleArgs): Promise<string> {
    try {
      return await openWithPassphrase(args.passphrase, args.bundle, MAX_DOCUMENT_BYTES);
    } catch (error) {
      if (error instanceof PassphraseSealError) throw new BadUserInputError(error.message, error.problem === "NOT_OPENED" ? "passphrase" : "bundle");
      throw error;
    }
  }

  /** Stored connections with their secrets and overrides opened. */
  private existing(rows: Connection[]): Promise<StoredState[]> {
    return this.connections.storedStates(rows);
  }

  /**
   * One transaction through ConnectionStore: every change or none, each a new version of its
   * connection holding its overrides; a row changed since it was read is a CONFLICT.
   */
  private async apply(caller: Caller, workspaceId: string, plan: Planned[]): Promise<void> {
    const toWrite = plan.filter((p) => p.line.outcome === "CREATED" || p.line.outcome === "UPDATED");
    const changes = await Promise.all(
      toWrite.map((p) =>
        this.store.prepare({
          workspaceId,
          id: p.existing?.row.id ?? randomUUID(),
          draft: p.incoming!.draft,
          previous: p.existing ?? null,
          overrides: p.incoming!.overrides,
          action: "bundle",
        }),
      ),
    );
    try {
      await this.db.$transaction(async (tx) => {
        await this.store.write(tx, caller, changes);
        const audits: AuditEntry[] = changes.map((change, i) => ({
          workspaceId,
          action: "connection.import_bundle",
          targetType: "Connection",
          targetId: change.id,
          details: {
            name: change.draft.name,
            type: change.draft.type,
            outcome: change.previous ? "UPDATED" : "CREATED",
            version: change.version,
            changed: toWrite[i].line.changedFields,
          },
        }));
        audits.push({ workspaceId, action: "bundle.import", details: { outcomes: countOutcomes(plan.map((p) => p.line)) } });
        await recordAudits(tx, caller, audits);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("A connection of the same name was created meanwhile; nothing was written.");
      const name = error instanceof ConflictError ? error.extensions.name : undefined;
      if (typeof name === "string") throw new ConflictError(`${name} changed meanwhile; nothing was written.`, { name });
      throw error;
    }
  }
}

function planOne(incoming: BundleConnection, existing: StoredState | undefined, onConflict: OnConflict): Planned {
  const name = incoming.draft.name;
  if (!existing) return { line: line(name, "CREATED", []), incoming };
  const changed = diff(existing, incoming);
  if (changed.length === 0) return { line: line(name, "UNCHANGED", []), incoming, existing };
  if (onConflict === "SKIP") return { line: line(name, "SKIPPED", changed, "A connection of this name exists; kept as it is.") };
  if (onConflict === "FAIL") {
    return { line: line(name, "ERROR", changed, "A connection of this name exists and differs; choose onConflict SKIP or OVERWRITE.") };
  }
  return { line: line(name, "UPDATED", changed), incoming, existing };
}

/**
 * Fields that would change, secrets by name only; an environment added or removed as
 * overrides.<name>, a field of one as overrides.<name>.<field> (as a version names them).
 */
function diff(existing: StoredState, incoming: BundleConnection): string[] {
  const changed = sameDraft(existing.draft, incoming.draft) ? [] : changedFields(existing.draft, incoming.draft);
  return [...changed, ...changedOverrideStates(existing.overrides, incoming.overrides)];
}

function line(name: string, outcome: BundleOutcome, changedFields: string[], message: string | null = null): BundleLine {
  return { name, outcome, changedFields, message };
}

function countOutcomes(lines: BundleLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of lines) counts[l.outcome] = (counts[l.outcome] ?? 0) + 1;
  return counts;
}
