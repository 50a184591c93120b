/**
 * Per-request DataLoaders: a page of connections with their last tests or test histories, or
 * members with their users, costs one query per kind, whatever the page size.
 */
import DataLoader from "dataloader";
import type { Db } from "../db/prisma";
import type { TestResult, User } from "../generated/prisma/client";
import type { ConnectionUsageData, ResolutionService } from "../services/connections/resolution";
import type { ConnectionTestService } from "../services/connections/testing";

/** A connection's history as a field asks for it: `first` is part of the key. */
export interface HistoryKey {
  connection: { id: string; workspaceId: string };
  first: number;
}

export interface Loaders {
  lastTest: DataLoader<string, TestResult | null>;
  testResults: DataLoader<HistoryKey, TestResult[], string>;
  user: DataLoader<string, User | null>;
  usage: DataLoader<string, ConnectionUsageData[]>;
}

export function createLoaders(db: Db, resolution: ResolutionService, connectionTests: ConnectionTestService): Loaders {
  return {
    testResults: new DataLoader(
      async (keys) => {
        // One statement per page size asked for; a request rarely asks for more than one.
        const bySize = new Map<number, number[]>();
        keys.forEach((key, index) => bySize.set(key.first, [...(bySize.get(key.first) ?? []), index]));
        const results: TestResult[][] = new Array(keys.length);
        for (const [first, indexes] of bySize) {
          const histories = await connectionTests.histories(indexes.map((i) => keys[i].connection), first);
          indexes.forEach((keyIndex, i) => (results[keyIndex] = histories[i]));
        }
        return results;
      },
      { cacheKeyFn: (key) => `${key.connection.id}:${key.first}` },
    ),
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
