/**
 * Google Cloud Storage, in the layout of Airflow's `google_cloud_platform` connection: a
 * service-account JSON key in `extra.keyfile_dict` (secret; checked to be one when saved),
 * optional `extra.project` and `extra.bucket`. The test does what Google's client libraries do:
 * signs a JWT with the key (RS256, jose) and exchanges it at the key's token_uri for an
 * access token (RFC 7523), then reads the bucket's metadata (or lists one bucket of the
 * project) with it. Where the requests go: the key's token_uri (default Google's) and
 * `extra.api_endpoint` (default https://storage.googleapis.com), both plain http(s) URLs that
 * the egress policy checks like any host, so pointing them elsewhere reaches nothing the
 * policy forbids. Error answers are named by status and a fixed list, never repeated.
 */
import { createPrivateKey } from "node:crypto";
import { SignJWT } from "jose";
import { httpRequest, isHttpFailure, serverHeader, type HttpAnswer } from "./common/http-request";
import { parseHttpUrl } from "./common/http-url";
import type { Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec, TestContext } from "./types";

const GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token";
const GOOGLE_STORAGE = "https://storage.googleapis.com";
const READ_ONLY = "https://www.googleapis.com/auth/devstorage.read_only";
const MAX_BODY_BYTES = 64 * 1024;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;
const PROJECT = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[a-z0-9.:-]{1,100}$/;

const fields: FieldSpec[] = [
  {
    name: "extra.keyfile_dict",
    label: "Service account key (JSON)",
    kind: "TEXT",
    secret: true,
    required: true,
    description: "The JSON key file of a service account, as Google Cloud's console downloads it.",
  },
  { name: "extra.project", label: "Project", kind: "STRING", placeholder: "my-project", description: "Empty: the key's project." },
  {
    name: "extra.bucket",
    safeToChange: true,
    label: "Bucket",
    kind: "STRING",
    placeholder: "my-bucket",
    description: "Its metadata is read when set; otherwise the test lists one bucket of the project.",
  },
  {
    name: "extra.api_endpoint",
    label: "Storage API endpoint",
    kind: "STRING",
    placeholder: GOOGLE_STORAGE,
    description: "Empty: Google's. For a private endpoint; checked against the egress policy like any host.",
  },
];

interface ServiceAccount {
  clientEmail: string;
  privateKey: string;
  keyId: string | null;
  projectId: string | null;
  tokenUri: URL;
}

interface GcsTarget {
  account: ServiceAccount;
  project: string | null;
  bucket: string | null;
  api: URL;
}

/** The key's fields, or what is wrong with it (never quoting the key). */
export function serviceAccountOf(value: unknown): ServiceAccount | string {
  let key: Record<string, unknown>;
  try {
    const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) return "The key is not a JSON object.";
    key = parsed as Record<string, unknown>;
  } catch {
    return "The key is not valid JSON; paste the whole key file.";
  }
  if (key.type !== "service_account") return 'The key is not a service account key ("type" must be "service_account").';
  if (typeof key.client_email !== "string" || !/^[^@\s]+@[^@\s]+$/.test(key.client_email)) return "The key has no client_email.";
  if (typeof key.private_key !== "string") return "The key has no private_key.";
  try {
    const parsedKey = createPrivateKey(key.private_key);
    if (parsedKey.asymmetricKeyType !== "rsa") return "The key's private_key is not an RSA key.";
  } catch {
    return "The key's private_key is not a PEM private key.";
  }
  const tokenUri = parseHttpUrl(key.token_uri ?? GOOGLE_TOKEN_URI, "The key's token_uri", GOOGLE_TOKEN_URI);
  if (typeof tokenUri === "string") return tokenUri;
  return {
    clientEmail: key.client_email,
    privateKey: key.private_key,
    keyId: typeof key.private_key_id === "string" && /^[A-Za-z0-9_-]{1,100}$/.test(key.private_key_id) ? key.private_key_id : null,
    projectId: typeof key.project_id === "string" ? key.project_id : null,
    tokenUri,
  };
}

function targetOf(settings: ConnectionSettings): GcsTarget | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const account = serviceAccountOf(settings.extra.keyfile_dict);
  if (typeof account === "string") problems.push({ field: "extra.keyfile_dict", message: account });
  const text = (key: string) => (typeof settings.extra[key] === "string" && settings.extra[key] !== "" ? (settings.extra[key] as string).trim() : null);
  const bucket = text("bucket");
  if (bucket && !BUCKET.test(bucket)) problems.push({ field: "extra.bucket", message: "A bucket name is 3-222 lowercase letters, digits, '.', '_' and '-'." });
  const project = text("project");
  if (project && !PROJECT.test(project)) problems.push({ field: "extra.project", message: "Not a project id such as my-project-123." });
  const api = parseHttpUrl(text("api_endpoint") ?? GOOGLE_STORAGE, "The storage API endpoint", GOOGLE_STORAGE);
  if (typeof api === "string") problems.push({ field: "extra.api_endpoint", message: api });
  if (problems.length > 0) return problems;
  const endpoint = api as URL;
  endpoint.pathname = endpoint.pathname.replace(/\/+$/, "");
  const sa = account as ServiceAccount;
  return { account: sa, project: project ?? sa.projectId, bucket, api: endpoint };
}

type Exchange = { stage: "token" | "storage"; answer: HttpAnswer } | Failure;

