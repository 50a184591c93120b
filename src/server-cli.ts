/**
 * The server's own command line (`npm start -- --help`): it takes no options but these two,
 * and is configured by its environment (src/config.ts, the README's configuration table).
 */
import { readFileSync } from "node:fs";

export type ServerCommand = { kind: "serve" } | { kind: "print"; text: string } | { kind: "usage-error"; text: string };

const HELP = `Usage: npm start [-- --help | --version]
       node dist/main.js [--help | --version]

Serves Patchbay's GraphQL API at http://HOST:PORT/graphql, with /healthz and /readyz.
Stop it with Ctrl-C or SIGTERM: requests in flight finish first.

Options:
  -h, --help     print this help and exit
  -V, --version  print the version and exit

Configuration comes from the environment (defaults in brackets):
  HOST                    address to listen on [127.0.0.1]
  PORT                    port to listen on; 0 picks a free one [4000]
  DATABASE_URL            PostgreSQL to use [unset: an embedded PostgreSQL in the data directory]
  PATCHBAY_DATA_DIR       embedded database and generated master key [./.patchbay]
  PATCHBAY_MASTER_KEY     base64 of 32 random bytes; required when NODE_ENV=production
  NODE_ENV                production refuses to start without PATCHBAY_MASTER_KEY
  PATCHBAY_LOG_LEVEL      debug, info, warn or error; JSON lines on stderr [info]
  PATCHBAY_TRUST_PROXY    1: take the client address from X-Forwarded-For
  PATCHBAY_TEST_TIMEOUT_MS                    deadline of one connection test [10000]
  PATCHBAY_MAX_CONCURRENT_TESTS               connection tests at once [16]
  PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE of those, per workspace [4]
  PATCHBAY_SESSION_TTL_SECONDS                session lifetime [43200]
  PATCHBAY_KEY_CACHE_SECONDS                  unwrapped key cache [300]
  PATCHBAY_EGRESS_MODE    default or strict: where connection tests may connect [default]
  PATCHBAY_EGRESS_ALLOW   comma-separated CIDRs allowed even where the mode denies them
  PATCHBAY_EGRESS_DENY    comma-separated CIDRs always denied
  PATCHBAY_SQLITE_ROOT    the only directory SQLite connections may open files in

The README explains each one.
`;

export function parseServerArgs(args: string[]): ServerCommand {
  if (args.length === 0) return { kind: "serve" };
  if (args.length === 1 && (args[0] === "--help" || args[0] === "-h")) return { kind: "print", text: HELP };
  if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) return { kind: "print", text: `patchbay ${version()}\n` };
  const unknown = args.find((a) => !["--help", "-h", "--version", "-V"].includes(a)) ?? args.join(" ");
  return { kind: "usage-error", text: `patchbay: unknown option ${JSON.stringify(unknown)}; see --help. Settings come from the environment.\n` };
}

export function version(): string {
  // ../package.json from both src/ and the compiled dist/.
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return pkg.version;
}
