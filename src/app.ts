/**
 * The composition root: builds the database, keys, services, GraphQL schema and HTTP server
 * from a Config, and tears them down again. `npm start` and the tests both come through here.
 */
import "reflect-metadata";
import { ApolloServer } from "@apollo/server";
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginInlineTraceDisabled,
  ApolloServerPluginLandingPageDisabled,
  ApolloServerPluginSchemaReportingDisabled,
  ApolloServerPluginUsageReportingDisabled,
} from "@apollo/server/plugin/disabled";
import type { IncomingMessage, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { buildSchema } from "type-graphql";
import { chainLegacyAuditEvents } from "./audit/chain-legacy";
import { authenticate } from "./auth/authenticate";
import { InvalidationBus } from "./cache/invalidation-bus";
import type { Config } from "./config";
import { type InstanceKeyPurpose, loadInstanceKeys } from "./crypto/instance-keys";
import { Keyring, MasterKeys } from "./crypto/keyring";
import { loadMasterKey, loadPreviousMasterKey } from "./crypto/master-key";
import { rewrapUnderCurrentMasterKey } from "./crypto/master-rotation";
import { Reencryption } from "./crypto/reencryption";
import { startEmbeddedDatabase } from "./db/embedded-database";
import type { EmbeddedPostgres } from "./db/embedded-postgres";
import { applyMigrations, MIGRATIONS_DIR } from "./db/migrate";
import { createPool, ping } from "./db/pool";
import { createPrisma, type PrismaClient } from "./db/prisma";
import { Sql } from "./db/sql";
import type { GraphQLContext } from "./graphql/context";
import { createErrorFormatter } from "./graphql/format-error";
import { httpStatusPlugin, withHttpStatus } from "./graphql/http-status";
import { inputGuardPlugin } from "./graphql/input-guard";
import { requestLimits } from "./graphql/limits";
import { createLoaders } from "./graphql/loaders";
import { graphqlHandler } from "./http/graphql-handler";
import { clientAddress } from "./http/io";
import { REST_PREFIX, restConnectionsHandler } from "./http/rest-connections";
import { gracefulCloser } from "./http/graceful-close";
import { createHttpServer, type Health } from "./http/server";
import { loadStaticSite } from "./http/static-files";
import { createLogger, type Logger } from "./log";
import { accessLog } from "./observability/access-log";
import { observabilityPlugin } from "./observability/graphql-plugin";
import { keyRotationProgressFromDatabase } from "./observability/key-rotation-progress";
import { collectProcessMetrics, observePool, observeState, setKeyRotationProgressSource, shareWithClusterPrimary } from "./observability/metrics";
import { listenForMetrics, metricsHandler } from "./observability/metrics-endpoint";
import { instrumentPg } from "./observability/pg-instrumentation";
import { tracingActive } from "./observability/tracing";
import { runPeriodically } from "./jobs/periodic";
import { runDueTests } from "./jobs/scheduled-tests";
import { TestSchedules } from "./services/health/schedules";
import { Webhooks } from "./services/health/webhooks";
import { WebhookDelivery } from "./services/health/webhook-delivery";
import { createEgress, type Lookup } from "./net/egress";
import { type DeniedRange, productionDenials } from "./net/production-egress";
import { LoginThrottle } from "./auth/login-throttle";
import { SignUpPolicy } from "./auth/sign-up-policy";
import { HashGate } from "./limits/hash-gate";
import { SharedLimiter, sweepExpiredLimits } from "./limits/shared-limiter";
import { Caller } from "./policy/caller";
import { resolvers } from "./resolvers";
import type { Services } from "./services";
import { ApiTokenService } from "./services/api-tokens";
import { ConnectionSecrets } from "./services/connections/secrets";
import { ConnectionTestService } from "./services/connections/testing";
import { ConnectionService } from "./services/connections/service";
import { ConnectionAliases } from "./services/connections/aliases";
import { ConnectionStore } from "./services/connections/store";
import { ConnectionSync } from "./services/connections/sync";
import { ConnectionVersions } from "./services/connections/versions";
import { StagedImports } from "./services/connections/staged-import";
import { ConnectionTransfer } from "./services/connections/transfer";
import { EnvironmentService } from "./services/connections/environments";
import { OverrideStore } from "./services/connections/overrides";
import { BundleService } from "./services/connections/bundles";
import { EnvironmentImport } from "./services/connections/environment-import";
import { IdentityService } from "./services/identity";
import { InvitationService } from "./services/invitations";
import { ResolutionService } from "./services/connections/resolution";
import { AccessTokens } from "./services/connections/access-tokens";
import { UsageCounter } from "./services/connections/usage";
import { TokenLastUses } from "./services/token-last-uses";
import { TestLimiter } from "./limits/test-limiter";
import { WorkspaceKeyService } from "./services/workspace-keys";
import { WorkspaceService } from "./services/workspaces";

const WEB_DIR = fileURLToPath(new URL("../web/dist", import.meta.url));
const READY_TIMEOUT_MS = 1_500;
// How often usage counts are written: a crash loses at most this much (services/connections/usage.ts).
const USAGE_FLUSH_MS = 1_000;
const SESSION_SWEEP_MS = 15 * 60_000;
const ALIAS_SWEEP_MS = 60 * 60_000;
/** Expired import sessions read as absent at once; the sweep only frees their rows. */
const IMPORT_SWEEP_MS = 10 * 60_000;
/** The deadline of one webhook delivery attempt. */
const WEBHOOK_TIMEOUT_MS = 5_000;
/** How often a process prunes old webhook attempt rows (any process may; deletes are idempotent). */
const WEBHOOK_PRUNE_MS = 10 * 60_000;
// How often the key rotation job looks for unfinished work besides being asked (a rotation).
const REENCRYPTION_INTERVAL_MS = 60_000;

export interface App {
  /** Base URL, e.g. http://127.0.0.1:4000 */
  url: string;
  services: Services;
  /** Cache invalidation across processes (LISTEN/NOTIFY). */
  invalidations: InvalidationBus;
  prisma: PrismaClient;
  logger: Logger;
  close(): Promise<void>;
}

export interface AppOptions {
  logger?: Logger;
  /** Called for every SQL statement Prisma sends (tests count them). */
  onQuery?: (sql: string) => void;
  /** How connection tests resolve host names; getaddrinfo by default (tests inject their own). */
  lookup?: Lookup;
  /** Called once if the embedded PostgreSQL dies for good; `npm start` then shuts down with exit code 1. */
  onFatal?: (reason: string) => void;
  /** This process's number among PATCHBAY_WORKERS (workers.ts); /healthz names it. */
  worker?: number;
}

export async function startApp(config: Config, options: AppOptions = {}): Promise<App> {
  const logger = options.logger ?? createLogger({ level: config.logLevel });
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    // splice: a second close() finds nothing left to undo.
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch((error) => logger.error("shutdown step failed", { error }));
  };

  try {
    const master = await loadMasterKey({ envValue: config.masterKey, dataDir: config.dataDir, production: config.production });
    if (master.source === "generated") logger.warn("generated a new master key", { path: `${config.dataDir}/master.key` });
    if (master.warning) logger.warn(master.warning);
    const masterKeys = new MasterKeys(master.key, loadPreviousMasterKey(config.masterKeyPrevious, master.key));

    let databaseUrl = config.databaseUrl;
    let embedded: EmbeddedPostgres | undefined;
    if (!databaseUrl) {
      const started = await startEmbeddedDatabase(config, logger, options.onFatal ?? (() => {}));
      cleanups.push(() => started.embedded.stop());
      embedded = started.embedded;
      databaseUrl = started.url;
    }

    // The migration lock is a session lock: through a transaction pooler it needs the direct connection.
    const migrations = await applyMigrations(config.listenDatabaseUrl ?? databaseUrl, MIGRATIONS_DIR, config.database.migrationTimeoutMs);
    if (migrations.applied.length) logger.info("migrations applied", { applied: migrations.applied });

    const onPoolError = (error: Error) => logger.warn("database connection failed", { error });
    // Per-statement spans and per-request statement counts (the access log's `db`) cost a little
    // on every statement, so only when someone looks: tracing on, or debug logging.
    if (tracingActive() || logger.enabled?.("debug")) instrumentPg();
    const pool = createPool({ databaseUrl, deadlines: config.database, onError: onPoolError });
    cleanups.push(() => pool.end());
    collectProcessMetrics();
    if (options.worker !== undefined) shareWithClusterPrimary();
    const unobservePool = observePool(pool);
    cleanups.push(async () => unobservePool());
    const stopRotationGauge = setKeyRotationProgressSource(keyRotationProgressFromDatabase(pool));
    cleanups.push(async () => stopRotationGauge());
    const prisma = createPrisma({ pool, onQuery: options.onQuery, onPoolError });
    cleanups.push(() => prisma.$disconnect());
    // Start-up checks on the pool: Prisma's first query compiles its query engine, which a start
    // with nothing to chain need not wait for.
    const chained = await chainLegacyAuditEvents(prisma, async () => (await pool.query(`SELECT 1 FROM "AuditEvent" WHERE "seq" IS NULL LIMIT 1`)).rowCount !== 0);
    if (chained > 0) logger.info("audit events chained", { count: chained });
    const invalidations = new InvalidationBus({ databaseUrl: config.listenDatabaseUrl ?? databaseUrl, logger });
    const storing = () => invalidations.listening;
    const sql = new Sql(pool, { prepared: config.database.preparedStatements, onQuery: options.onQuery });
    const keyring = new Keyring(prisma, masterKeys, config.keyCacheSeconds * 1000, storing, sql);
    cleanups.push(async () => keyring.clear());

    const stopSweeping = sweepExpiredLimits(pool, undefined, (error) => logger.warn("sweeping expired rate limits failed", { error }));
    cleanups.push(async () => stopSweeping());
    const denied = config.production ? await productionDenials(databaseUrl) : [];
    const rewrap = await rewrapUnderCurrentMasterKey(sql, masterKeys, config.keyRotation.batchSize);
    if (rewrap.rewrapped > 0) logger.info("keys re-wrapped under the new master key", { count: rewrap.rewrapped });
    if (masterKeys.previous) logger.warn("every key is wrapped by PATCHBAY_MASTER_KEY now; remove PATCHBAY_MASTER_KEY_PREVIOUS and discard that key");
    const instanceKeys = await loadInstanceKeys(sql, masterKeys, ["session-signing", "api-token-hash", "rate-limit-keys", "invitation-hash"]);
    const usage = new UsageCounter(sql, (error) => logger.warn("writing usage counts failed; kept for the next try", { error }));
    usage.start(USAGE_FLUSH_MS);
    // After the HTTP server has drained (cleanups run in reverse), before the pool closes.
    cleanups.push(() => usage.stop());
    const tokenUses = new TokenLastUses(sql, (error) => logger.warn("writing API tokens' last use failed; kept for the next try", { error }));
    tokenUses.start(USAGE_FLUSH_MS);
    cleanups.push(() => tokenUses.stop());
    const reencryption = new Reencryption(sql, prisma, keyring, invalidations, {
      batchSize: config.keyRotation.batchSize,
      destroyAfterMs: config.keyRotation.destroyDelaySeconds * 1000,
      logger,
    });
    const services = buildServices(prisma, pool, sql, usage, tokenUses, keyring, reencryption, invalidations, instanceKeys, config, denied, options.lookup, logger);
    const limits = requestLimits<GraphQLContext>(config.graphqlLimits);
    for (const listener of [keyring, services.identity, services.apiTokens, services.workspaces, reencryption]) invalidations.subscribe(listener);
    await invalidations.start();
    cleanups.push(() => invalidations.stop());
    const stopListenerGauge = observeState("patchbay_cache_listener_up", () => (invalidations.listening ? 1 : 0));
    cleanups.push(async () => stopListenerGauge());
    if (embedded) {
      const running = embedded;
      const stopEmbeddedGauge = observeState("patchbay_embedded_postgres_up", () => (running.status().state === "running" ? 1 : 0));
      cleanups.push(async () => stopEmbeddedGauge());
    }
    // Resumes a rotation a previous process left unfinished; kicked by every rotation.
    const rotationJob = runPeriodically("key re-encryption", REENCRYPTION_INTERVAL_MS, async () => {
      const pass = await reencryption.runOnce();
      if (pass.againInMs !== null) setTimeout(() => rotationJob.kick(), pass.againInMs).unref();
    }, logger);
    reencryption.onWork = () => rotationJob.kick();
    cleanups.push(() => {
      reencryption.halt();
      return rotationJob.stop();
    });
    const sessionSweep = runPeriodically("expired session sweep", SESSION_SWEEP_MS, () => services.identity.sweepExpiredSessions(), logger);
    cleanups.push(() => sessionSweep.stop());
    // Expired aliases already count as absent; this only deletes their rows.
    const aliasSweep = runPeriodically("expired alias sweep", ALIAS_SWEEP_MS, () => services.connections.aliases.sweepExpired(), logger);
    cleanups.push(() => aliasSweep.stop());
    // Expired import sessions already read as absent; this deletes them and their sealed batches.
    const importSweep = runPeriodically("expired import session sweep", IMPORT_SWEEP_MS, () => services.stagedImports.sweepExpired(), logger);
    cleanups.push(() => importSweep.stop());
    // Every process ticks; claimDue hands each due run to exactly one of them.
    const scheduledTests = runPeriodically("scheduled tests", config.schedulerTickMs, () => runDueTests(services.testSchedules, services.connectionTests, logger), logger);
    cleanups.push(() => scheduledTests.stop());
    // Every process delivers from the outbox; a status change stored here kicks this one at once.
    let prunedAt = 0;
    const webhookDeliveries = runPeriodically("webhook delivery", config.webhooks.tickMs, async () => {
      if (await services.webhookDelivery.runOnce()) webhookDeliveries.kick();
      if (Date.now() - prunedAt > WEBHOOK_PRUNE_MS) {
        prunedAt = Date.now();
        await services.webhookDelivery.prune();
      }
    }, logger);
    services.connectionTests.onStatusChange({ inTransaction: async () => undefined, committed: () => webhookDeliveries.kick() });
    cleanups.push(() => {
      services.webhookDelivery.stop();
      return webhookDeliveries.stop();
    });
    const apollo = new ApolloServer<GraphQLContext>({
      // skipCheck: type-graphql would run the whole introspection query once to check the
      // schema; Apollo validates it at start anyway (assertValidSchema), for a fraction of that.
      schema: await buildSchema({ resolvers, validate: false, skipCheck: true }),
      formatError: createErrorFormatter(logger, { hideSuggestions: !config.graphqlIntrospection }),
      // The input guard first: its refusal names the field, which a cost error cannot.
      // Apollo's landing page loads its sandbox from a CDN; the bundled explorer replaces it.
      plugins: [observabilityPlugin(), inputGuardPlugin(), ...limits.plugins, httpStatusPlugin(), ApolloServerPluginLandingPageDisabled(), ...withoutUnusedApolloPlugins()],
      parseOptions: limits.parseOptions,
      validationRules: limits.validationRules,
      introspection: config.graphqlIntrospection,
      // One operation per request: a batch would multiply every per-request limit.
      allowBatchedHttpRequests: false,
      includeStacktraceInErrorResponses: false,
      // main.ts owns shutdown, so the database stops after the server, in order.
      stopOnTerminationSignals: false,
    });
    await apollo.start();
    cleanups.push(() => apollo.stop());

    const buildContext = async (req: IncomingMessage): Promise<GraphQLContext> => {
      let actor;
      try {
        actor = await authenticate(req.headers.authorization, services);
      } catch (error) {
        throw withHttpStatus(error);
      }
      const caller = new Caller(actor, clientAddress(req, config.trustedProxies), services.workspaces);
      return { caller, services, loaders: createLoaders(prisma, services, caller) };
    };
    const site = loadStaticSite(config.webDir ?? WEB_DIR);
    if (!site.built) logger.warn("the web interface is not built; run npm run build:web", { dir: config.webDir ?? WEB_DIR });
    const server = createHttpServer({
      graphql: graphqlHandler(apollo, buildContext),
      // Well inside the 2 s a load balancer's probe may wait, whatever the database does.
      ready: () => ping(pool, READY_TIMEOUT_MS),
      health: healthOf(embedded, options.worker),
      logger,
      routes: [{ prefix: REST_PREFIX, name: "rest_resolve", handler: restConnectionsHandler(services, { trustedProxies: config.trustedProxies, logger }) }],
      metrics: config.metrics.onMainPort ? metricsHandler(config.metrics) : undefined,
      site,
      finished: accessLog({ logger, clientAddress: (req) => clientAddress(req, config.trustedProxies), worker: options.worker }),
    });
    const closeServer = gracefulCloser(server);
    await listen(server, config.host, config.port);
    cleanups.push(closeServer);
    if (config.metrics.listen && options.worker === undefined) {
      const metricsServer = await listenForMetrics({ ...config.metrics, listen: config.metrics.listen });
      cleanups.push(gracefulCloser(metricsServer));
      logger.info("metrics are served", { url: `http://${config.metrics.listen.host}:${(metricsServer.address() as AddressInfo).port}/metrics` });
    } else if (!config.metrics.onMainPort && !config.metrics.listen) {
      logger.warn("/metrics is off: in production set PATCHBAY_METRICS_TOKEN or PATCHBAY_METRICS_LISTEN to serve it");
    }
    const { port } = server.address() as AddressInfo;
    const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${port}`;
    logger.info("Patchbay is serving", { url: `${url}/graphql`, ...(options.worker === undefined ? {} : { worker: options.worker }) });
    return { url, services, invalidations, prisma, logger, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Apollo installs these unless told not to. Cache control wraps every field's resolver to
 * collect hints that nothing here sets (so it only ever concluded "do not cache"); the other
 * three report to Apollo's cloud when APOLLO_* variables say so, and this service sends
 * nothing anywhere it was not configured to.
 */
function withoutUnusedApolloPlugins() {
  return [
    ApolloServerPluginCacheControlDisabled(),
    ApolloServerPluginUsageReportingDisabled(),
    ApolloServerPluginSchemaReportingDisabled(),
    ApolloServerPluginInlineTraceDisabled(),
  ];
}

function buildServices(
  prisma: PrismaClient,
  pool: pg.Pool,
  sql: Sql,
  usage: UsageCounter,
  tokenUses: TokenLastUses,
  keyring: Keyring,
  reencryption: Reencryption,
  invalidations: InvalidationBus,
  instanceKeys: Record<InstanceKeyPurpose, Buffer>,
  config: Config,
  denied: DeniedRange[],
  lookup: Lookup | undefined,
  logger: Logger,
): Services {
  const secrets = new ConnectionSecrets(keyring);
  const cache = { ttlMs: config.cacheSeconds * 1000, storing: () => invalidations.listening };
  const store = new ConnectionStore(secrets, config.connectionVersionsKept);
  const overrides = new OverrideStore(prisma, secrets);
  const connections = new ConnectionService(prisma, secrets, sql, usage, store, new ConnectionVersions(prisma, sql, secrets), new ConnectionAliases(prisma, sql), overrides);
  const sync = new ConnectionSync(prisma, connections, store);
  const limiter = new TestLimiter(config.maxConcurrentTests, config.maxConcurrentTestsPerWorkspace, config.maxConcurrentTestsPerUser);
  const limits = config.limits;
  const rateKey = instanceKeys["rate-limit-keys"];
  const shared = (name: string, points: number, windowSeconds: number, message?: string) =>
    new SharedLimiter(pool, { name, points, windowSeconds, message }, rateKey, config.database.preparedStatements);
  const tooManyLogIns = "Too many log-in attempts.";
  // Tests and token grants alike: the same deadline and egress policy.
  const testEnvironment = {
    timeoutMs: config.testTimeoutMs,
    egress: createEgress({ mode: config.egressMode, allow: config.egressAllow, deny: config.egressDeny, denied, lookup }),
    sqliteRoot: config.sqliteRoot,
  };
  const connectionTests = new ConnectionTestService(prisma, sql, connections, limiter, testEnvironment, overrides);
  const webhooks = new Webhooks(prisma, keyring);
  connectionTests.onStatusChange({ inTransaction: async (tx, change) => void (await webhooks.enqueue(tx, change)) });
  const webhookDelivery = new WebhookDelivery(prisma, sql, keyring, { egress: testEnvironment.egress, timeoutMs: WEBHOOK_TIMEOUT_MS, ...config.webhooks }, logger);
  const invitations = new InvitationService(prisma, instanceKeys["invitation-hash"], invalidations, {
    perWorkspace: shared("invitation-workspace", limits.invitationsPerWorkspacePerHour, 3600, "Too many invitations from this workspace."),
  });
  const transfer = new ConnectionTransfer(prisma, connections, sync, overrides, new EnvironmentImport(prisma, connections, store));
  return {
    identity: new IdentityService(prisma, instanceKeys["session-signing"], config.sessionTtlSeconds, invalidations, cache, {
      hashing: new HashGate({
        concurrency: limits.passwordHashConcurrency,
        queue: limits.passwordHashQueue,
        perClient: limits.passwordHashPerAddress,
      }),
      login: new LoginThrottle({
        perAccountAndAddress: shared("login-account-address", limits.loginFailuresPerAccountAndAddress, limits.loginWindowSeconds, tooManyLogIns),
        perAccount: shared("login-account", limits.loginFailuresPerAccount, limits.loginWindowSeconds, tooManyLogIns),
        perAddress: shared("login-address", limits.loginFailuresPerAddress, limits.loginWindowSeconds, tooManyLogIns),
      }),
      signUpsPerAddress: shared("signup-address", limits.signUpsPerAddressPerHour, 3600, "Too many sign-ups from this address."),
      signUp: new SignUpPolicy(config.signUp, invitations),
    }, sql),
    workspaces: new WorkspaceService(prisma, keyring, invalidations, cache, {
      creationsPerUser: shared("workspace-create", limits.workspaceCreationsPerUserPerHour, 3600, "Too many workspaces created."),
      maxOwnedPerUser: limits.maxWorkspacesPerUser,
    }, sql),
    invitations,
    workspaceKeys: new WorkspaceKeyService(prisma, keyring, invalidations, reencryption),
    connections,
    connectionTests,
    testSchedules: new TestSchedules(prisma, sql),
    webhooks,
    webhookDelivery,
    apiTokens: new ApiTokenService(prisma, instanceKeys["api-token-hash"], invalidations, cache, sql, tokenUses),
    resolution: new ResolutionService(
      prisma,
      connections,
      sql,
      new AccessTokens(prisma, keyring, secrets, (row) => connections.storedDraft(row), testEnvironment, overrides, connectionTests),
      undefined,
      overrides,
    ),
    sync,
    transfer,
    stagedImports: new StagedImports(prisma, keyring, transfer, config.stagedImports, sql),
    environments: new EnvironmentService(prisma, connections),
    overrides,
    bundles: new BundleService(prisma, connections, store),
  };
}


function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
}

/** Healthy while the embedded PostgreSQL runs; restarting or given up shows in both probes. A worker says which it is. */
function healthOf(embedded: EmbeddedPostgres | undefined, worker: number | undefined): (() => Health) | undefined {
  if (!embedded && worker === undefined) return undefined;
  const named = worker === undefined ? {} : { worker };
  return () => {
    if (!embedded) return { healthy: true, details: named };
    const status = embedded.status();
    return { healthy: status.state === "running", details: { ...named, embeddedPostgres: status } };
  };
}
