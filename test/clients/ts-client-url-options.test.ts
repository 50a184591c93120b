/**
 * The TypeScript client's URL options against a real server: the Airflow URI dialect and
 * PostgreSQL's SQLAlchemy driver, as the client option and per call (what GraphQL's
 * airflowUri(dialect:) and sqlalchemyUrl(postgresDriver:), REST's ?dialect=, the CLI's
 * --dialect and the Python client offer), and the User-Agent it sends.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPatchbayClient, PatchbayError, VERSION } from "../../clients/typescript";
import { CLI_USER_AGENT } from "../../clients/cli/context";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createApiToken, createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";

let app: TestApp;
let owner: SignedUp;
let workspace: { id: string; slug: string };
let token: string;
/** What the server itself writes, asked over GraphQL directly. */
let server: { extraJson: string; queryParams: string; psycopg2: string; psycopg: string };

const packageVersion = (dir: string) => JSON.parse(readFileSync(new URL(`../../clients/${dir}/package.json`, import.meta.url), "utf8")).version as string;

beforeAll(async () => {
  app = await startTestApp();
  owner = await signUp(new GraphQLClient(app.url), "owner");
  workspace = await createWorkspace(owner.client);
  // A number and a boolean-like text among the extras: the two dialects write them differently.
  await createConnection(owner.client, workspace.id, {
    name: "warehouse",
    type: "postgres",
    host: "db.example.com",
    port: 5432,
    schema: "dw",
    login: "etl",
    password: "pw",
    extra: { sslmode: "require", connect_timeout: 10 },
  });
  token = (await createApiToken(owner.client, workspace.id, ["RESOLVE"], "app")).token;
  server = (
    await owner.client.ok(
      `query($s: String!) { resolveConnection(name: "warehouse", workspace: $s) {
        extraJson: airflowUri queryParams: airflowUri(dialect: QUERY_PARAMS)
        psycopg2: sqlalchemyUrl psycopg: sqlalchemyUrl(postgresDriver: PSYCOPG) } }`,
      { s: workspace.slug },
    )
  ).resolveConnection;
});

afterAll(async () => {
  await app?.stop();
});

/** A fetch that keeps each request's body and headers. */
function recordingFetch() {
  const sent: Array<{ body: string; headers: Record<string, string> }> = [];
  const doFetch = ((input: any, init?: any) => {
    sent.push({ body: String(init?.body), headers: { ...(init?.headers ?? {}) } });
    return fetch(input, init);
  }) as typeof fetch;
  return { sent, fetch: doFetch };
}