/** The signed JWT a service account presents to its token_uri (RFC 7523, Google's claims). */
async function assertion(account: ServiceAccount): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: READ_ONLY })
    .setProtectedHeader({ alg: "RS256", typ: "JWT", ...(account.keyId ? { kid: account.keyId } : {}) })
    .setIssuer(account.clientEmail)
    .setAudience(account.tokenUri.href)
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(createPrivateKey(account.privateKey));
}

async function exchange(target: GcsTarget, ctx: TestContext): Promise<Exchange> {
  const started = Date.now();
  const form = new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: await assertion(target.account) });
  const token = await httpRequest(ctx, {
    url: target.account.tokenUri,
    method: "POST",
    body: form.toString(),
    headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
    verifyTls: true,
    maxBodyBytes: MAX_BODY_BYTES,
  });
  if (isHttpFailure(token)) return token;
  let accessToken: unknown = null;
  if (token.status === 200 && token.complete) {
    try {
      accessToken = (JSON.parse(token.body.toString("utf8")) as { access_token?: unknown }).access_token;
    } catch {
      accessToken = null;
    }
  }
  if (typeof accessToken !== "string" || accessToken === "") return { stage: "token", answer: token };
  const url = new URL(target.api.href);
  const base = url.pathname === "/" ? "" : url.pathname;
  if (target.bucket) {
    url.pathname = `${base}/storage/v1/b/${target.bucket}`;
    url.search = "?fields=name,location";
  } else if (target.project) {
    url.pathname = `${base}/storage/v1/b`;
    url.search = `?project=${encodeURIComponent(target.project)}&maxResults=1&fields=items/name`;
  } else {
    return { stage: "token", answer: token };
  }
  const left = Math.max(1, ctx.timeoutMs - (Date.now() - started));
  const storage = await httpRequest(
    { ...ctx, timeoutMs: left },
    { url, headers: { accept: "application/json" }, credentials: { authorization: `Bearer ${accessToken}` }, verifyTls: true, maxBodyBytes: MAX_BODY_BYTES },
  );
  return isHttpFailure(storage) ? storage : { stage: "storage", answer: storage };
}

const TOKEN_ERRORS: Record<string, Failure> = {
  invalid_grant: { code: "AUTH_FAILED", message: "the signed key was refused: a deleted or disabled key, or a clock far off (invalid_grant)" },
  invalid_client: { code: "AUTH_FAILED", message: "the service account was refused (invalid_client)" },
  unauthorized_client: { code: "PERMISSION_DENIED", message: "the service account may not get tokens this way (unauthorized_client)" },
  invalid_scope: { code: "PERMISSION_DENIED", message: "the storage scope was refused (invalid_scope)" },
};

const probe: Probe<GcsTarget, Exchange> = {
  fields,
  target(settings) {
    const target = targetOf(settings);
    return Array.isArray(target) ? { code: "INVALID_CONFIG", message: target.map((p) => p.message).join(" ") } : target;
  },
  deadline: false,
  open: (target, { ctx }) => exchange(target, ctx),
  describe(target, result) {
    if ("code" in result) return result;
    const { stage, answer } = result;
    if (stage === "token") {
      const where = `The token endpoint ${target.account.tokenUri.host}`;
      if (answer.status === 200) {
        if (target.bucket || target.project) return { code: "PROTOCOL_ERROR", message: `${where} answered 200 without an access token.` };
        return { ok: true, message: `The service account ${target.account.clientEmail} got an access token (no project or bucket to read).` };
      }
      let error: unknown = null;
      try {
        error = (JSON.parse(answer.body.toString("utf8")) as { error?: unknown }).error;
      } catch {
        error = null;
      }
      const known = typeof error === "string" && Object.hasOwn(TOKEN_ERRORS, error) ? TOKEN_ERRORS[error] : null;
      if (known) return { code: known.code, message: `${where} answered ${answer.status}: ${known.message}.` };
      if (answer.status === 404) return { code: "NOT_FOUND", message: `${where} answered 404: check the key's token_uri.` };
      return { code: answer.status === 401 || answer.status === 403 ? "AUTH_FAILED" : "PROTOCOL_ERROR", message: `${where} answered ${answer.status}.` };
    }
    const what = target.bucket ? `Reading bucket ${target.bucket}` : `Listing the buckets of project ${target.project}`;
    switch (answer.status) {
      case 200:
        return { ok: true, message: `${what} as ${target.account.clientEmail} succeeded.`, serverVersion: serverHeader(answer) };
      case 401:
        return { code: "AUTH_FAILED", message: `${what}: the storage API refused the access token (401).` };
      case 403:
        return { code: "PERMISSION_DENIED", message: `${what}: ${target.account.clientEmail} may not (403); grant it a storage role.` };
      case 404:
        return { code: "NOT_FOUND", message: `${what}: ${target.bucket ? "no such bucket" : "no such project"} (404).` };
      default:
        return { code: "PROTOCOL_ERROR", message: `${what}: the storage API answered ${answer.status}.` };
    }
  },
  classify: (_error, target) => ({ code: "UNKNOWN", message: `The request to ${target.account.tokenUri.host} or ${target.api.host} failed.` }),
};

export const gcsAdapter: ConnectionAdapter = {
  id: "gcs",
  label: "Google Cloud Storage",
  summary: "signs a JWT with the service-account key, exchanges it for an access token, reads the bucket (or lists the project's)",
  fields,
  airflow: { connType: "google_cloud_platform" },
  validate: (settings) => {
    const target = targetOf(settings);
    return Array.isArray(target) ? target : [];
  },
  test: (settings, ctx) => runProbe(probe, settings, ctx),
};
