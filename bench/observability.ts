/**
 * What observability adds to every request, measured in-process: the request record
 * (AsyncLocalStorage), the access-log line (built, redacted, serialised by pino into a sink
 * that drops it) and the request metrics. Run: `node --import tsx bench/observability.ts`.
 * Numbers and their ratio to bench:compare's floor are in bench/README.md.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createLogger } from "../src/log";
import { accessLog } from "../src/observability/access-log";
import { type RequestRecord, runWithRecord } from "../src/observability/request-record";

const N = 200_000;
const req = { method: "POST", headers: {}, socket: { remoteAddress: "127.0.0.1" } } as unknown as IncomingMessage;
const res = { writableFinished: true, statusCode: 200 } as unknown as ServerResponse;

function record(): RequestRecord {
  return {
    route: "graphql",
    operationName: "Page",
    operationType: "query",
    fields: ["workspace"],
    actor: { kind: "API_TOKEN", id: "5f0c7a9e-7b1a-4d1e-9f65-3a3c2b1e0d9f" },
  };
}

function measure(label: string, fn: () => void): number {
  for (let i = 0; i < 20_000; i++) fn(); // warm-up
  const started = process.cpuUsage();
  for (let i = 0; i < N; i++) fn();
  const used = process.cpuUsage(started);
  const us = (used.user + used.system) / N;
  console.log(`${label.padEnd(58)} ${us.toFixed(2)} µs CPU per request`);
  return us;
}

const info = accessLog({ logger: createLogger({ level: "info", sink: () => {} }), clientAddress: () => "127.0.0.1" });
const quiet = accessLog({ logger: createLogger({ level: "warn", sink: () => {} }), clientAddress: () => "127.0.0.1" });

const baseline = measure("nothing (the loop and a record object)", () => void record());
const als = measure("request record in AsyncLocalStorage", () => runWithRecord(record(), () => undefined));
const metricsOnly = measure("metrics only (access line below the log level)", () => quiet(record(), req, res, 12.3));
const full = measure("metrics and the access-log line (info)", () => info(record(), req, res, 12.3));
console.log(`\nper request, above the loop: record ${(als - baseline).toFixed(2)} µs, metrics ${(metricsOnly - baseline).toFixed(2)} µs, metrics + line ${(full - baseline).toFixed(2)} µs`);
