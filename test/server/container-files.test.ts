/**
 * The Dockerfile, compose.yaml and .dockerignore, checked for what an operator relies on.
 * No Docker engine runs here, so these read the files: every variable they set is one
 * Patchbay reads (a misspelt name would be silently ignored), the image runs compiled output
 * as a non-root user with a health check on /readyz, compose wires the database it starts, and
 * the build context never carries a data directory (master key, database) into an image.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { configurationVariables } from "../support/readme";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (name: string) => readFileSync(join(ROOT, name), "utf8");

/** The Dockerfile's instructions as [keyword, arguments], continuation lines joined. */
function instructions(text: string): Array<[string, string]> {
  const joined = text.replace(/\\\n/g, " ").split("\n");
  return joined
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [keyword, ...rest] = line.split(/\s+/);
      return [keyword.toUpperCase(), rest.join(" ")] as [string, string];
    });
}

describe("Dockerfile", () => {
  const all = instructions(read("Dockerfile"));
  const lastFrom = all.map(([k]) => k).lastIndexOf("FROM");
  const runtime = all.slice(lastFrom);
  const of = (keyword: string) => runtime.filter(([k]) => k === keyword).map(([, args]) => args);

  it("is multi-stage, and its runtime stage copies only build output from the build stage", () => {
    expect(all.filter(([k]) => k === "FROM").length).toBeGreaterThanOrEqual(2);
    for (const copy of of("COPY")) expect(copy).toMatch(/^--from=build /);
    expect(of("COPY").some((c) => c.includes("/dist"))).toBe(true);
    expect(of("COPY").some((c) => c.includes("/src "))).toBe(false);
  });

  it("runs node dist/main.js as a non-root user, with a HEALTHCHECK on /readyz", () => {
    const user = of("USER").at(-1);
    expect(user).toBeDefined();
    expect(["root", "0", "0:0"]).not.toContain(user);
    expect(of("CMD").at(-1)).toBe('["node", "dist/main.js"]');
    expect(of("HEALTHCHECK").at(-1)).toContain("/readyz");
  });

  it("sets only variables Patchbay reads", () => {
    const known = new Set(configurationVariables());
    const names = of("ENV").flatMap((args) => [...args.matchAll(/([A-Z_]+)=/g)].map((m) => m[1]));
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) expect(known, name).toContain(name);
  });
});

describe("compose.yaml", () => {
  const compose = parse(read("compose.yaml")) as { services: Record<string, any> };
  const patchbay = compose.services.patchbay;
  const postgres = compose.services.postgres;

  it("sets only variables Patchbay reads, a master key and a database among them", () => {
    const known = new Set(configurationVariables());
    const names = Object.keys(patchbay.environment);
    for (const name of names) expect(known, name).toContain(name);
    expect(names).toEqual(expect.arrayContaining(["DATABASE_URL", "PATCHBAY_MASTER_KEY"]));
    // Required from the operator, never defaulted to a value in the file.
    expect(patchbay.environment.PATCHBAY_MASTER_KEY).toMatch(/^\$\{PATCHBAY_MASTER_KEY:\?/);
  });

  it("points DATABASE_URL at the PostgreSQL it starts, once that is healthy", () => {
    const url = new URL(patchbay.environment.DATABASE_URL.replace(/\$\{[^}]*\}/g, "secret"));
    expect(url.hostname).toBe("postgres");
    expect(url.username).toBe(postgres.environment.POSTGRES_USER);
    expect(url.pathname).toBe(`/${postgres.environment.POSTGRES_DB}`);
    expect(patchbay.depends_on.postgres.condition).toBe("service_healthy");
    expect(postgres.healthcheck.test.join(" ")).toContain("pg_isready");
  });
});

describe(".dockerignore", () => {
  it("keeps data directories, installs and env files out of the build context", () => {
    const lines = read(".dockerignore").split("\n").map((l) => l.trim());
    for (const pattern of [".patchbay", "**/.patchbay", "node_modules", ".env"]) expect(lines).toContain(pattern);
  });
});
