import { PrismaPg } from "@prisma/adapter-pg";
import type pg from "pg";
import { PrismaClient } from "../generated/prisma/client";

export type { PrismaClient };
export type Db = PrismaClient;
/** A Prisma interactive transaction, or the client itself: what the data functions accept. */
export type DbOrTx = Omit<PrismaClient, "$connect" | "$disconnect" | "$on" | "$transaction" | "$extends">;

export interface PrismaOptions {
  /** The process's pool (db/pool.ts), whose deadlines every Prisma statement inherits. */
  pool: pg.Pool;
  /** Called once per SQL statement (tests count them). */
  onQuery?: (sql: string) => void;
  onPoolError?: (error: Error) => void;
}

export function createPrisma(options: PrismaOptions): PrismaClient {
  const adapter = new PrismaPg(options.pool, { onPoolError: options.onPoolError, onConnectionError: options.onPoolError });
  // Any other format records a stack trace for every query, to point a pretty error at the
  // call site: measurable CPU on every statement for an error message nobody reads.
  const errorFormat = "minimal";
  if (!options.onQuery) return new PrismaClient({ adapter, errorFormat });
  const client = new PrismaClient({ adapter, errorFormat, log: [{ emit: "event", level: "query" }] });
  const onQuery = options.onQuery;
  client.$on("query", (event) => onQuery(event.query));
  return client;
}
