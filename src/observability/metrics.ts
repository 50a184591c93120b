/**
 * Prometheus metrics (prom-client), one registry per process. Services count what they do
 * through the named metrics below; `/metrics` (metrics-endpoint.ts) renders the registry.
 * Labels take values from fixed sets only (routes, schema field names, error codes, adapter
 * ids), never from what a client typed, so no request can grow the number of series.
 */
import type pg from "pg";
import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";

export const registry = new Registry();

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export const metrics = {
  httpRequests: new Counter({
    name: "patchbay_http_requests_total",
    help: "HTTP requests answered, by route, method and status code.",
    labelNames: ["route", "method", "status"] as const,
    registers: [registry],
  }),
  httpDuration: new Histogram({
    name: "patchbay_http_request_duration_seconds",
    help: "Time from a request's arrival to the end of its response, by route.",
    labelNames: ["route"] as const,
    buckets: SECONDS,
    registers: [registry],
  }),
  graphqlOperations: new Counter({
    name: "patchbay_graphql_operations_total",
    help: "GraphQL operations by root field (one, or (multiple)), operation type and outcome (ok or the first error code).",
    labelNames: ["operation", "type", "outcome"] as const,
    registers: [registry],
  }),
  graphqlDuration: new Histogram({
    name: "patchbay_graphql_operation_duration_seconds",
    help: "Time to answer a GraphQL operation, by root field and operation type.",
    labelNames: ["operation", "type"] as const,
    buckets: SECONDS,
    registers: [registry],
  }),
  resolves: new Counter({
    name: "patchbay_resolves_total",
    help: "Connection resolves (secrets handed out), over GraphQL and REST, by outcome (ok or the error code).",
    labelNames: ["outcome"] as const,
    registers: [registry],
  }),
  connectionTests: new Counter({
    name: "patchbay_connection_tests_total",
    help: "Connection tests by connection type, status and code (none for SUCCESS).",
    labelNames: ["type", "status", "code"] as const,
    registers: [registry],
  }),
  connectionTestDuration: new Histogram({
    name: "patchbay_connection_test_duration_seconds",
    help: "Duration of connection tests, waiting for a slot included, by connection type.",
    labelNames: ["type"] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  }),
  rateLimited: new Counter({
    name: "patchbay_rate_limited_total",
    help: "Requests refused with RATE_LIMITED, by the limit that refused them.",
    labelNames: ["limit"] as const,
    registers: [registry],
  }),
};

/** The pools this process uses (normally one); their use is read when scraped. */
const pools = new Set<pg.Pool>();

new Gauge({
  name: "patchbay_db_pool_connections",
  help: "Database connections of this process's pool: total open, idle, and requests waiting for one.",
  labelNames: ["state"] as const,
  registers: [registry],
  collect() {
    let total = 0;
    let idle = 0;
    let waiting = 0;
    for (const pool of pools) {
      total += pool.totalCount;
      idle += pool.idleCount;
      waiting += pool.waitingCount;
    }
    this.set({ state: "total" }, total);
    this.set({ state: "idle" }, idle);
    this.set({ state: "waiting" }, waiting);
  },
});

new Gauge({
  name: "patchbay_db_pool_max_connections",
  help: "The most connections this process's pool opens.",
  registers: [registry],
  collect() {
    let max = 0;
    for (const pool of pools) max += pool.options.max ?? 10;
    this.set(max);
  },
});

/** Counts `pool` in the pool gauges until the returned function is called. */
export function observePool(pool: pg.Pool): () => void {
  pools.add(pool);
  return () => void pools.delete(pool);
}

/** Key rotation progress: rows still sealed with a workspace key older than its current one. */
export interface KeyRotationProgress {
  /** Sealed rows waiting to be re-encrypted with their workspace's current key. */
  pendingRows: number;
  /** Workspaces with at least one such row. */
  workspaces: number;
}

type ProgressSource = () => Promise<KeyRotationProgress>;
let rotationSource: ProgressSource | null = null;

/**
 * Where the rotation gauges come from: app.ts registers a query over the sealed tables; the
 * re-encryption job may register its own view instead. The returned function unregisters.
 */
export function setKeyRotationProgressSource(source: ProgressSource): () => void {
  rotationSource = source;
  return () => {
    if (rotationSource === source) rotationSource = null;
  };
}

const rotationPendingRows = new Gauge({
  name: "patchbay_key_rotation_pending_rows",
  help: "Sealed rows still encrypted with an older workspace key than the workspace's current one (0 when rotation has caught up).",
  registers: [registry],
  async collect() {
    const progress = await readRotationProgress();
    if (progress) {
      this.set(progress.pendingRows);
      rotationWorkspaces.set(progress.workspaces);
    }
  },
});
const rotationWorkspaces = new Gauge({
  name: "patchbay_key_rotation_pending_workspaces",
  help: "Workspaces with rows still sealed under an older key.",
  registers: [registry],
});
void rotationPendingRows;

async function readRotationProgress(): Promise<KeyRotationProgress | null> {
  if (!rotationSource) return null;
  try {
    return await rotationSource();
  } catch {
    // A scrape must not fail because the database is slow; the gauges keep their last values.
    return null;
  }
}

let defaultsCollected = false;

/** Process metrics (CPU, memory, event loop lag, GC, handles): prom-client's defaults. */
export function collectProcessMetrics(): void {
  if (defaultsCollected) return;
  defaultsCollected = true;
  collectDefaultMetrics({ register: registry });
}

/** Gauges read from the app's parts when scraped; a part registers its reader (observeState). */
const STATE_GAUGES = {
  patchbay_cache_listener_up: "1 while this process listens for cache invalidations (LISTEN/NOTIFY); 0 means its caches are bypassed.",
  patchbay_embedded_postgres_up: "1 while the embedded PostgreSQL runs (only with the embedded database).",
} as const;

export type StateGaugeName = keyof typeof STATE_GAUGES;

const stateReaders = new Map<StateGaugeName, () => number>();

for (const [name, help] of Object.entries(STATE_GAUGES) as Array<[StateGaugeName, string]>) {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const read = stateReaders.get(name);
      // Without a reader (no embedded PostgreSQL) the gauge has no sample at all.
      if (read) this.set(read());
      else this.reset();
    },
  });
}

/** Feeds the gauge `name` from `read` until the returned function is called. */
export function observeState(name: StateGaugeName, read: () => number): () => void {
  stateReaders.set(name, read);
  return () => {
    if (stateReaders.get(name) === read) stateReaders.delete(name);
  };
}

/**
 * PATCHBAY_WORKERS: a worker answers the primary's requests for its metrics (prom-client's
 * cluster messages), so the primary can serve every worker's counts added up.
 */
export function shareWithClusterPrimary(): void {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one installs the worker's message listener (idempotent).
  new AggregatorRegistry();
}

/** The primary's view: every worker's registry, counters and histograms summed. */
export function clusterMetricsRenderer(): () => Promise<{ text: string; contentType: string }> {
  const aggregator = new AggregatorRegistry();
  return async () => ({ text: await aggregator.clusterMetrics(), contentType: aggregator.contentType });
}
