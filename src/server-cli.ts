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

Configuration comes from the environment [defaults in brackets]:
  HOST                  address to listen on [127.0.0.1]
  PORT                  port to listen on; 0 picks a free one [4000]
  DATABASE_URL          PostgreSQL to use [unset: an embedded PostgreSQL in the data directory]
  PATCHBAY_DATA_DIR     embedded database and generated master key [./.patchbay]
  PATCHBAY_MASTER_KEY   base64 of 32 random bytes; required when NODE_ENV=production
  PATCHBAY_MASTER_KEY_PREVIOUS  the master key being rotated away from: start once with the new
                        key as PATCHBAY_MASTER_KEY and the old one here; every workspace key is
                        re-wrapped at start, then the old key is no longer needed [unset]
  NODE_ENV              production: master key required, sign-up by invitation, stricter egress
  PATCHBAY_SIGNUP       open, invite or closed [open; invite in production]
  PATCHBAY_TRUST_PROXY  reverse proxies in front that append to X-Forwarded-For [0]
  PATCHBAY_LOG_LEVEL    debug, info, warn or error; JSON lines on stderr [info]
  PATCHBAY_METRICS_TOKEN   bearer token /metrics requires [unset: none; /metrics off in production]
  PATCHBAY_METRICS_LISTEN  host:port serving /metrics instead of the API's port [unset]
  OTEL_EXPORTER_OTLP_ENDPOINT  send OpenTelemetry traces there over OTLP/HTTP [unset: no tracing]
  PATCHBAY_EGRESS_MODE  where connection tests may connect: default or strict [default]
  PATCHBAY_EGRESS_ALLOW, PATCHBAY_EGRESS_DENY   comma-separated CIDRs allowed / always denied
  PATCHBAY_SQLITE_ROOT  the only directory SQLite connections may open files in [unset: none]
  PATCHBAY_WEB_DIR      the built web interface served at / and /explorer [web/dist]
  PATCHBAY_SESSION_TTL_SECONDS  session lifetime [43200]
  PATCHBAY_KEY_CACHE_SECONDS    how long unwrapped workspace keys stay in memory [300]
  PATCHBAY_CONNECTION_VERSIONS_KEPT  the newest versions each connection keeps for rollback [100]
  PATCHBAY_IMPORT_MAX_CONNECTIONS, PATCHBAY_IMPORT_MAX_BYTES  what one staged import may hold [10000, 16777216]
  PATCHBAY_IMPORT_SESSIONS_PER_WORKSPACE  staged imports open at once per workspace [5]
  PATCHBAY_IMPORT_SESSION_TTL_SECONDS  how long a staged import lives [3600]
  PATCHBAY_IMPORT_COMMIT_TIMEOUT_MS  deadline of a staged import's commit transaction [120000]
  PATCHBAY_KEY_REENCRYPT_BATCH  values re-encrypted (or keys re-wrapped) per transaction [100]
  PATCHBAY_KEY_DESTROY_DELAY_SECONDS  how long an old data key version outlives its last use [60]
  PATCHBAY_CACHE_SECONDS        how long verified tokens, sessions and roles stay in memory [30]
  PATCHBAY_LISTEN_DATABASE_URL  a direct connection for LISTEN when DATABASE_URL is a pooler [DATABASE_URL]
  PATCHBAY_DB_CONNECT_TIMEOUT_MS, PATCHBAY_DB_STATEMENT_TIMEOUT_MS   database deadlines [3000, 5000]
  PATCHBAY_MIGRATION_TIMEOUT_MS      start-up migrations, lock wait included [600000]
  PATCHBAY_DB_PREPARED_STATEMENTS  0 behind a pooler that cannot keep prepared statements [1]
  PATCHBAY_WORKERS              server processes on the one port, a number or auto (one per core) [1]
  PATCHBAY_TEST_TIMEOUT_MS      deadline of one connection test [10000]
  PATCHBAY_SCHEDULER_TICK_MS    how often each process looks for due scheduled tests [30000]
  PATCHBAY_WEBHOOK_TICK_MS      how often each process looks for due webhook deliveries [1000]
  PATCHBAY_WEBHOOK_ATTEMPTS     attempts per status change and webhook, 1 s x 4^n apart (at most 1 h) [8]
  PATCHBAY_WEBHOOK_DELIVERIES_KEPT [100], PATCHBAY_WEBHOOK_DELIVERY_DAYS [30]   attempt rows kept per webhook
  PATCHBAY_MAX_CONCURRENT_TESTS [16], PATCHBAY_MAX_CONCURRENT_TESTS_PER_WORKSPACE [4],
  PATCHBAY_MAX_CONCURRENT_TESTS_PER_USER [4]    connection tests at once
  PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS [10], PATCHBAY_LOGIN_FAILURES_PER_ACCOUNT [30],
  PATCHBAY_LOGIN_FAILURES_PER_ADDRESS [60], PATCHBAY_LOGIN_WINDOW_SECONDS [900]   log-in limits
  PATCHBAY_PASSWORD_HASH_CONCURRENCY [2], PATCHBAY_PASSWORD_HASH_QUEUE [8],
  PATCHBAY_PASSWORD_HASH_PER_ADDRESS [4]        password hashing per process
  PATCHBAY_SIGNUPS_PER_ADDRESS_PER_HOUR [10], PATCHBAY_WORKSPACE_CREATIONS_PER_USER_PER_HOUR [10],
  PATCHBAY_MAX_WORKSPACES_PER_USER [50], PATCHBAY_INVITATIONS_PER_WORKSPACE_PER_HOUR [50]
  PATCHBAY_GRAPHQL_INTROSPECTION  disclose the schema: 1 or 0 [1; 0 in production]
  PATCHBAY_GRAPHQL_MAX_DEPTH [10], PATCHBAY_GRAPHQL_MAX_ALIASES [15], PATCHBAY_GRAPHQL_MAX_DIRECTIVES [10],
  PATCHBAY_GRAPHQL_MAX_TOKENS [1000], PATCHBAY_GRAPHQL_MAX_COST [5000], PATCHBAY_GRAPHQL_MAX_RESOLVES [10],
  PATCHBAY_GRAPHQL_MAX_TESTS [3], PATCHBAY_GRAPHQL_MAX_PASSWORD_CHECKS [1],
  PATCHBAY_GRAPHQL_MAX_BULK_OPERATIONS [1]      what one GraphQL request may cost

The README explains each one (Configuration; Security for the limits).
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
