/**
 * What every API command needs: a GraphQL transport with the URL and token from the flags or
 * PATCHBAY_URL / PATCHBAY_TOKEN, and the workspace: `--workspace <slug>` (or
 * PATCHBAY_WORKSPACE), else an API token's own.
 */
import { PatchbayError } from "../typescript/errors.js";
import { baseUrl, resolveOptions, type ResolvedOptions } from "../typescript/options.js";
import { readSession } from "./session.js";
import { createTransport, type Transport } from "../typescript/transport.js";
import { UsageError, type ParsedArgs } from "./args.js";
import type { Io } from "./output.js";
import { VERSION } from "./version.js";

/** What the CLI's requests say they are. */
export const CLI_USER_AGENT = `patchbay-cli/${VERSION}`;

/** Imports and connection tests can take a while; each request still has a deadline. */
const CLI_TIMEOUT_MS = 60_000;

export interface Context {
  io: Io;
  args: ParsedArgs;
  settings: ResolvedOptions;
  api: Transport;
  /** The workspace slug from --workspace or PATCHBAY_WORKSPACE, or null. */
  workspace: string | null;
}

/**
 * The settings: flags, then PATCHBAY_URL / PATCHBAY_TOKEN, then the session `patchbay login`
 * saved (its URL and token, used together: a token is never sent to another server).
 */
export async function createContext(io: Io, args: ParsedArgs): Promise<Context> {
  let url = args.values.url;
  let token = args.values.token;
  if (!token && !io.env.PATCHBAY_TOKEN?.trim()) {
    const session = await readSession(io.env);
    const wantedUrl = url ?? io.env.PATCHBAY_URL;
    if (session && (!wantedUrl?.trim() || sameServer(wantedUrl, session.url))) {
      url = url ?? session.url;
      token = session.token;
    }
  }
  let settings: ResolvedOptions;
  try {
    settings = resolveOptions({ url, token, workspace: args.values.workspace, environment: args.values.environment, timeoutMs: CLI_TIMEOUT_MS, env: io.env }, { requireToken: true });
  } catch (error) {
    if (error instanceof PatchbayError && error.code === "CONFIG") {
      throw new UsageError(
        error.message
          .replace("or pass { url }", "or pass --url, or run `patchbay login`")
          .replace("or pass { token }", "or pass --token, or run `patchbay login`")
          .replace("(PATCHBAY_ENVIRONMENT)", "(--environment or PATCHBAY_ENVIRONMENT)"),
      );
    }
    throw error;
  }
  return { io, args, settings, api: createTransport({ ...settings, userAgent: CLI_USER_AGENT }), workspace: settings.workspace };
}

function sameServer(a: string, b: string): boolean {
  try {
    return baseUrl(a) === baseUrl(b);
  } catch {
    return false;
  }
}

export interface Variable {
  type: string;
  value: unknown;
}

/**
 * Runs `selection` on the chosen workspace and returns the workspace object: by slug when
 * one is given, else the API token's own (viewer.workspace). A person without --workspace
 * is told to give one.
 */
export async function onWorkspace(ctx: Context, selection: string, variables: Record<string, Variable> = {}): Promise<any> {
  const defs = Object.entries(variables).map(([name, v]) => `$${name}: ${v.type}`);
  const values = Object.fromEntries(Object.entries(variables).map(([name, v]) => [name, v.value]));
  if (ctx.workspace) {
    const data = await ctx.api.graphql(
      `query(${["$slug: String!", ...defs].join(", ")}) { workspace(slug: $slug) { ${selection} } }`,
      { slug: ctx.workspace, ...values },
    );
    if (!data.workspace) throw new PatchbayError("NOT_FOUND", `Workspace "${ctx.workspace}" not found, or you are not a member of it.`);
    return data.workspace;
  }
  const head = defs.length ? `query(${defs.join(", ")})` : "query";
  const data = await ctx.api.graphql(`${head} { viewer { user { id } workspace { ${selection} } } }`, values);
  if (!data.viewer.workspace) {
    throw new UsageError("You are signed in as a person, not with an API token: name the workspace with --workspace <slug> (or PATCHBAY_WORKSPACE).");
  }
  return data.viewer.workspace;
}

/** A connection's id by name, or NOT_FOUND. */
export async function connectionId(ctx: Context, name: string): Promise<string> {
  let workspace: any;
  try {
    workspace = await onWorkspace(ctx, "connection(name: $name) { id }", { name: { type: "String!", value: name } });
  } catch (error) {
    if (error instanceof PatchbayError && error.code === "FORBIDDEN") {
      throw new PatchbayError("FORBIDDEN", `${error.message} Finding a connection by name needs the READ scope (or a role in the workspace).`, { status: error.status });
    }
    throw error;
  }
  if (!workspace.connection) throw new PatchbayError("NOT_FOUND", `Connection "${name}" not found.`);
  return workspace.connection.id;
}

/** A context for commands that set themselves up (login, logout): no token needed yet. */
export function localContext(io: Io, args: ParsedArgs): Context {
  return {
    io,
    args,
    settings: {
      url: "",
      token: null, workspace: args.values.workspace ?? null,
      environment: args.values.environment ?? null,
      dialect: null,
      postgresDriver: null,
      cacheTtlMs: 0,
      timeoutMs: CLI_TIMEOUT_MS,
      fetch: globalThis.fetch,
    },
    api: { url: "", graphql: async () => Promise.reject(new UsageError("This command does not talk to a server.")) },
    workspace: args.values.workspace ?? null,
  };
}
