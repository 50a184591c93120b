/**
 * GraphiQL, bundled (no CDN), against this server's /graphql. A signed-in person's session
 * from the Connections page is sent as the Authorization header unless the headers editor
 * sets one, so the explorer works without pasting a token into it.
 */
import "graphiql/setup-workers/vite";
import "graphiql/style.css";
import "./explorer.css";
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createElement } from "react";
import { createRoot } from "react-dom/client";
import { sessionToken } from "../session";

const fetcher = createGraphiQLFetcher({
  url: "/graphql",
  fetch: (input, init) => {
    const headers = new Headers(init?.headers);
    const token = sessionToken();
    if (token && !headers.has("authorization")) headers.set("authorization", `Bearer ${token}`);
    return fetch(input, { ...init, headers, credentials: "omit" });
  },
});

const DEFAULT_QUERY = `# Patchbay's GraphQL API. Signed in on the Connections page? Your session is used here.
# Otherwise set {"Authorization": "Bearer pbt_..."} in Headers below.
query MyWorkspaces {
  viewer {
    user {
      email
    }
  }
  workspaces {
    slug
    name
    myRole
    connections(first: 10) {
      totalCount
      nodes {
        name
        type
        host
        lastTest {
          status
          errorCode
        }
      }
    }
  }
}
`;

createRoot(document.getElementById("explorer")!).render(
  createElement(GraphiQL, { fetcher, defaultQuery: DEFAULT_QUERY, shouldPersistHeaders: false }),
);
