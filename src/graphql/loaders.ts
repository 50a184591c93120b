/**
 * Per-request DataLoaders: a page of connections with their last tests or test histories, or
 * members with their users, costs one query per kind, whatever the page size; and a list of
 * workspaces with their members, tokens and connections one query per kind, whatever its length.
 */
import DataLoader from "dataloader";
import type { Db } from "../db/prisma";
import type { ApiToken, ConnectionOverride, Membership, OverrideTestResult, TestResult, User } from "../generated/prisma/client";
import type { Caller } from "../policy/caller";
import type { Services } from "../services";
import type { ConnectionUsageData } from "../services/connections/resolution";
import type { ConnectionListArgs, ConnectionPage } from "../services/connections/service";
import type { ConnectionVersionData } from "../services/connections/versions";
import type { AliasData } from "../services/connections/aliases";

/** A connection's history as a field asks for it: `first` is part of the key. */
export interface HistoryKey {
  connection: { id: string; workspaceId: string };
  first: number;
}

/** A workspace's page of connections as a field asks for it: the arguments are part of the key. */
export interface PageKey {
  workspaceId: string;
  args: ConnectionListArgs;
}

/** A connection the caller may see: loaders match rows on its workspace too. */
export interface ConnectionKey {
  id: string;
  workspaceId: string;
}

export interface Loaders {
  lastTest: DataLoader<ConnectionKey, TestResult | null, string>;
  /** The newest recorded use of a connection (usage counts, this process's unwritten ones included). */
  lastUse: DataLoader<ConnectionKey, Date | null, string>;
  testResults: DataLoader<HistoryKey, TestResult[], string>;
  members: DataLoader<string, Membership[]>;
  apiTokens: DataLoader<string, ApiToken[]>;
  connectionPages: DataLoader<PageKey, ConnectionPage, string>;
  user: DataLoader<string, User | null>;
  usage: DataLoader<string, ConnectionUsageData[]>;
  versions: DataLoader<HistoryKey, ConnectionVersionData[], string>;
  aliases: DataLoader<ConnectionKey, AliasData[], string>;
  /** A connection's overrides, by environment name. */
  overrides: DataLoader<ConnectionKey, ConnectionOverride[], string>;
  overrideLastTest: DataLoader<ConnectionKey, OverrideTestResult | null, string>;
}

export function createLoaders(db: Db, services: Services, caller: Caller): Loaders {
  const { connectionTests, resolution, connections } = services;
  const byId = { cacheKeyFn: (key: ConnectionKey) => key.id };
  return {
    testResults: new DataLoader(
      (keys) => inGroups(keys, (key) => key.first, (group, first) => connectionTests.histories(group.map((key) => key.connection), first)),
      { cacheKeyFn: (key) => `${key.connection.id}:${key.first}` },
    ),
    members: new DataLoader((workspaceIds) => services.workspaces.membersOf(caller, workspaceIds)),
    apiTokens: new DataLoader((workspaceIds) => services.apiTokens.listOf(caller, workspaceIds)),
    connectionPages: new DataLoader(
      (keys) => inGroups(keys, (key) => argsKey(key.args), (group) => services.connections.listOf(caller, group.map((key) => key.workspaceId), group[0].args)),
      { cacheKeyFn: (key) => `${key.workspaceId}:${argsKey(key.args)}` },
    ),
    versions: new DataLoader(
      (keys) => inGroups(keys, (key) => key.first, (group, first) => connections.versions.listOf(group.map((key) => key.connection), first)),
      { cacheKeyFn: (key) => `${key.connection.id}:${key.first}` },
    ),
    aliases: new DataLoader((keys) => connections.aliases.listOf(keys), byId),
    usage: new DataLoader((connectionIds) => resolution.usageOf(connectionIds.map((id) => ({ id })))),
    lastTest: new DataLoader((keys) => connectionTests.lastTests(keys), byId),
    overrides: new DataLoader((keys) => services.overrides.ofConnections(keys), byId),
    overrideLastTest: new DataLoader((keys) => services.overrides.lastTests(keys), byId),
    lastUse: new DataLoader(async (keys) => {
      const newest = await connections.usage.lastUses(keys);
      return keys.map((key) => newest.get(key.id) ?? null);
    }, byId),
    user: new DataLoader(async (ids) => {
      const rows = await db.user.findMany({ where: { id: { in: [...ids] } } });
      const byId = new Map(rows.map((u) => [u.id, u]));
      return ids.map((id) => byId.get(id) ?? null);
    }),
  };
}

function argsKey(args: ConnectionListArgs): string {
  return JSON.stringify([args.first ?? null, args.after ?? null, args.type ?? null, args.search ?? null]);
}

/**
 * Loads keys that share a grouping value together, one call per group (a request rarely asks
 * for more than one page size or set of arguments), and returns the results in key order.
 */
async function inGroups<K, V, G>(keys: readonly K[], groupOf: (key: K) => G, load: (group: K[], value: G) => Promise<Array<V | Error>>): Promise<Array<V | Error>> {
  const groups = new Map<G, number[]>();
  keys.forEach((key, index) => groups.set(groupOf(key), [...(groups.get(groupOf(key)) ?? []), index]));
  const results: Array<V | Error> = new Array(keys.length);
  for (const [value, indexes] of groups) {
    const loaded = await load(
      indexes.map((i) => keys[i]),
      value,
    );
    indexes.forEach((keyIndex, i) => (results[keyIndex] = loaded[i]));
  }
  return results;
}
