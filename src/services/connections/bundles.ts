/**
 * Moving a workspace's connections between instances: exportBundle writes every connection
 * with its secrets and overrides under a passphrase (src/crypto/passphrase-seal.ts), so the
 * bundle opens on a server with another master key; importBundle shows per connection what
 * would change and applies all of it in one transaction, or nothing. ADMIN and above, people
 * only (a file holding every secret, like exportConnections with includeSecrets); audited.
 */
import { randomUUID } from "node:crypto";
import { isUniqueViolation } from "../../db/errors";
import type { Db } from "../../db/prisma";
import { PassphraseSealError, openWithPassphrase, sealWithPassphrase } from "../../crypto/passphrase-seal";
import { BadUserInputError, ConflictError } from "../../errors";
import type { Connection, ConnectionOverride } from "../../generated/prisma/client";
import type { Caller } from "../../policy/caller";
import { type AuditEntry, recordAudit, recordAudits } from "../audit";
import { plainColumns } from "./columns";
import { type BundleConnection, type BundleOverride, readBundleDocument, writeBundleDocument } from "./bundle-document";
import { type ConnectionDraft, sameDraft } from "./draft";
import { overrideColumns } from "./environments";
import { changedOverrideFields } from "./override-draft";
import type { OverrideStore } from "./overrides";
import type { ConnectionSecrets, SealedColumns } from "./secrets";
import type { ConnectionService } from "./service";
import { changedFields } from "./versions";
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

interface Existing {
  row: Connection;
  draft: ConnectionDraft;
  overrides: Array<{ row: ConnectionOverride; values: BundleOverride }>;
}

interface Planned {
  line: BundleLine;
  incoming?: BundleConnection;
  existing?: Existing;
}

export class BundleService {
  constructor(
    private readonly db: Db,
    private readonly connections: ConnectionService,
    private readonly overrides: OverrideStore,
    private readonly secrets: ConnectionSecrets,
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
      overrides: e.overrides.map((o) => o.values),
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
    const plan: Planned[] = entries.map((entry) => {
      if ("error" in entry) return { line: line(entry.name, "ERROR", [], entry.error) };
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
  private async existing(rows: Connection[]): Promise<Existing[]> {
    const overrides = await this.overrides.ofConnections(rows);
    return Promise.all(
      rows.map(async (row, i) => ({
        row,
        draft: await this.connections.storedDraft(row),
        overrides: await Promise.all(
          overrides[i].map(async (o) => ({ row: o, values: { environment: o.environment, ...(await this.overrides.valuesOf(o)) } })),
        ),
      })),
    );
  }

  /** One transaction: every change or none; a row changed since it was read is a CONFLICT. */
  private async apply(caller: Caller, workspaceId: string, plan: Planned[]): Promise<void> {
    const writes = await Promise.all(plan.filter((p) => p.line.outcome === "CREATED" || p.line.outcome === "UPDATED").map((p) => this.prepare(workspaceId, p)));
    try {
      await this.db.$transaction(async (tx) => {
        const audits: AuditEntry[] = [];
        for (const write of writes) {
          const { id, draft, sealed, existing } = write;
          if (!existing) {
            await tx.connection.create({ data: { id, workspaceId, ...plainColumns(draft), ...sealed } });
          } else {
            const { count } = await tx.connection.updateMany({
              where: { id, workspaceId, version: existing.row.version },
              data: { ...plainColumns(draft), ...sealed, version: { increment: 1 } },
            });
            if (count === 0) throw new ConflictError(`${draft.name} changed meanwhile; nothing was written.`, { name: draft.name });
          }
          const keep = new Set(write.overrides.map((o) => o.environment));
          const gone = (existing?.overrides ?? []).filter((o) => !keep.has(o.values.environment)).map((o) => o.row.id);
          if (gone.length) await tx.connectionOverride.deleteMany({ where: { id: { in: gone }, workspaceId } });
          for (const o of write.overrides) {
            if (!o.sealed) continue;
            const columns = { ...overrideColumns(o.values), ...o.sealed, updatedAt: new Date() };
            await tx.connectionOverride.upsert({
              where: { connectionId_environment: { connectionId: id, environment: o.environment } },
              create: { id: o.id, workspaceId, connectionId: id, environment: o.environment, ...columns },
              update: columns,
            });
          }
          audits.push({
            workspaceId,
            action: "connection.import_bundle",
            targetType: "Connection",
            targetId: id,
            details: { name: draft.name, type: draft.type, outcome: existing ? "UPDATED" : "CREATED", changed: write.changedFields },
          });
        }
        audits.push({ workspaceId, action: "bundle.import", details: { outcomes: countOutcomes(plan.map((p) => p.line)) } });
        await recordAudits(tx, caller, audits);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw new ConflictError("A connection of the same name was created meanwhile; nothing was written.");
      throw error;
    }
  }

  /** Seals a planned connection and its overrides with this workspace's key, before the transaction. */
  private async prepare(workspaceId: string, planned: Planned) {
    const incoming = planned.incoming!;
    const existing = planned.existing;
    const id = existing?.row.id ?? randomUUID();
    const sealed: SealedColumns = await this.secrets.seal(workspaceId, id, incoming.draft.secrets);
    const before = new Map((existing?.overrides ?? []).map((o) => [o.values.environment, o]));
    const overrides = await Promise.all(
      incoming.overrides.map(async (values) => {
        const old = before.get(values.environment);
        const unchanged = old && changedOverrideFields(old.values, values).length === 0;
        const overrideId = old?.row.id ?? randomUUID();
        // An unchanged override keeps its row, and so its test history.
        return { id: overrideId, environment: values.environment, values, sealed: unchanged ? null : await this.secrets.seal(workspaceId, overrideId, values.secrets) };
      }),
    );
    return { id, draft: incoming.draft, sealed, existing, overrides, changedFields: planned.line.changedFields };
  }
}

function planOne(incoming: BundleConnection, existing: Existing | undefined, onConflict: OnConflict): Planned {
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

/** Fields that would change, secrets by name only; an environment added or removed as overrides.<name>. */
function diff(existing: Existing, incoming: BundleConnection): string[] {
  const changed = sameDraft(existing.draft, incoming.draft) ? [] : changedFields(existing.draft, incoming.draft);
  const before = new Map(existing.overrides.map((o) => [o.values.environment, o.values]));
  const after = new Map(incoming.overrides.map((o) => [o.environment, o]));
  for (const environment of [...new Set([...before.keys(), ...after.keys()])].sort()) {
    const a = before.get(environment);
    const b = after.get(environment);
    if (!a || !b) changed.push(`overrides.${environment}`);
    else for (const field of changedOverrideFields(a, b)) changed.push(`overrides.${environment}.${field}`);
  }
  return changed;
}

function line(name: string, outcome: BundleOutcome, changedFields: string[], message: string | null = null): BundleLine {
  return { name, outcome, changedFields, message };
}

function countOutcomes(lines: BundleLine[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const l of lines) counts[l.outcome] = (counts[l.outcome] ?? 0) + 1;
  return counts;
}
