/**
 * OpenTelemetry tracing, on only when OTEL_EXPORTER_OTLP_ENDPOINT (or
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is set: then the SDK is imported, spans are batched and
 * sent over OTLP/HTTP (JSON) with the standard OTEL_* settings, and requests, SQL statements
 * and connection tests get spans. Unset, nothing of OpenTelemetry is even loaded: `inSpan`
 * is one null check and a direct call.
 */
import type { Attributes, Span, Tracer } from "@opentelemetry/api";
import type { IncomingHttpHeaders } from "node:http";

type Api = typeof import("@opentelemetry/api");

let api: Api | null = null;
let tracer: Tracer | null = null;

export function tracingConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) && env.OTEL_SDK_DISABLED !== "true";
}

export function tracingActive(): boolean {
  return tracer !== null;
}

/** Starts the SDK when configured; the returned function flushes and stops it (call it last). */
export async function startTracing(version: string): Promise<(() => Promise<void>) | null> {
  if (!tracingConfigured() || tracer) return null;
  const [otel, { NodeTracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }] = await Promise.all([
    import("@opentelemetry/api"),
    import("@opentelemetry/sdk-trace-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
    import("@opentelemetry/resources"),
  ]);
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ "service.name": process.env.OTEL_SERVICE_NAME ?? "patchbay", "service.version": version }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  // The async-hooks context manager and W3C trace-context propagation (traceparent).
  provider.register();
  api = otel;
  tracer = otel.trace.getTracer("patchbay", version);
  return async () => {
    tracer = null;
    await provider.shutdown();
  };
}

/** What a span body may add once it knows the outcome. */
export interface SpanNotes {
  set(attributes: Attributes): void;
}

const NO_NOTES: SpanNotes = { set: () => {} };

/** Runs `fn` in a span named `name` when tracing is on; otherwise just runs it. */
export function inSpan<T>(name: string, attributes: Attributes, fn: (notes: SpanNotes) => Promise<T>, kind: "internal" | "client" = "internal"): Promise<T> {
  if (!tracer || !api) return fn(NO_NOTES);
  const otel = api;
  const spanKind = kind === "client" ? otel.SpanKind.CLIENT : otel.SpanKind.INTERNAL;
  return tracer.startActiveSpan(name, { attributes, kind: spanKind }, async (span) => {
    try {
      return await fn({ set: (more) => span.setAttributes(more) });
    } catch (error) {
      span.recordException(error as Error);
      span.setStatus({ code: otel.SpanStatusCode.ERROR });
      throw error;
    } finally {
      span.end();
    }
  });
}

/**
 * The span of one incoming HTTP request, continuing the caller's trace when it sent a
 * traceparent header. `finish` ends it with the response's status.
 */
export function startRequestSpan<T>(method: string, headers: IncomingHttpHeaders, fn: (span: RequestSpan | null) => T): T {
  if (!tracer || !api) return fn(null);
  const otel = api;
  const parent = otel.propagation.extract(otel.context.active(), headers);
  const span = tracer.startSpan(`HTTP ${method}`, { kind: otel.SpanKind.SERVER, attributes: { "http.request.method": method } }, parent);
  const handle: RequestSpan = {
    span,
    finish(status, route) {
      span.setAttributes({ "http.response.status_code": status, "http.route": route });
      if (status >= 500) span.setStatus({ code: otel.SpanStatusCode.ERROR });
      span.end();
    },
  };
  return otel.context.with(otel.trace.setSpan(parent, span), () => fn(handle));
}

export interface RequestSpan {
  span: Span;
  finish(status: number, route: string): void;
}

/** Renames a request's span once its GraphQL operation is known. */
export function nameRequestSpan(handle: RequestSpan | null | undefined, name: string, attributes: Attributes): void {
  if (!handle) return;
  handle.span.updateName(name);
  handle.span.setAttributes(attributes);
}

/** A span for one SQL statement, or null when tracing is off (pg-instrumentation.ts). */
export function startStatementSpan(text: string): Span | null {
  if (!tracer || !api) return null;
  const operation = /^\s*([A-Za-z]+)/.exec(text)?.[1]?.toUpperCase() ?? "SQL";
  return tracer.startSpan(`db ${operation}`, {
    kind: api.SpanKind.CLIENT,
    attributes: { "db.system.name": "postgresql", "db.operation.name": operation, "db.query.text": text.slice(0, 2_000) },
  });
}

export function endStatementSpan(span: Span | null, error?: unknown): void {
  if (!span || !api) return;
  if (error) {
    span.setStatus({ code: api.SpanStatusCode.ERROR });
    const code = (error as { code?: unknown }).code;
    if (typeof code === "string") span.setAttribute("db.response.status_code", code);
  }
  span.end();
}
