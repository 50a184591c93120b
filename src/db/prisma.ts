import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "../generated/prisma/client";

export type { PrismaClient };
export type Db = PrismaClient;
/** A Prisma interactive transaction, or the client itself: what the data functions accept. */
export type DbOrTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export interface PrismaOptions {
  databaseUrl: string;
  /** Pool size; the default suits one API process on a small machine. */
  poolSize?: number;
  /** Called once per SQL statement (tests count them). */
  onQuery?: (sql: string) => void;
}

export function createPrisma(options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: 10_000,
  });
  if (!options.onQuery) return new PrismaClient({ adapter });
  const client = new PrismaClient({ adapter, log: [{ emit: "event", level: "query" }] });
  const onQuery = options.onQuery;
  client.$on("query", (event) => onQuery(event.query));
  return client;
}
