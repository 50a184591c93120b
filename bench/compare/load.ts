/**
 * One bounded load run with autocannon (in this process, one thread): a fixed number of
 * connections for a fixed time, every request built by the measurement so both servers see
 * the same sequence of names and workspaces. Every response body is checked, so a server
 * answering errors fast does not look fast.
 */
import autocannon from "autocannon";

export interface RequestShape {
  method: "GET" | "POST";
  path: string;
  headers: Record<string, string>;
  body?: string;
}

export interface LoadResult {
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  requests: number;
  /** Connection errors and timeouts. */
  errors: number;
  non2xx: number;
  /** 2xx responses whose body failed the check (e.g. GraphQL errors, which come with 200). */
  mismatches: number;
}

export interface LoadOptions {
  connections: number;
  seconds: number;
  /** Stop after this many requests instead (bounded by `seconds` still). */
  amount?: number;
}

export async function hammer(
  baseUrl: string,
  next: () => RequestShape,
  verify: (body: string) => boolean,
  options: LoadOptions,
): Promise<LoadResult> {
  const instance = autocannon({
    url: baseUrl,
    connections: options.connections,
    duration: options.seconds,
    ...(options.amount ? { amount: options.amount } : {}),
    timeout: 10,
    requests: [
      {
        setupRequest: (request: any) => {
          const shape = next();
          request.method = shape.method;
          request.path = shape.path;
          request.headers = { ...shape.headers, ...(shape.body ? { "content-type": "application/json" } : {}) };
          request.body = shape.body;
          return request;
        },
      },
    ],
    verifyBody: verify,
  } as autocannon.Options) as unknown as autocannon.Instance & Promise<autocannon.Result>;
  // autocannon's own histogram keeps whole milliseconds; the floor answers in about one.
  const latencies: number[] = [];
  instance.on("response", (_client: unknown, _status: number, _bytes: number, responseTime: number) => latencies.push(responseTime));
  const result = await instance;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return {
    rps: result.requests.total / result.duration,
    p50: at(0.5),
    p90: at(0.9),
    p99: at(0.99),
    max: latencies[latencies.length - 1] ?? NaN,
    requests: result.requests.total,
    errors: result.errors,
    non2xx: result.non2xx,
    mismatches: result.mismatches,
  };
}
