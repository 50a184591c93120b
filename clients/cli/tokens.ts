/** `patchbay tokens …`: create, list and revoke the workspace's API tokens. */
import { oneOf, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { onWorkspace } from "./context.js";
import { json, table } from "./output.js";

const SCOPES = ["READ", "TEST", "WRITE", "RESOLVE"] as const;

/**
 * `--expires` as an ISO-8601 instant (a date alone is midnight UTC). Each part must be on the
 * calendar: `new Date("2027-02-30")` would quietly become 2 March.
 */
function expiryDate(text: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?$/.exec(text);
  const date = match ? new Date(match[4] ? text : `${text}T00:00:00Z`) : null;
  const [year, month, day] = match ? [Number(match[1]), Number(match[2]), Number(match[3])] : [0, 0, 0];
  const onCalendar = month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (!date || Number.isNaN(date.getTime()) || !onCalendar) {
    throw new UsageError(`--expires is not a date on the calendar: ${JSON.stringify(text)}; use ISO-8601, e.g. 2027-01-31.`, "tokens create");
  }
  return date.toISOString();
}

const create: Command = {
  words: ["tokens", "create"],
  args: ["NAME"],
  options: ["scope", "expires", "json"],
  usage: "tokens create NAME --scope READ [--scope RESOLVE …] [--expires ISO-8601] [--json]",
  summary: "Create an API token; prints the token once, on stdout.",
  details: [
    "--scope S       READ, TEST, WRITE or RESOLVE; repeat for several (at least one)",
    "--expires T     when it stops working, e.g. 2027-01-31 or 2027-01-31T12:00:00Z",
    "--json          the token and its record as JSON",
    "Creating tokens needs a person's session token (ADMIN and above), not an API token.",
  ],
  async run(ctx, [name], values) {
    const scopes = (values.scope ?? []).flatMap((s) => s.split(",")).map((s) => oneOf(s.trim(), SCOPES, "scope", "tokens create"));
    if (scopes.length === 0) throw new UsageError("Give at least one --scope (READ, TEST, WRITE or RESOLVE).", "tokens create");
    let expiresAt: string | null = null;
    if (values.expires !== undefined) {
      expiresAt = expiryDate(values.expires);
    }
    const workspace = await onWorkspace(ctx, "id slug");
    const data = await ctx.api.graphql(
      `mutation($w: ID!, $n: String!, $s: [TokenScope!]!, $e: DateTime) {
        createApiToken(workspaceId: $w, name: $n, scopes: $s, expiresAt: $e) { token apiToken { id name prefix scopes createdAt expiresAt } } }`,
      { w: workspace.id, n: name, s: [...new Set(scopes)], e: expiresAt },
    );
    const created = data.createApiToken;
    if (values.json) {
      ctx.io.stdout.write(json(created));
    } else {
      ctx.io.stdout.write(`${created.token}\n`);
      const t = created.apiToken;
      ctx.io.stderr.write(
        `Created API token "${t.name}" in ${workspace.slug} (id ${t.id}, scopes ${t.scopes.join(", ")}, expires ${t.expiresAt ?? "never"}).\n` +
          "Store it now: it is not shown again.\n",
      );
    }
    return 0;
  },
};

const list: Command = {
  words: ["tokens", "list"],
  args: [],
  options: ["json"],
  usage: "tokens list [--json]",
  summary: "List the workspace's API tokens (never their values).",
  details: ["--json        the tokens as JSON"],
  async run(ctx, _args, values) {
    const workspace = await onWorkspace(ctx, "apiTokens { id name prefix scopes createdAt expiresAt lastUsedAt revokedAt }");
    const tokens: any[] = workspace.apiTokens;
    if (values.json) ctx.io.stdout.write(json(tokens));
    else if (tokens.length === 0) ctx.io.stderr.write("No API tokens.\n");
    else {
      ctx.io.stdout.write(
        table(
          ["ID", "NAME", "PREFIX", "SCOPES", "EXPIRES", "LAST USED", "REVOKED"],
          tokens.map((t) => [t.id, t.name, t.prefix, t.scopes.join(","), t.expiresAt, t.lastUsedAt, t.revokedAt]),
        ),
      );
    }
    return 0;
  },
};

const revoke: Command = {
  words: ["tokens", "revoke"],
  args: ["ID"],
  options: ["json"],
  usage: "tokens revoke ID [--json]",
  summary: "Revoke an API token by id (see tokens list); it stops working at once.",
  details: ["--json        the revoked token's record as JSON"],
  async run(ctx, [id], values) {
    const data = await ctx.api.graphql(`mutation($id: ID!) { revokeApiToken(id: $id) { id name prefix scopes revokedAt } }`, { id });
    const t = data.revokeApiToken;
    if (values.json) ctx.io.stdout.write(json(t));
    else ctx.io.stdout.write(`Revoked API token "${t.name}" (${t.id}) at ${t.revokedAt}.\n`);
    return 0;
  },
};

export const tokenCommands: Command[] = [create, list, revoke];
