/**
 * Amazon S3 and S3-compatible stores (MinIO, Ceph, R2, ...), in the layout of Airflow's `aws`
 * connection type: login is the access key id, password the secret access key, and `extra`
 * holds region_name, endpoint_url, aws_session_token, bucket and force_path_style. host, port
 * and schema are not used (the form has no fields for them; values in them are ignored), as in
 * Airflow, where the endpoint goes in extra.endpoint_url.
 *
 * The keys come from the connection and from nowhere else: this module never reads the
 * environment, shared config files or instance metadata (the AWS SDK's default credential
 * chain is not imported), so an s3 connection without keys is invalid, not "ambient".
 *
 * The test signs a real request with Signature Version 4 (the AWS SDK's own signer):
 * HeadBucket when a bucket is set, else ListBuckets. A HEAD error has no body to say why, so
 * an ambiguous one (400, 403, 404) is asked again as a GET on the same bucket (ListObjectsV2 with
 * max-keys=0, which needs the same permission) to tell a wrong key from a denied bucket.
 * Redirects are never followed: S3 redirects to another region, which is a setting to fix.
 */
import type { IncomingHttpHeaders } from "node:http";
import { formatDuration } from "./common/progress";
import { isIP } from "node:net";
import { DeadlineExceeded } from "./common/deadline";
import { checkEgress, isFailure } from "./common/egress";
import { hostProblem, urlHost } from "./common/host";
import { errorCode, networkFailure, type Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import { OpenRequests, sendRequest, type SentRequest, type Answer } from "./common/pinned-http";
import { lazyDriver } from "./common/driver";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext, TestOutcome } from "./types";

const DEFAULT_REGION = "us-east-1";
/** Enough for any S3 error document or a long bucket list's first page. */
const MAX_BODY_BYTES = 64 * 1024;

const fields: FieldSpec[] = [
  { name: "login", label: "Access key ID", kind: "STRING", required: true, placeholder: "AKIAIOSFODNN7EXAMPLE" },
  {
    name: "password",
    label: "Secret access key",
    kind: "PASSWORD",
    secret: true,
    required: true,
    description: "Keys are never taken from this server's environment or instance metadata; a connection needs its own.",
  },
  {
    name: "extra.region_name",
    label: "Region",
    kind: "STRING",
    default: DEFAULT_REGION,
    placeholder: "eu-west-1",
    description: "The bucket's region; requests are signed for it. S3-compatible stores usually accept us-east-1.",
  },
  {
    name: "extra.endpoint_url",
    label: "Endpoint URL",
    kind: "STRING",
    placeholder: "https://minio.example.com:9000",
    description: "For S3-compatible stores: http(s)://host[:port][/path]. Empty: AWS, https://s3.<region>.amazonaws.com.",
  },
  {
    name: "extra.aws_session_token",
    label: "Session token",
    kind: "PASSWORD",
    secret: true,
    description: "Only for temporary credentials (access key ids starting with ASIA).",
  },
  {
    name: "extra.bucket",
    safeToChange: true,
    label: "Bucket",
    kind: "STRING",
    placeholder: "my-bucket",
    description: "Tested with HeadBucket when set; otherwise the test lists the account's buckets.",
  },
  {
    name: "extra.verify",
    label: "Verify TLS certificate",
    kind: "BOOLEAN",
    default: true,
    description: "Check an https endpoint's certificate (Airflow's `verify`). Turn off only for a store with a self-signed certificate.",
  },
  {
    name: "extra.force_path_style",
    label: "Path-style addressing",
    kind: "BOOLEAN",
    description:
      "On: https://endpoint/bucket. Off: https://bucket.endpoint (virtual-hosted). Default: on when an endpoint URL is set, off for AWS.",
  },
];

export const s3Adapter: ConnectionAdapter = {
  id: "s3",
  label: "Amazon S3 / S3-compatible",
  summary: "signs HeadBucket (with a bucket) or ListBuckets; keys are required, never taken from the environment",
  airflow: { connType: "aws" },
  fields,
  validate: (settings) => {
    const target = s3Target(settings);
    return Array.isArray(target) ? target : [];
  },
  test: testS3,
};

export interface S3Target {
  /** Where requests go, without the bucket: `https://s3.eu-west-1.amazonaws.com`, `http://127.0.0.1:9000/s3`. */
  endpoint: URL;
  region: string;
  bucket: string | null;
  pathStyle: boolean;
  verifyTls: boolean;
  accessKeyId: string;
}

