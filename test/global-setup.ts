/**
 * Starts one PostgreSQL cluster for the whole run, in a temp directory on a free port.
 * Test files make their own databases on it (test/support/database.ts), so they run in
 * parallel without seeing each other's rows.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { startEmbeddedPostgres } from "../src/db/embedded-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL (scram password auth over TCP). */
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "patchbay-pg-"));
  const pg = await startEmbeddedPostgres({ dir });
  project.provide("pgAdminUrl", pg.adminUrl);
  return async () => {
    await pg.stop();
    await rm(dir, { recursive: true, force: true });
  };
}
