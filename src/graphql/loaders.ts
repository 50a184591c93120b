/**
 * Per-request DataLoaders: a page of connections with their last tests, or members with
 * their users, costs one query per kind, whatever the page size.
 */
import DataLoader from "dataloader";
import type { Db } from "../db/prisma";
import type { TestResult, User } from "../generated/prisma/client";
import type { ConnectionUsageData, ResolutionService } from "../services/connections/resolution";

export interface Loaders {
  lastTest: DataLoader<string, TestResult | null>;
  user: DataLoader<string, User | null>;
  usage: DataLoader<string, ConnectionUsageData[]>;
}

export function createLoaders(db: Db, resolution: ResolutionService): Loaders {
  return {
    usage: new DataLoader((connectionIds) => resolution.usageOf(connectionIds.map((id) => ({ id })))),
    lastTest: new DataLoader(async (connectionIds) => {
      const rows = await db.$queryRaw<TestResult[]>`
        SELECT DISTINCT ON ("connectionId") *
        FROM "TestResult"
        WHERE "connectionId" = ANY(${[...connectionIds]}::text[])
        ORDER BY "connectionId", "testedAt" DESC, "id" DESC`;
      const byConnection = new Map(rows.map((r) => [r.connectionId, r]));
      return connectionIds.map((id) => byConnection.get(id) ?? null);
    }),
    user: new DataLoader(async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}