// Region names are signed and, for AWS, part of a host name.
const REGION = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;
// Today's rules for new buckets (3-63 characters, lowercase letters, digits, '.', '-').
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// The key id goes into the Authorization header's Credential=<id>/<scope>.
const ACCESS_KEY_ID = /^[\x21-\x7e]{1,128}$/;

/** The target with defaults applied, or every problem with the settings, by field. */
export function s3Target(settings: ConnectionSettings): S3Target | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const problem = (field: string, message: string) => problems.push({ field, message });
  const extra = settings.extra ?? {};

  const accessKeyId = settings.login?.trim() ?? "";
  if (!accessKeyId) problem("login", "Access key ID is required.");
  else if (!ACCESS_KEY_ID.test(accessKeyId) || /[/,]/.test(accessKeyId)) {
    problem("login", "An access key ID has no spaces, '/' or ',', e.g. AKIAIOSFODNN7EXAMPLE.");
  }
  if (!settings.password) problem("password", "Secret access key is required.");
  const token = extra.aws_session_token;
  if (token !== undefined && token !== null && (typeof token !== "string" || /[\u0000-\u001f\u007f]/.test(token))) {
    problem("extra.aws_session_token", "A session token is text without line breaks or control characters.");
  }

  const region = extra.region_name === undefined || extra.region_name === null || extra.region_name === "" ? DEFAULT_REGION : extra.region_name;
  if (typeof region !== "string" || !REGION.test(region)) {
    problem("extra.region_name", "A region is lowercase letters, digits and '-', e.g. eu-west-1.");
  }

  const bucket = extra.bucket === undefined || extra.bucket === null || extra.bucket === "" ? null : extra.bucket;
  if (bucket !== null && (typeof bucket !== "string" || !BUCKET.test(bucket) || bucket.includes(".."))) {
    problem("extra.bucket", "A bucket name is 3-63 lowercase letters, digits, '.' and '-', starting and ending with a letter or digit.");
  }

  const rawEndpoint = extra.endpoint_url === undefined || extra.endpoint_url === null || extra.endpoint_url === "" ? null : extra.endpoint_url;
  let endpoint: URL | null = null;
  if (rawEndpoint !== null) {
    const parsed = parseEndpoint(rawEndpoint);
    if (typeof parsed === "string") problem("extra.endpoint_url", parsed);
    else endpoint = parsed;
  } else if (typeof region === "string" && REGION.test(region)) {
    endpoint = new URL(`https://s3.${region}.${region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com"}`);
  }

  const verify = extra.verify ?? true;
  if (typeof verify !== "boolean") problem("extra.verify", "Verify TLS certificate must be true or false.");

  const force = extra.force_path_style;
  if (force !== undefined && force !== null && typeof force !== "boolean") {
    problem("extra.force_path_style", "Path-style addressing must be true or false.");
  }
  const pathStyle = typeof force === "boolean" ? force : rawEndpoint !== null;
  if (!pathStyle && endpoint && isIP(urlHost(endpoint))) {
    problem("extra.force_path_style", "Virtual-hosted addressing needs an endpoint with a host name, not an IP address; turn path-style on.");
  }

  if (problems.length > 0 || !endpoint) return problems;
  return { endpoint, region: region as string, bucket: bucket as string | null, pathStyle, verifyTls: verify !== false, accessKeyId };
}

function parseEndpoint(value: unknown): URL | string {
  const usage = "Enter an http(s) URL such as https://minio.example.com:9000.";
  if (typeof value !== "string" || /[\s\u0000-\u001f\u007f\\]/.test(value) || !URL.canParse(value)) {
    return `Not a usable endpoint URL. ${usage}`;
  }
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") return `The endpoint must use http or https. ${usage}`;
  if (url.username || url.password) return "The endpoint URL cannot hold a user or password; the keys have fields of their own.";
  if (url.search || url.hash || value.includes("?") || value.includes("#")) return "The endpoint URL cannot have a query or fragment.";
  const problem = hostProblem(url.hostname);
  if (problem) return `The endpoint's host: ${problem}`;
  // A path prefix (an S3 API behind a reverse proxy) is kept, without its trailing slash.
  url.pathname = url.pathname.replace(/\/+$/, "");
  return url;
}

type Operation = "HeadBucket" | "ListObjects" | "ListBuckets";

