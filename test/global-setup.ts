/**
 * Starts one PostgreSQL cluster for the whole run, in a temp directory on a free port.
 * Test files make their own databases on it (test/support/database.ts), so they run in
 * parallel without seeing each other's rows.
 */
import { chmod, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { removeDataDir, startEmbeddedPostgres } from "../src/db/embedded-postgres";

declare module "vitest" {
  export interface ProvidedContext {
    /** Superuser URL of the run's PostgreSQL (scram password auth over TCP). */
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject) {
  const dir = await mkdtemp(join(tmpdir(), "patchbay-pg-"));
  // Searchable by others (not listable): run as root, PostgreSQL's own account then keeps the
  // cluster here in the temp directory instead of under /var/lib/patchbay.
  await chmod(dir, 0o711);
  const pg = await startEmbeddedPostgres({ dir });
  project.provide("pgAdminUrl", pg.adminUrl);
  return async () => {
    await pg.stop();
    await removeDataDir(dir);
  };
}
