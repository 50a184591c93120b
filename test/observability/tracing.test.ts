/**
 * OpenTelemetry: with OTEL_EXPORTER_OTLP_ENDPOINT set, a real server process sends its spans
 * over OTLP/HTTP to a receiver started here — a request's span (continuing the caller's
 * traceparent), the SQL statements and the connection test under it — and never a secret.
 */
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { GraphQLClient } from "../support/client";
import { createTestDatabase } from "../support/database";
import { createConnection, createWorkspace, signUp } from "../support/factories";
import { type RunningServer, startServerProcess } from "../support/patchbay-process";

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Array<{ key: string; value: Record<string, unknown> }>;
}

const PASSWORD = "trace-secret-Pa55word-9c1e";
const received: string[] = [];
let receiver: Server;
let server: RunningServer;
let database: Awaited<ReturnType<typeof createTestDatabase>>;
let dataDir: string;
let receiverPort: number;

beforeAll(async () => {
  receiverPort = await freePort();
  receiver = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      if (req.url === "/v1/traces") received.push(body);
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    });
  });
  await new Promise<void>((resolve) => receiver.listen(receiverPort, "127.0.0.1", resolve));
  database = await createTestDatabase("tracing");
  dataDir = await mkdtemp(join(tmpdir(), "patchbay-tracing-"));
  server = await startServerProcess({
    DATABASE_URL: database.url,
    PATCHBAY_MASTER_KEY: randomBytes(32).toString("base64"),
    PATCHBAY_DATA_DIR: dataDir,
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiverPort}`,
    OTEL_SERVICE_NAME: "patchbay-under-test",
    OTEL_BSP_SCHEDULE_DELAY: "200",
  });
}, 120_000);

afterAll(async () => {
  await server?.stop();
  receiver?.close();
  await database?.drop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

function spansOf(bodies: string[]): OtlpSpan[] {
  return bodies.flatMap((body) => {
    const parsed = JSON.parse(body) as { resourceSpans: Array<{ resource: unknown; scopeSpans: Array<{ spans: OtlpSpan[] }> }> };
    return parsed.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((s) => s.spans));
  });
}

function attribute(span: OtlpSpan, key: string): unknown {
  const value = span.attributes.find((a) => a.key === key)?.value;
  return value ? Object.values(value)[0] : undefined;
}

describe("tracing over OTLP", () => {
  it("sends a span per request, with its SQL statements and connection test beneath it, and no secret", async () => {
    const owner = await signUp(new GraphQLClient(server.url), "tracing");
    const workspace = await createWorkspace(owner.client);
    const connection = await createConnection(owner.client, workspace.id, { host: "127.0.0.1", port: 1, password: PASSWORD });
    const traceId = randomBytes(16).toString("hex");
    const response = await fetch(`${server.url}/graphql`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${owner.token}`,
        traceparent: `00-${traceId}-${randomBytes(8).toString("hex")}-01`,
      },
      body: JSON.stringify({ query: `mutation Probe($id: ID!) { testConnection(id: $id) { status errorCode } }`, variables: { id: connection.id } }),
    });
    expect(((await response.json()) as any).data.testConnection.errorCode).toBe("CONNECTION_REFUSED");
    // SIGTERM flushes what the batch processor still holds.
    await server.stop();
    // The access line carries the trace id, to go from a log line to its trace.
    expect(server.logLines().find((l) => l.msg === "request" && l.operation === "Probe")?.traceId).toBe(traceId);

    expect(received.length).toBeGreaterThan(0);
    expect(received.join("\n")).toContain("patchbay-under-test");
    const spans = spansOf(received);
    const request = spans.find((s) => s.traceId === traceId && s.name === "graphql mutation Probe");
    expect(request, spans.map((s) => s.name).join(", ")).toBeDefined();
    expect(request!.kind).toBe(2); // SERVER
    expect(attribute(request!, "http.response.status_code")).toBe(200);
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const test = inTrace.find((s) => s.name === "connection test")!;
    expect(test.parentSpanId).toBe(request!.spanId);
    expect(attribute(test, "patchbay.connection.type")).toBe("postgres");
    expect(attribute(test, "patchbay.test.code")).toBe("CONNECTION_REFUSED");
    const statements = inTrace.filter((s) => s.name.startsWith("db "));
    expect(statements.length).toBeGreaterThan(0);
    expect(statements.every((s) => attribute(s, "db.system.name") === "postgresql" && s.kind === 3)).toBe(true);
    expect(statements.some((s) => String(attribute(s, "db.query.text")).includes('"TestResult"'))).toBe(true);
    // Spans carry statement texts and names, never values.
    const all = received.join("\n");
    expect(all).not.toContain(PASSWORD);
    expect(all).not.toContain(owner.token);
  }, 60_000);
});

describe("without OTEL_EXPORTER_OTLP_ENDPOINT", () => {
  it("loads no OpenTelemetry module: src/ imports it only as types or lazily", () => {
    const src = new URL("../../src/", import.meta.url);
    const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith(".ts") && !f.startsWith("generated"));
    const eager = files.flatMap((file) =>
      readFileSync(new URL(file, src), "utf8")
        .split("\n")
        .filter((line) => /^\s*(import|export)\b(?!\s+type\b).*from\s+["']@opentelemetry\//.test(line))
        .map((line) => `${file}: ${line.trim()}`),
    );
    expect(files.length).toBeGreaterThan(50);
    expect(eager).toEqual([]);
  });
});