/** The URL an operation is sent to: the bucket in the path, or in the host name. */
export function operationUrl(target: S3Target, operation: Operation): URL {
  const url = new URL(target.endpoint.href);
  const base = url.pathname === "/" ? "" : url.pathname;
  if (operation === "ListBuckets" || !target.bucket) {
    url.pathname = `${base}/`;
  } else if (usesPathStyle(target)) {
    url.pathname = `${base}/${target.bucket}`;
  } else {
    url.hostname = `${target.bucket}.${url.hostname}`;
    url.pathname = `${base}/`;
  }
  if (operation === "ListObjects") url.search = "?list-type=2&max-keys=0";
  return url;
}

/**
 * As the AWS SDK does, a bucket with dots goes in the path over https even when virtual
 * hosting is asked for: `a.b.s3.amazonaws.com` does not match the `*.s3.amazonaws.com` certificate.
 */
function usesPathStyle(target: S3Target): boolean {
  return target.pathStyle || (target.endpoint.protocol === "https:" && (target.bucket ?? "").includes("."));
}

/** The AWS SDK's signer and hash, loaded with the first S3 test. */
const signing = lazyDriver(() => Promise.all([import("@smithy/signature-v4"), import("@aws-crypto/sha256-js")]));

async function sign(url: URL, method: "GET" | "HEAD", target: S3Target, settings: ConnectionSettings): Promise<Record<string, string>> {
  const token = settings.extra.aws_session_token;
  const [{ SignatureV4 }, { Sha256 }] = await signing.load();
  const signer = new SignatureV4({
    service: "s3",
    region: target.region,
    credentials: {
      accessKeyId: target.accessKeyId,
      secretAccessKey: settings.password ?? "",
      ...(typeof token === "string" && token !== "" ? { sessionToken: token } : {}),
    },
    sha256: Sha256,
    // S3 signs the path as sent, without the second encoding other services use.
    uriEscapePath: false,
    applyChecksum: true,
  });
  const signed = await signer.sign({
    method,
    protocol: url.protocol,
    hostname: url.hostname,
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    // `url.host` leaves out the scheme's default port, as the Host header sent will.
    headers: { host: url.host },
  });
  return signed.headers as Record<string, string>;
}

type S3ProbeTarget = S3Target & { requests: OpenRequests; endpointText: string };

const probe: Probe<S3ProbeTarget, TestOutcome> = {
  fields,
  target(settings) {
    const target = s3Target(settings);
    if (!Array.isArray(target)) return { ...target, requests: new OpenRequests(), endpointText: displayEndpoint(target.endpoint) };
    if (settings.login && target.some((problem) => problem.field === "password")) {
      return { code: "SECRET_REQUIRED", message: "This connection has no secret access key; keys are never taken from this server's environment." };
    }
    return { code: "INVALID_CONFIG", message: target.map((problem) => problem.message).join(" ") };
  },
  async open(target, { ctx, settings, closeWith }) {
    const { requests, endpointText: endpoint } = target;
    closeWith({ destroy: () => requests.destroyAll() });
    // Each host is resolved and checked once per test; a second request reuses the address.
    const checked = new Map<string, CheckedAddress>();
    const send = async (operation: Operation, method: "GET" | "HEAD"): Promise<Answer | Failure> => {
      const url = operationUrl(target, operation);
      const host = urlHost(url);
      const address = checked.get(host) ?? (await checkEgress(ctx, host));
      if (isFailure(address)) return address;
      checked.set(host, address);
      const headers = await sign(url, method, target, settings);
      return sendRequest({ url, method, headers, address, maxBodyBytes: method === "GET" ? MAX_BODY_BYTES : 0, verifyTls: target.verifyTls }, requests);
    };

    if (!target.bucket) return interpretListBuckets(await send("ListBuckets", "GET"), target, endpoint);
    const head = await send("HeadBucket", "HEAD");
    // A HEAD answer has no body; ask again where the status alone cannot say why.
    if (!noAnswer(head) && [400, 403, 404].includes(head.status) && !bucketRegion(head.headers)) {
      const get = await send("ListObjects", "GET");
      return interpretBucket(noAnswer(get) || errorCodeOf(get) === null ? head : get, target, endpoint);
    }
    return interpretBucket(head, target, endpoint);
  },
  describe: (_target, outcome) => (outcome.ok ? outcome : { code: outcome.code, message: outcome.message }),
  classify: (error, target, { ctx }) => describeError(error, target, target.endpointText, target.requests, ctx.timeoutMs),
};