describe("dialect and postgresDriver", () => {
  it("the two dialects really differ for this connection (else the tests below prove nothing)", () => {
    expect(server.extraJson).toContain("__extra__=");
    expect(server.queryParams).not.toContain("__extra__");
    expect(server.queryParams).toContain("connect_timeout=10");
    expect(server.psycopg2).toMatch(/^postgresql\+psycopg2:\/\//);
    expect(server.psycopg).toMatch(/^postgresql\+psycopg:\/\//);
  });

  it("without options the server's defaults come back, and neither argument is sent", async () => {
    const recorder = recordingFetch();
    const client = createPatchbayClient({ url: app.url, token, fetch: recorder.fetch });
    expect(client.dialect).toBeNull();
    expect(client.postgresDriver).toBeNull();
    const c = await client.connection("warehouse");
    expect(c.airflowUri).toBe(server.extraJson);
    expect(c.sqlalchemyUrl).toBe(server.psycopg2);
    expect(recorder.sent[0].body).not.toContain("dialect");
    expect(recorder.sent[0].body).not.toContain("postgresDriver");
  });

  it("client options choose the dialect and the driver for every call", async () => {
    const client = createPatchbayClient({ url: app.url, token, dialect: "QUERY_PARAMS", postgresDriver: "PSYCOPG" });
    expect(client).toMatchObject({ dialect: "QUERY_PARAMS", postgresDriver: "PSYCOPG" });
    const c = await client.connection("warehouse");
    expect(c.airflowUri).toBe(server.queryParams);
    expect(c.sqlalchemyUrl).toBe(server.psycopg);
  });

  it("takes REST's and the CLI's spelling too (query-params, psycopg)", async () => {
    const client = createPatchbayClient({ url: app.url, token, dialect: "query-params", postgresDriver: "psycopg" });
    expect(client).toMatchObject({ dialect: "QUERY_PARAMS", postgresDriver: "PSYCOPG" });
    expect((await client.connection("warehouse")).airflowUri).toBe(server.queryParams);
  });

  it("a call's options win over the client's; each form is cached apart, and clearCache(name) forgets them all", async () => {
    const recorder = recordingFetch();
    const client = createPatchbayClient({ url: app.url, token, dialect: "QUERY_PARAMS", fetch: recorder.fetch });
    const own = await client.connection("warehouse");
    const perCall = await client.connection("warehouse", { dialect: "EXTRA_JSON", postgresDriver: "PSYCOPG" });
    expect(own.airflowUri).toBe(server.queryParams);
    expect(perCall.airflowUri).toBe(server.extraJson);
    expect(perCall.sqlalchemyUrl).toBe(server.psycopg);
    expect(recorder.sent).toHaveLength(2);
    // Cached: the same forms again send nothing.
    await client.connection("warehouse");
    await client.connection("warehouse", { dialect: "extra-json", postgresDriver: "psycopg" });
    expect(recorder.sent).toHaveLength(2);
    client.clearCache("warehouse");
    await client.connection("warehouse");
    await client.connection("warehouse", { dialect: "EXTRA_JSON", postgresDriver: "PSYCOPG" });
    expect(recorder.sent).toHaveLength(4);
  });

  it("an unknown dialect or driver is a CONFIG error naming the option, at creation or on the call", async () => {
    for (const options of [{ dialect: "__extra__" }, { dialect: "" }, { postgresDriver: "asyncpg" }, { dialect: 3 }] as any[]) {
      let error: unknown;
      try {
        createPatchbayClient({ url: app.url, token, ...options });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(PatchbayError);
      expect(error).toMatchObject({ code: "CONFIG", field: Object.keys(options)[0] });
    }
    const client = createPatchbayClient({ url: app.url, token });
    await expect(client.connection("warehouse", { dialect: "PLAIN" as any })).rejects.toMatchObject({ code: "CONFIG", field: "dialect" });
    await expect(client.connection("warehouse", { postgresDriver: "pg8000" as any })).rejects.toMatchObject({ code: "CONFIG", field: "postgresDriver" });
  });

  it("a server from before the dialect argument is UNSUPPORTED naming the option, not a bare validation error", async () => {
    const oldServer = (async (input: any, init?: any) => {
      if (String(init?.body).includes("dialect:")) {
        const error = { message: 'Unknown argument "dialect" on field "ResolvedConnection.airflowUri".', extensions: { code: "GRAPHQL_VALIDATION_FAILED" } };
        return new Response(JSON.stringify({ errors: [error] }), { status: 400, headers: { "content-type": "application/json" } });
      }
      return fetch(input, init);
    }) as typeof fetch;
    const client = createPatchbayClient({ url: app.url, token, fetch: oldServer, dialect: "QUERY_PARAMS" });
    await expect(client.connection("warehouse")).rejects.toMatchObject({ code: "UNSUPPORTED", field: "dialect" });
    // Without the option the same server answers.
    expect((await createPatchbayClient({ url: app.url, token, fetch: oldServer }).connection("warehouse")).airflowUri).toBe(server.extraJson);
  });
});

describe("User-Agent", () => {
  it("names the client's package version, not a fixed one", async () => {
    expect(VERSION).toBe(packageVersion("typescript"));
    const recorder = recordingFetch();
    await createPatchbayClient({ url: app.url, token, fetch: recorder.fetch }).connection("warehouse");
    expect(recorder.sent[0].headers["user-agent"]).toBe(`patchbay-client/${packageVersion("typescript")}`);
  });

  it("the CLI names itself with its own package version", () => {
    expect(CLI_USER_AGENT).toBe(`patchbay-cli/${packageVersion("cli")}`);
  });
});
