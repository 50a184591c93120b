// Used by the Prisma CLI (`prisma generate`, `prisma migrate deploy`). The server applies
// the same migrations itself at start-up (src/db/migrate.ts).
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost/patchbay" },
});