function testS3(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

/** The request could not be sent or answered: egress refused it, or resolving failed. */
function noAnswer(value: Answer | Failure): value is Failure {
  return "code" in value;
}

function displayEndpoint(url: URL): string {
  return url.pathname === "/" ? url.origin : `${url.origin}${url.pathname}`;
}

function interpretListBuckets(answer: Answer | Failure, target: S3Target, endpoint: string): TestOutcome {
  if (noAnswer(answer)) return { ok: false, ...answer };
  if (answer.status === 200) {
    const body = answer.body.toString("utf8");
    if (!/<ListAllMyBucketsResult[\s>]/.test(body)) {
      return {
        ok: false,
        code: "PROTOCOL_ERROR",
        message: `${endpoint} answered 200 but not with an S3 bucket list. Is the endpoint URL an S3 API?`,
      };
    }
    const count = body.match(/<Bucket>/g)?.length ?? 0;
    const listed = answer.complete ? `${count}` : `at least ${count}`;
    return {
      ok: true,
      message: `Signed in to ${endpoint} as ${target.accessKeyId} (region ${target.region}); the key can see ${listed} bucket${count === 1 ? "" : "s"}.`,
      serverVersion: serverOf(answer.headers),
    };
  }
  return { ok: false, ...errorFailure(answer, target, endpoint) };
}

function interpretBucket(answer: Answer | Failure, target: S3Target, endpoint: string): TestOutcome {
  if (noAnswer(answer)) return { ok: false, ...answer };
  if (answer.status === 200) {
    return {
      ok: true,
      message: `Signed in to ${endpoint} as ${target.accessKeyId} (region ${target.region}); bucket ${target.bucket} exists and the key may use it.`,
      serverVersion: serverOf(answer.headers),
    };
  }
  return { ok: false, ...errorFailure(answer, target, endpoint) };
}

/** The S3 error codes this test names; any other text a server sends is never repeated. */
const KNOWN_ERRORS: Record<string, (target: S3Target, id: string) => Failure> = {
  SignatureDoesNotMatch: (t) => auth(`The secret access key does not match access key ID ${t.accessKeyId}: S3 computed a different signature.`),
  InvalidAccessKeyId: (t) => auth(`Access key ID ${t.accessKeyId} does not exist (or is inactive) at this endpoint.`),
  InvalidToken: () => auth("The session token is malformed or was not issued for this access key."),
  ExpiredToken: () => auth("The session token has expired; temporary credentials need renewing."),
  TokenRefreshRequired: () => auth("The session token must be refreshed."),
  AccessDenied: (t, id) => denied(`${id} signed in correctly, but the key is not allowed to ${t.bucket ? `use bucket ${t.bucket} (s3:ListBucket)` : "list buckets (s3:ListAllMyBuckets)"}.`),
  AllAccessDisabled: (t, id) => denied(`${id}: all access to ${t.bucket ? `bucket ${t.bucket}` : "this resource"} has been disabled.`),
  AccountProblem: (_t, id) => denied(`${id}: the account behind this key has a problem that prevents the operation.`),
  NoSuchBucket: (t, id) => ({ code: "NOT_FOUND", message: `${id}: bucket ${t.bucket} does not exist; the key was not refused.` }),
  InvalidBucketName: (t, id) => ({ code: "INVALID_CONFIG", message: `${id} does not accept ${t.bucket} as a bucket name.` }),
  RequestTimeTooSkewed: (_t, id) => ({ code: "UNKNOWN", message: `${id} refused the request because this server's clock differs too much from its own.` }),
  SlowDown: (_t, id) => ({ code: "UNKNOWN", message: `${id} asked to slow down; try again later.` }),
  ServiceUnavailable: (_t, id) => ({ code: "UNKNOWN", message: `${id} is unavailable; try again later.` }),
  InternalError: (_t, id) => ({ code: "UNKNOWN", message: `${id} had an internal error; try again later.` }),
};

function auth(message: string): Failure {
  return { code: "AUTH_FAILED", message };
}

function denied(message: string): Failure {
  return { code: "PERMISSION_DENIED", message };
}

function errorFailure(answer: Answer, target: S3Target, endpoint: string): Failure {
  const status = answer.status;
  const code = errorCodeOf(answer);
  const region = bucketRegion(answer.headers) ?? regionInBody(answer);
  const redirect = status === 301 || status === 307 || code === "PermanentRedirect" || code === "AuthorizationHeaderMalformed";
  if (redirect && region && region !== target.region) {
    return {
      code: "INVALID_CONFIG",
      message: `${target.bucket ? `Bucket ${target.bucket}` : "The endpoint"} is in region ${region}, not ${target.region}: set Region to ${region}.`,
    };
  }
  if (code && Object.hasOwn(KNOWN_ERRORS, code)) return KNOWN_ERRORS[code](target, endpoint);
  if (redirect || (status >= 300 && status < 400)) {
    return {
      code: "INVALID_CONFIG",
      message: `${endpoint} answered ${status} (a redirect${region ? "" : " to an address it did not name"}); redirects are not followed. Check the region and endpoint URL.`,
    };
  }
  if (status === 404) {
    return target.bucket
      ? { code: "NOT_FOUND", message: `${endpoint}: bucket ${target.bucket} was not found (404).` }
      : { code: "INVALID_CONFIG", message: `${endpoint} answered 404 to ListBuckets. Is the endpoint URL an S3 API (without a bucket in it)?` };
  }
  if (status === 403) {
    return denied(`${endpoint} answered 403 Forbidden without saying why: the key may not ${target.bucket ? `use bucket ${target.bucket}` : "list buckets"}, or the signature was refused.`);
  }
  if (status >= 500) return { code: "UNKNOWN", message: `${endpoint} answered ${status}, a server-side error; try again later.` };
  if (!code) return { code: "PROTOCOL_ERROR", message: `${endpoint} answered ${status} without an S3 error document. Is the endpoint URL an S3 API?` };
  return { code: "UNKNOWN", message: `${endpoint} answered ${status} with an S3 error this test does not recognise.` };
}

/** The `<Code>` of an S3 error document, if the body is one. */
function errorCodeOf(answer: Answer): string | null {
  return /<Error>[\s\S]*?<Code>([A-Za-z0-9.]{1,64})<\/Code>/.exec(answer.body.toString("utf8"))?.[1] ?? null;
}

function bucketRegion(headers: IncomingHttpHeaders): string | null {
  const region = headers["x-amz-bucket-region"];
  return typeof region === "string" && REGION.test(region) ? region : null;
}

function regionInBody(answer: Answer): string | null {
  const region = /<Region>([a-z0-9-]{1,64})<\/Region>/.exec(answer.body.toString("utf8"))?.[1];
  return region && REGION.test(region) ? region : null;
}

function serverOf(headers: IncomingHttpHeaders): string | null {
  const server = headers.server;
  if (typeof server !== "string") return null;
  return server.replace(/[^\x20-\x7e]+/g, " ").trim().slice(0, 100) || null;
}

function describeError(error: unknown, target: S3Target, endpoint: string, requests: OpenRequests, timeoutMs: number): Failure {
  const last: SentRequest | undefined = requests.last();
  const url = last?.url ?? target.endpoint;
  const where = url.host === target.endpoint.host ? endpoint : `${url.protocol}//${url.host}`;
  if (error instanceof DeadlineExceeded) {
    if (last?.responded) return { code: "TIMEOUT", message: `${where} sent its answer's headers but not the rest within ${formatDuration(timeoutMs)}.` };
    if (last?.connected) {
      return { code: "TIMEOUT", message: `${where} accepted the connection but did not answer the signed S3 request within ${formatDuration(timeoutMs)}. Is it an S3 API?` };
    }
    if (!last) return { code: "TIMEOUT", message: `Resolving ${urlHost(url)} did not finish within ${formatDuration(timeoutMs)}.` };
    return { code: "TIMEOUT", message: `${where} did not accept a connection within ${formatDuration(timeoutMs)}. Check the endpoint and firewall.` };
  }
  const port = url.port ? Number(url.port) : url.protocol === "https:" ? 443 : 80;
  const network = networkFailure(error, { host: urlHost(url), port });
  if (network) return network;
  const code = errorCode(error) ?? "";
  if (code.startsWith("HPE_")) return { code: "PROTOCOL_ERROR", message: `${where} did not answer like an HTTP server. Is the endpoint URL an S3 API?` };
  return { code: "UNKNOWN", message: `The request to ${where} failed${code ? ` (${code})` : ""}.` };
}
