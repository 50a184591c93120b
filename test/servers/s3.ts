/**
 * An S3-compatible server for tests that checks signatures the way S3 does. s3rver (in this
 * process, on 127.0.0.1, in a temp dir) speaks the S3 REST API but does not verify Signature
 * V4 (shared/recipes/test-services.md), so a small HTTP proxy in front of it recomputes each
 * request's signature with the official signer and the known secret, and answers like S3:
 * `403 InvalidAccessKeyId` for an unknown key id, `403 SignatureDoesNotMatch` for a wrong
 * secret, `400 InvalidToken` for a wrong session token, `301 PermanentRedirect` (with
 * x-amz-bucket-region) for a bucket that lives in another region. As S3 does, error answers
 * to HEAD have no body. Requests that pass are forwarded to s3rver under its own key id.
 */
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { timingSafeEqual } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface S3Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** What the proxy saw of one request, and what it did with it. */
export interface SeenRequest {
  method: string;
  path: string;
  host: string;
  signedHeaders: string[];
  headers: IncomingMessage["headers"];
  /** "forwarded", or the S3 error code the proxy answered with. */
  verdict: string;
}

export interface S3Service {
  /** The proxy's URL, for extra.endpoint_url. */
  endpoint: string;
  port: number;
  region: string;
  /** A bucket that exists. */
  bucket: string;
  /** A bucket that "lives" in another region: the proxy redirects like S3 does. */
  farBucket: { name: string; region: string };
  keys: S3Keys;
  /** Temporary credentials: only valid with their session token. */
  temporaryKeys: Required<S3Keys>;
  seen: SeenRequest[];
  stop(): Promise<void>;
}

export interface S3ServiceOptions {
  region?: string;
  /** Host names ending in this are virtual-hosted: `<bucket>.s3.<serviceEndpoint>`. */
  serviceEndpoint?: string;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
}
type S3rverClass = new (options: Record<string, unknown>) => S3rverInstance;

// s3rver is CommonJS without type declarations.
const S3rver = createRequire(import.meta.url)("s3rver") as S3rverClass;

/** The key id s3rver itself knows; it does not check V4 signatures, so any secret will do. */
const S3RVER_KEY_ID = "S3RVER";

