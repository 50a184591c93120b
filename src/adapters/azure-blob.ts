/**
 * Azure Blob Storage, in the layout of Airflow's `wasb` connection: login is the storage
 * account name, password its shared key, or `extra.sas_token` a SAS token instead;
 * `extra.endpoint` overrides the service URL (Azurite, sovereign clouds, a private endpoint),
 * default https://<account>.blob.core.windows.net. The test signs a request with the Shared
 * Key scheme (or appends the SAS): Get Container Properties when `extra.container` is set,
 * else List Containers (one result). Redirects are not followed: a signature is for one URL.
 * Error answers are named by their `x-ms-error-code` from a fixed list, never repeated.
 */
import { createHmac } from "node:crypto";
import { describeStatus, httpRequest, isHttpFailure, serverHeader, type HttpAnswer } from "./common/http-request";
import { parseHttpUrl } from "./common/http-url";
import type { Failure } from "./common/network-errors";
import { type Probe, runProbe } from "./common/probe";
import type { ConnectionAdapter, ConnectionSettings, FieldProblem, FieldSpec } from "./types";

const API_VERSION = "2021-12-02";
const MAX_BODY_BYTES = 64 * 1024;
const ACCOUNT = /^[a-z0-9]{3,24}$/;
const CONTAINER = /^(?=.{3,63}$)[a-z0-9](?:[a-z0-9]|-(?=[a-z0-9]))*$/;

const fields: FieldSpec[] = [
  { name: "login", label: "Storage account", kind: "STRING", required: true, placeholder: "mystorageaccount" },
  { name: "password", label: "Shared key", kind: "PASSWORD", secret: true, description: "The account key (base64). Or leave empty and give a SAS token." },
  {
    name: "extra.sas_token",
    label: "SAS token",
    kind: "PASSWORD",
    secret: true,
    description: "A shared access signature (sv=...&sig=...), used when there is no shared key.",
  },
  {
    name: "extra.endpoint",
    label: "Endpoint URL",
    kind: "STRING",
    placeholder: "https://mystorageaccount.blob.core.windows.net",
    description: "Empty: https://<account>.blob.core.windows.net. For Azurite: http://127.0.0.1:10000/<account>.",
  },
  {
    name: "extra.container",
    safeToChange: true,
    label: "Container",
    kind: "STRING",
    placeholder: "reports",
    description: "Checked when set; otherwise the test lists the account's containers.",
  },
];

interface AzureTarget {
  account: string;
  /** The service URL, without a trailing slash. */
  endpoint: URL;
  key: Buffer | null;
  sas: string | null;
  container: string | null;
}

function targetOf(settings: ConnectionSettings): AzureTarget | FieldProblem[] {
  const problems: FieldProblem[] = [];
  const account = settings.login ?? "";
  if (!ACCOUNT.test(account)) problems.push({ field: "login", message: "A storage account name is 3-24 lowercase letters and digits." });
  // The account key in base64, as the portal shows it; a wrong one is the server's to refuse.
  const key = settings.password ? Buffer.from(settings.password.trim(), "base64") : null;
  if (settings.password && key!.length === 0) {
    problems.push({ field: "password", message: "The shared key is the account key in base64, as the portal shows it." });
  }
  const sasText = typeof settings.extra.sas_token === "string" ? settings.extra.sas_token.trim().replace(/^\?/, "") : "";
  if (sasText && (!/^[A-Za-z0-9%&=._~+:,-]+$/.test(sasText) || !/(^|&)sig=/.test(sasText))) {
    problems.push({ field: "extra.sas_token", message: "A SAS token is a query string with a sig= parameter, e.g. sv=...&sig=...." });
  }
  const endpointText = settings.extra.endpoint;
  let endpoint: URL | string = new URL(`https://${ACCOUNT.test(account) ? account : "account"}.blob.core.windows.net`);
  if (typeof endpointText === "string" && endpointText.trim() !== "") {
    endpoint = parseHttpUrl(endpointText.trim(), "The endpoint", "https://mystorageaccount.blob.core.windows.net");
    if (typeof endpoint === "string") problems.push({ field: "extra.endpoint", message: endpoint });
  }
  const container = typeof settings.extra.container === "string" && settings.extra.container !== "" ? settings.extra.container : null;
  if (container && !CONTAINER.test(container)) {
    problems.push({ field: "extra.container", message: "A container name is 3-63 lowercase letters, digits and single '-', starting with a letter or digit." });
  }
  if (problems.length > 0) return problems;
  const url = endpoint as URL;
  url.pathname = url.pathname.replace(/\/+$/, "");
  return { account, endpoint: url, key, sas: sasText || null, container };
}

/** The request URL of the operation: the container's properties, or the first container of the list. */
function operationUrl(target: AzureTarget): URL {
  const url = new URL(target.endpoint.href);
  const base = url.pathname === "/" ? "" : url.pathname;
  if (target.container) {
    url.pathname = `${base}/${target.container}`;
    url.search = "?restype=container";
  } else {
    url.pathname = `${base}/`;
    url.search = "?comp=list&maxresults=1";
  }
  return url;
}

/**
 * The Shared Key signature of a request with no body (learn.microsoft.com, "Authorize with Shared
 * Key"): the fixed header lines, the x-ms- headers, then /account/path and the query sorted.
 */
