/**
 * `GET /api/v1/connections/{name}`: resolving a connection for code that does not speak
 * GraphQL. Answers Airflow's JSON form, or with `?format=uri` the Airflow URI as text, of the
 * connection as Airflow's hooks expect it (airflowView), or with `?format=env` one line
 * `AIRFLOW_CONN_<ID>=<uri>`; `?dialect=extra-json|query-params` picks the URI dialect. A
 * person's token names the workspace with `?workspace=<slug>`, an environment's values come
 * with `?environment=<name>`. Errors are JSON with the GraphQL codes and the matching HTTP status.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { airflowView } from "../adapters/registry";
import { toAirflowConnectionDict } from "../airflow/connection-dict";
import { airflowEnvVarLine } from "../airflow/files";
import { DEFAULT_URI_DIALECT, parseUriDialect, toAirflowUri } from "../airflow/uri";
import { authenticate } from "../auth/authenticate";
import { BadUserInputError, type PublicError } from "../errors";
import { textProblem } from "../input/json";
import type { Logger } from "../log";
import { currentRecord, noteErrorCode } from "../observability/request-record";
import { Caller } from "../policy/caller";
import type { Services } from "../services";
import { clientAddress, sendJson } from "./io";
import { httpHeadOf, publicErrorOf } from "./status";

export const REST_PREFIX = "/api/v1/connections/";

export function restConnectionsHandler(services: Services, options: { trustedProxies: number; logger: Logger }) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    try {
      if (req.method !== "GET") {
        res.setHeader("allow", "GET");
        return sendJson(res, 405, { error: { code: "BAD_REQUEST", message: "Only GET is supported here." } });
      }
      const name = connectionNameFromPath(url.pathname.slice(REST_PREFIX.length));
      const format = url.searchParams.get("format") ?? "json";
      if (format !== "json" && format !== "uri" && format !== "env") {
        return sendJson(res, 400, { error: { code: "BAD_USER_INPUT", field: "format", message: "format is json, uri or env." } });
      }
      const dialectText = url.searchParams.get("dialect");
      const dialect = dialectText === null ? DEFAULT_URI_DIALECT : parseUriDialect(dialectText);
      if (dialect === null) {
        return sendJson(res, 400, {
          error: { code: "BAD_USER_INPUT", field: "dialect", message: "dialect is extra-json (Airflow 2.7 to 3.1, the default) or query-params (Airflow after PR #59339)." },
        });
      }
      const actor = await authenticate(req.headers.authorization, services);
      const caller = new Caller(actor, clientAddress(req, options.trustedProxies), services.workspaces);
      const resolved = airflowView(
        await services.resolution.resolve(caller, name, { workspace: queryText(url, "workspace"), environment: queryText(url, "environment") }),
      );
      res.setHeader("cache-control", "no-store");
      if (format === "uri" || format === "env") {
        const text = format === "uri" ? toAirflowUri(resolved, dialect) : airflowEnvVarLine(resolved, dialect);
        res.writeHead(200, { "content-type": "text/plain; charset=utf-8", "content-length": Buffer.byteLength(text) });
        res.end(text);
        return;
      }
      sendJson(res, 200, toAirflowConnectionDict(resolved));
    } catch (error) {
      const publicError = publicErrorOf(error);
      const record = currentRecord();
      if (record) noteErrorCode(record, publicError?.code ?? "INTERNAL_SERVER_ERROR");
      if (publicError) {
        const head = httpHeadOf(publicError);
        for (const [name, value] of Object.entries(head.headers)) res.setHeader(name, value);
        if (publicError.code === "SERVICE_UNAVAILABLE") options.logger.warn("database did not answer in time", { error });
        return sendJson(res, head.status, { error: { code: publicError.code, message: publicError.message, ...fieldOf(publicError), ...retryOf(publicError) } });
      }
      options.logger.error("resolve over HTTP failed", { error });
      sendJson(res, 500, { error: { code: "INTERNAL_SERVER_ERROR", message: "Internal server error." } });
    }
  };
}

/** The {name} path segment, percent-decoded; a malformed escape or unstorable text is BAD_USER_INPUT. */
function connectionNameFromPath(segment: string): string {
  let name: string;
  try {
    name = decodeURIComponent(segment);
  } catch {
    throw new BadUserInputError("The connection name in the path is not valid percent-encoded UTF-8.", "name");
  }
  const problem = textProblem(name);
  if (problem) throw new BadUserInputError(`The connection name ${problem}.`, "name");
  return name;
}

function queryText(url: URL, name: string): string | null {
  const value = url.searchParams.get(name);
  const problem = value === null ? null : textProblem(value);
  if (problem) throw new BadUserInputError(`${name} ${problem}.`, name);
  return value;
}

function fieldOf(error: PublicError): { field?: string } {
  const field = error.extensions.field;
  return typeof field === "string" ? { field } : {};
}

function retryOf(error: PublicError): { retryAfterSeconds?: number } {
  const seconds = error.extensions.retryAfterSeconds;
  return typeof seconds === "number" ? { retryAfterSeconds: seconds } : {};
}
