/**
 * Serves Apollo Server on Node's own http module through Apollo's integration API
 * (executeHTTPGraphQLRequest), so the service needs no web framework.
 */
import { type ApolloServer, HeaderMap } from "@apollo/server";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { GraphQLContext } from "../graphql/context";
import { readBody, sendJson } from "./io";

export function graphqlHandler(
  apollo: ApolloServer<GraphQLContext>,
  buildContext: (req: IncomingMessage) => Promise<GraphQLContext>,
) {
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const headers = new HeaderMap();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
    }
    let body: unknown = undefined;
    if (req.method === "POST") {
      const raw = await readBody(req);
      if (raw === null) return sendJson(res, 413, { errors: [{ message: "Request body too large.", extensions: { code: "BAD_REQUEST" } }] });
      if ((headers.get("content-type") ?? "").includes("application/json")) {
        try {
          body = raw.length ? JSON.parse(raw) : undefined;
        } catch {
          return sendJson(res, 400, { errors: [{ message: "The body is not valid JSON.", extensions: { code: "BAD_REQUEST" } }] });
        }
      } else {
        body = raw;
      }
    }
    const response = await apollo.executeHTTPGraphQLRequest({
      httpGraphQLRequest: { method: req.method ?? "GET", headers, search: url.search, body },
      context: () => buildContext(req),
    });
    for (const [name, value] of response.headers) res.setHeader(name, value);
    res.statusCode = response.status ?? 200;
    if (response.body.kind === "complete") {
      res.end(response.body.string);
      return;
    }
    for await (const chunk of response.body.asyncIterator) res.write(chunk);
    res.end();
  };
}
