/** A password user and database on the run's PostgreSQL, for tests that connect to it. */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { inject } from "vitest";

export interface PgTarget {
  host: string;
  port: number;
  login: string;
  password: string;
  schema: string;
}

export async function createPgTarget(password: string): Promise<PgTarget> {
  const adminUrl = new URL(inject("pgAdminUrl"));
  const suffix = randomBytes(4).toString("hex");
  const login = `app_${suffix}`;
  const schema = `appdb_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${login} LOGIN PASSWORD '${password.replace(/'/g, "''")}'`);
    await admin.query(`CREATE DATABASE ${schema} OWNER ${login}`);
  } finally {
    await admin.end();
  }
  return { host: "127.0.0.1", port: Number(adminUrl.port), login, password, schema };
}
