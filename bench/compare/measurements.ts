/**
 * What each load measurement sends to the floor and to Patchbay, and how an answer is
 * checked: quickly under load (the start of the body), fully once before loading.
 */
import { passwordOf, connectionName, requestTargets } from "./dataset";
import type { RequestShape } from "./load";
import type { LoadId } from "./options";
import type { Manifest } from "./seed";

export type Side = "floor" | "patchbay";

export interface LoadMeasurement {
  id: LoadId;
  label: string;
  /** A fresh request sequence for one run on one side (both sides get the same sequence). */
  requests(side: Side): () => RequestShape;
  /** The cheap check applied to every response under load. */
  quickCheck(side: Side): (body: string) => boolean;
  /** The full check of one answer, before loading; throws with what was wrong. */
  fullCheck(side: Side, body: string, status: number): void;
}

export const PAGE_QUERY = `query Page($slug: String!) { workspace(slug: $slug) { connections(first: 50) {
  totalCount pageInfo { hasNextPage endCursor }
  nodes { id name type description host port schema login extra secretFields version updatedAt
    lastTest { id status errorCode message latencyMs serverVersion testedAt } } } } }`;

export const RESOLVE_QUERY = `query Resolve($name: String!) { resolveConnection(name: $name) {
  name type description host port schema login password extra } }`;

const startsWith = (prefix: string) => (body: string) => body.startsWith(prefix);

export function loadMeasurements(manifest: Manifest): Record<LoadId, LoadMeasurement> {
  const { seeded, connectionsPerWorkspace: perWorkspace } = manifest;
  const targets = () => requestTargets(seeded.length, perWorkspace);
  const expectedPassword = (workspaceIndex: number, name: string) => passwordOf(manifest.passwordSeed, workspaceIndex, Number(name.slice(5)));

  // The floor's resolve answers P1, resolveConnection and the typename diagnostics alike.
  const floorResolve = () => {
    const next = targets();
    return () => {
      const t = next();
      return { method: "GET" as const, path: `/resolve/${seeded[t.workspace].id}/${connectionName(t.connection)}`, headers: {} };
    };
  };
  const checkAirflowDict = (body: string, status: number, password: string) => {
    if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
    const dict = JSON.parse(body);
    if (dict.password !== password || !dict.host || !dict.conn_type) throw new Error(`unexpected answer: ${body.slice(0, 300).replace(password, "***")}`);
  };
  // Full checks resolve the first target of a fresh sequence.
  const firstTarget = () => targets()();

  const graphql = (token: string | null, query: string, variables?: Record<string, unknown>): RequestShape => ({
    method: "POST",
    path: "/graphql",
    headers: token ? { authorization: `Bearer ${token}` } : {},
    body: JSON.stringify(variables ? { query, variables } : { query }),
  });

  const p1: LoadMeasurement = {
    id: "p1",
    label: "P1 REST resolve by name (RESOLVE token)",
    requests: (side) => {
      if (side === "floor") return floorResolve();
      const next = targets();
      return () => {
        const t = next();
        return { method: "GET", path: `/api/v1/connections/${connectionName(t.connection)}`, headers: { authorization: `Bearer ${seeded[t.workspace].resolveToken}` } };
      };
    },
    quickCheck: () => startsWith('{"conn_type"'),
    fullCheck: (_side, body, status) => {
      const t = firstTarget();
      checkAirflowDict(body, status, expectedPassword(t.workspace, connectionName(t.connection)));
    },
  };

  const p2: LoadMeasurement = {
    id: "p2",
    label: `P2 GraphQL page of 50 with lastTest (of ${perWorkspace.toLocaleString("en")})`,
    requests: (side) => {
      const next = targets();
      return () => {
        const w = seeded[next().workspace];
        return side === "floor"
          ? { method: "GET", path: `/page/${w.id}?first=50`, headers: {} }
          : graphql(w.readToken, PAGE_QUERY, { slug: w.slug });
      };
    },
    quickCheck: () => startsWith('{"data"'),
    fullCheck: (side, body, status) => {
      if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
      const data = JSON.parse(body).data;
      const page = side === "floor" ? data.connections : data.workspace.connections;
      const withTest = page.nodes.filter((n: any) => n.lastTest?.status).length;
      if (page.nodes.length !== 50 || withTest !== 50 || page.totalCount !== perWorkspace || !page.pageInfo.hasNextPage) {
        throw new Error(`unexpected page: ${page.nodes.length} nodes, ${withTest} with lastTest, totalCount ${page.totalCount}`);
      }
    },
  };

  const resolveGql: LoadMeasurement = {
    id: "resolve-gql",
    label: "GraphQL resolveConnection (RESOLVE token)",
    requests: (side) => {
      if (side === "floor") return floorResolve();
      const next = targets();
      return () => {
        const t = next();
        return graphql(seeded[t.workspace].resolveToken, RESOLVE_QUERY, { name: connectionName(t.connection) });
      };
    },
    quickCheck: (side) => startsWith(side === "floor" ? '{"conn_type"' : '{"data"'),
    fullCheck: (side, body, status) => {
      const t = firstTarget();
      const password = expectedPassword(t.workspace, connectionName(t.connection));
      if (side === "floor") return checkAirflowDict(body, status, password);
      if (status !== 200) throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
      const resolved = JSON.parse(body).data?.resolveConnection;
      if (resolved?.password !== password) throw new Error(`unexpected answer: ${body.slice(0, 300).replace(password, "***")}`);
    },
  };

  const typename = (id: "typename" | "typename-token", withToken: boolean): LoadMeasurement => ({
    id,
    label: withToken ? "diagnostic: { __typename } with a RESOLVE token" : "diagnostic: { __typename } anonymous",
    requests: (side) => {
      if (side === "floor") return floorResolve();
      const next = targets();
      return () => graphql(withToken ? seeded[next().workspace].resolveToken : null, "{ __typename }");
    },
    quickCheck: (side) => startsWith(side === "floor" ? '{"conn_type"' : '{"data"'),
    fullCheck: (side, body, status) => {
      if (side === "floor") return p1.fullCheck(side, body, status);
      if (status !== 200 || JSON.parse(body).data?.__typename !== "Query") throw new Error(`HTTP ${status}: ${body.slice(0, 300)}`);
    },
  });

  return { p1, p2, "resolve-gql": resolveGql, typename: typename("typename", false), "typename-token": typename("typename-token", true) };
}

/** Sends one request shape with fetch; returns status and body. */
export async function send(baseUrl: string, shape: RequestShape): Promise<{ status: number; body: string }> {
  const response = await fetch(baseUrl + shape.path, {
    method: shape.method,
    headers: { ...shape.headers, ...(shape.body ? { "content-type": "application/json" } : {}) },
    body: shape.body,
    signal: AbortSignal.timeout(10_000),
  });
  return { status: response.status, body: await response.text() };
}