export function sharedKeyAuthorization(account: string, key: Buffer, url: URL, headers: Record<string, string>, method = "GET"): string {
  const msHeaders = Object.keys(headers)
    .filter((name) => name.toLowerCase().startsWith("x-ms-"))
    .map((name) => [name.toLowerCase(), headers[name].trim()] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, value]) => `${name}:${value}\n`)
    .join("");
  const params = new Map<string, string[]>();
  for (const [name, value] of url.searchParams) params.set(name.toLowerCase(), [...(params.get(name.toLowerCase()) ?? []), value]);
  const query = [...params.keys()]
    .sort()
    .map((name) => `\n${name}:${params.get(name)!.sort().join(",")}`)
    .join("");
  const resource = `/${account}${url.pathname}${query}`;
  const stringToSign = [method, "", "", "", "", "", "", "", "", "", "", ""].join("\n") + "\n" + msHeaders + resource;
  return `SharedKey ${account}:${createHmac("sha256", key).update(stringToSign, "utf8").digest("base64")}`;
}

/** x-ms-error-code values this test names; anything else is reported by status alone. */
const ERRORS: Record<string, Failure> = {
  AuthenticationFailed: { code: "AUTH_FAILED", message: "the shared key or SAS token was refused (AuthenticationFailed)" },
  // What Azurite answers for a wrong signature, and Azure for a request its network rules refuse.
  AuthorizationFailure: { code: "AUTH_FAILED", message: "the request was not authorized: a wrong key or SAS token, or the account's firewall (AuthorizationFailure)" },
  AuthorizationPermissionMismatch: { code: "PERMISSION_DENIED", message: "the credentials lack the permission (AuthorizationPermissionMismatch)" },
  AuthorizationResourceTypeMismatch: { code: "PERMISSION_DENIED", message: "the SAS does not cover this resource type (AuthorizationResourceTypeMismatch)" },
  ContainerNotFound: { code: "NOT_FOUND", message: "the container does not exist (ContainerNotFound)" },
  ResourceNotFound: { code: "NOT_FOUND", message: "the resource does not exist: check the account and endpoint (ResourceNotFound)" },
  InvalidAuthenticationInfo: { code: "AUTH_FAILED", message: "the credentials are malformed (InvalidAuthenticationInfo)" },
};

const probe: Probe<AzureTarget, HttpAnswer | Failure> = {
  fields,
  target(settings) {
    const target = targetOf(settings);
    if (Array.isArray(target)) return { code: "INVALID_CONFIG", message: target.map((p) => p.message).join(" ") };
    if (!target.key && !target.sas) return { code: "SECRET_REQUIRED", message: "Give the shared key or a SAS token." };
    return target;
  },
  deadline: false,
  open(target, { ctx }) {
    const url = operationUrl(target);
    const headers: Record<string, string> = { "x-ms-date": new Date().toUTCString(), "x-ms-version": API_VERSION };
    const credentials: Record<string, string> = {};
    if (target.key) credentials.authorization = sharedKeyAuthorization(target.account, target.key, url, headers);
    else url.search = `${url.search}&${target.sas}`;
    return httpRequest(ctx, { url, headers, credentials, verifyTls: true, maxBodyBytes: MAX_BODY_BYTES, followRedirects: false });
  },
  describe(target, answer) {
    if (isHttpFailure(answer)) return answer;
    // The URL may carry the SAS: name the operation by the endpoint.
    const said = describeStatus(target.endpoint, answer).replace(/^GET \S+/, target.container ? `Get Container Properties on ${target.endpoint.host}` : `List Containers on ${target.endpoint.host}`);
    const errorCode = String(answer.headers["x-ms-error-code"] ?? "");
    if (answer.status !== 200) {
      const known = Object.hasOwn(ERRORS, errorCode) ? ERRORS[errorCode] : null;
      if (known) return { code: known.code, message: `${said}: ${known.message}.` };
      if (answer.status === 403) return { code: "AUTH_FAILED", message: `${said}: the credentials were refused.` };
      if (answer.status === 404) return { code: "NOT_FOUND", message: `${said}: check the account, endpoint and container.` };
      return { code: "PROTOCOL_ERROR", message: `${said}; Blob Storage answers 200 here.` };
    }
    const version = serverHeader(answer);
    if (target.container) return { ok: true, message: `Container ${target.container} exists and the credentials may read it.`, serverVersion: version };
    const text = answer.body.toString("utf8");
    if (!/<EnumerationResults[\s>]/.test(text)) return { code: "PROTOCOL_ERROR", message: `${said}, but the answer is not a container list.` };
    const listed = (text.match(/<Container>/g) ?? []).length;
    return { ok: true, message: listed > 0 ? "Listed the account's containers." : "Listed the account's containers: there are none yet.", serverVersion: version };
  },
  classify: (_error, target) => ({ code: "UNKNOWN", message: `The request to ${target.endpoint.host} failed.` }),
};

export const azureBlobAdapter: ConnectionAdapter = {
  id: "azure_blob",
  label: "Azure Blob Storage",
  summary: "signs Get Container Properties (with a container) or List Containers with the shared key, or uses the SAS token",
  fields,
  airflow: { connType: "wasb" },
  validate: (settings) => {
    const target = targetOf(settings);
    return Array.isArray(target) ? target : [];
  },
  test: (settings, ctx) => runProbe(probe, settings, ctx),
};