export async function startS3(options: S3ServiceOptions = {}): Promise<S3Service> {
  const region = options.region ?? "us-east-1";
  const dir = await mkdtemp(join(tmpdir(), "patchbay-s3-"));
  const bucket = "patchbay-test-bucket";
  const farBucket = { name: "patchbay-far-bucket", region: "eu-west-3" };
  const keys: S3Keys = { accessKeyId: "AKIAPATCHBAYTEST0001", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYtest+secret" };
  const temporaryKeys: Required<S3Keys> = {
    accessKeyId: "ASIAPATCHBAYTEST0002",
    secretAccessKey: "tmp/Secret+Key/forTheSessionToken0002",
    sessionToken: "FwoGZXIvYXdzEPatchbayTestSessionToken//////////wEaDA==",
  };
  const known = new Map([keys, temporaryKeys].map((k) => [k.accessKeyId, k]));

  const s3rver = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory: dir,
    serviceEndpoint: options.serviceEndpoint ?? "patchbay.test",
    configureBuckets: [{ name: bucket }],
  });
  let upstreamPort: number;
  try {
    upstreamPort = (await s3rver.run()).port;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  const seen: SeenRequest[] = [];
  const proxy = http.createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const [path, rawQuery = ""] = (req.url ?? "/").split("?", 2);
    const record: SeenRequest = { method: req.method ?? "", path, host: req.headers.host ?? "", signedHeaders: [], headers: req.headers, verdict: "" };
    seen.push(record);
    const refuse = (status: number, code: string, extra: Record<string, string> = {}) => {
      record.verdict = code;
      req.resume();
      sendError(res, req.method === "HEAD", status, code, extra);
    };

    const auth = parseAuthorization(req.headers.authorization);
    if (!auth) return refuse(403, "AccessDenied");
    record.signedHeaders = auth.signedHeaders;
    const credentials = known.get(auth.accessKeyId);
    if (!credentials) return refuse(403, "InvalidAccessKeyId");
    const token = req.headers["x-amz-security-token"];
    if (credentials.sessionToken) {
      if (typeof token !== "string" || !auth.signedHeaders.includes("x-amz-security-token")) return refuse(403, "InvalidAccessKeyId");
      if (token !== credentials.sessionToken) return refuse(400, "InvalidToken");
    }

    const expected = await signatureFor(req, path, rawQuery, auth, credentials.secretAccessKey);
    if (!expected || !sameText(expected, auth.signature)) return refuse(403, "SignatureDoesNotMatch");
    if (auth.region !== region) return refuse(400, "AuthorizationHeaderMalformed", { Region: region });
    if (path === `/${farBucket.name}` || path.startsWith(`/${farBucket.name}/`)) {
      return refuse(301, "PermanentRedirect", { "x-amz-bucket-region": farBucket.region });
    }

    record.verdict = "forwarded";
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: upstreamPort,
        method: req.method,
        path: req.url,
        headers: {
          ...req.headers,
          authorization: req.headers.authorization!.replace(/Credential=[^/]+\//, `Credential=${S3RVER_KEY_ID}/`),
        },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, server: "S3rver/3.7 (Patchbay test proxy)" });
        answer.pipe(res);
      },
    );
    upstream.on("error", () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(upstream);
  }

  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const address = proxy.address();
  if (!address || typeof address === "string") throw new Error("no port");

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    port: address.port,
    region,
    bucket,
    farBucket,
    keys,
    temporaryKeys,
    seen,
    stop: async () => {
      proxy.closeAllConnections();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
      await s3rver.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

interface Authorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

const AUTHORIZATION =
  /^AWS4-HMAC-SHA256 Credential=([^/\s,]+)\/(\d{8})\/([^/\s,]+)\/([^/\s,]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

function parseAuthorization(header: string | undefined): Authorization | null {
  const match = header ? AUTHORIZATION.exec(header) : null;
  if (!match) return null;
  const [, accessKeyId, date, region, service, signedHeaders, signature] = match;
  return { accessKeyId, date, region, service, signedHeaders: signedHeaders.split(";"), signature };
}

/** The signature S3 would compute for this request with the secret it knows. */
async function signatureFor(req: IncomingMessage, path: string, rawQuery: string, auth: Authorization, secret: string): Promise<string | null> {
  const amzDate = req.headers["x-amz-date"];
  const date = typeof amzDate === "string" ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate) : null;
  if (!date || amzDate!.slice(0, 8) !== auth.date || !auth.signedHeaders.includes("host")) return null;
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = req.headers[name];
    if (value === undefined) return null;
    headers[name] = Array.isArray(value) ? value.join(",") : value;
  }
  const signer = new SignatureV4({
    service: auth.service,
    region: auth.region,
    credentials: { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
    sha256: Sha256,
    uriEscapePath: false,
    applyChecksum: true,
  });
  const signed = await signer.sign(
    { method: req.method ?? "GET", protocol: "http:", hostname: headers.host, path, query: Object.fromEntries(new URLSearchParams(rawQuery)), headers },
    { signingDate: new Date(`${date[1]}-${date[2]}-${date[3]}T${date[4]}:${date[5]}:${date[6]}Z`), signingRegion: auth.region, signingService: auth.service },
  );
  const recomputed = parseAuthorization(String(signed.headers.authorization));
  // A header list that differs from the one signed is a different canonical request.
  if (!recomputed || recomputed.signedHeaders.join(";") !== auth.signedHeaders.join(";")) return null;
  return recomputed.signature;
}

function sameText(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

const MESSAGES: Record<string, string> = {
  AccessDenied: "Access Denied",
  InvalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records.",
  SignatureDoesNotMatch: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
  InvalidToken: "The provided token is malformed or otherwise invalid.",
  AuthorizationHeaderMalformed: "The authorization header is malformed; the region is wrong.",
  PermanentRedirect: "The bucket you are attempting to access must be addressed using the specified endpoint.",
};

function sendError(res: ServerResponse, head: boolean, status: number, code: string, extra: Record<string, string>): void {
  const headers: Record<string, string> = { "content-type": "application/xml", "x-amz-request-id": "PATCHBAYTEST" };
  if (extra["x-amz-bucket-region"]) headers["x-amz-bucket-region"] = extra["x-amz-bucket-region"];
  const fields = Object.entries(extra)
    .filter(([name]) => !name.startsWith("x-amz-"))
    .map(([name, value]) => `<${name}>${value}</${name}>`)
    .join("");
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${MESSAGES[code] ?? code}</Message>${fields}<RequestId>PATCHBAYTEST</RequestId></Error>`;
  res.writeHead(status, headers);
  res.end(head ? undefined : body);
}
