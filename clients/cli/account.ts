/** Who you are and where: login, logout, workspaces, members, invite, audit. */
import { PatchbayError } from "../typescript/errors.js";
import { baseUrl } from "../typescript/options.js";
import { createTransport } from "../typescript/transport.js";
import { oneOf, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { CLI_USER_AGENT, onWorkspace, type Context } from "./context.js";
import { json, table, yaml } from "./output.js";
import { forgetSession, saveSession } from "./session.js";

const ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER"] as const;
const LIST_OUTPUTS = ["table", "json", "yaml"] as const;

function listOutput(value: string | undefined, json: boolean | undefined, command: string): (typeof LIST_OUTPUTS)[number] {
  if (json) return "json";
  return value ? oneOf(value, LIST_OUTPUTS, "output", command) : "table";
}

function printList(ctx: Context, format: (typeof LIST_OUTPUTS)[number], rows: unknown[], render: () => string, empty: string): void {
  if (format === "json") ctx.io.stdout.write(json(rows));
  else if (format === "yaml") ctx.io.stdout.write(yaml(rows));
  else if (rows.length === 0) ctx.io.stderr.write(`${empty}\n`);
  else ctx.io.stdout.write(render());
}

const login: Command = {
  words: ["login"],
  args: [],
  options: ["email", "password-stdin"],
  local: true,
  usage: "login --url URL --email EMAIL [--password-stdin]",
  summary: "Sign in as a person and keep the session token in a file only you can read (mode 0600).",
  details: [
    "--url URL          the server (or PATCHBAY_URL)",
    "--email EMAIL      your account",
    "--password-stdin   read the password from stdin (else it is asked for on the terminal, not echoed)",
    "The token goes to $XDG_CONFIG_HOME/patchbay/session.json (~/.config/patchbay/…, or",
    "PATCHBAY_SESSION_FILE); later commands use it when no --token or PATCHBAY_TOKEN is given.",
  ],
  async run(ctx, _args, values) {
    const rawUrl = values.url ?? ctx.io.env.PATCHBAY_URL;
    if (!rawUrl) throw new UsageError("Give the server with --url (or PATCHBAY_URL).", "login");
    if (!values.email) throw new UsageError("Give your account with --email.", "login");
    const url = baseUrl(rawUrl);
    const password = values["password-stdin"] ? (await ctx.io.readStdin()).replace(/\r?\n$/, "") : await promptHidden(ctx, "Password: ");
    if (!password) throw new UsageError("No password given.", "login");
    const api = createTransport({ url, token: null, timeoutMs: ctx.settings.timeoutMs, userAgent: CLI_USER_AGENT });
    const data = await api.graphql(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token user { email } } }`, {
      e: values.email,
      p: password,
    });
    const path = await saveSession(ctx.io.env, { url, token: data.logIn.token, email: data.logIn.user.email, savedAt: new Date().toISOString() });
    ctx.io.stderr.write(`Signed in to ${url} as ${data.logIn.user.email}; the session is in ${path} (mode 0600).\n`);
    return 0;
  },
};

const logout: Command = {
  words: ["logout"],
  args: [],
  options: [],
  local: true,
  usage: "logout",
  summary: "Forget the saved session (the file `login` wrote).",
  details: ["The session itself ends on the server when it expires; run this on machines you leave."],
  async run(ctx) {
    const removed = await forgetSession(ctx.io.env);
    ctx.io.stderr.write(removed ? "Signed out: the saved session is gone.\n" : "No saved session.\n");
    return 0;
  },
};

const workspaces: Command = {
  words: ["workspaces"],
  args: [],
  options: ["output", "json"],
  usage: "workspaces [-o table|json|yaml]",
  summary: "List the workspaces you belong to, with your role.",
  details: ["-o, --output F   table (default), json or yaml", "An API token sees its own workspace only."],
  async run(ctx, _args, values) {
    const format = listOutput(values.output, values.json, "workspaces");
    const data = await ctx.api.graphql(`{ workspaces { slug name myRole createdAt } viewer { workspace { slug name createdAt } } }`);
    const rows: any[] = data.workspaces.length ? data.workspaces : data.viewer.workspace ? [{ ...data.viewer.workspace, myRole: null }] : [];
    printList(ctx, format, rows, () => table(["SLUG", "NAME", "ROLE", "CREATED"], rows.map((w) => [w.slug, w.name, w.myRole, w.createdAt])), "No workspaces.");
    return 0;
  },
};

const members: Command = {
  words: ["members"],
  args: [],
  options: ["output", "json"],
  usage: "members [-o table|json|yaml] -w SLUG",
  summary: "List the workspace's members and their roles.",
  details: ["-o, --output F   table (default), json or yaml"],
  async run(ctx, _args, values) {
    const format = listOutput(values.output, values.json, "members");
    const workspace = await onWorkspace(ctx, "members { role joinedAt user { id email name } }");
    const rows = workspace.members.map((m: any) => ({ email: m.user.email, name: m.user.name, role: m.role, joinedAt: m.joinedAt, userId: m.user.id }));
    printList(ctx, format, rows, () => table(["EMAIL", "NAME", "ROLE", "JOINED"], rows.map((m: any) => [m.email, m.name, m.role, m.joinedAt])), "No members.");
    return 0;
  },
};

const invite: Command = {
  words: ["invite"],
  args: ["EMAIL"],
  options: ["role", "json"],
  usage: "invite EMAIL [--role MEMBER] -w SLUG",
  summary: "Invite a person to the workspace; prints the invitation token once, for them to accept.",
  details: [
    "--role R    OWNER, ADMIN, MEMBER (default) or VIEWER",
    "Needs ADMIN or above. A server without invitations answers that it has none.",
  ],
  async run(ctx, [email], values) {
    const role = oneOf(values.role ?? "MEMBER", ROLES, "role", "invite");
    const workspace = await onWorkspace(ctx, "id slug");
    let data: any;
    try {
      data = await ctx.api.graphql(
        `mutation($w: ID!, $e: String!, $r: Role!) { inviteMember(workspaceId: $w, email: $e, role: $r) { token invitation { id email role expiresAt } } }`,
        { w: workspace.id, e: email, r: role },
      );
    } catch (error) {
      if (error instanceof PatchbayError && /Cannot query field "inviteMember"/.test(error.message)) {
        throw new PatchbayError("UNSUPPORTED", "This Patchbay server has no invitations yet (inviteMember); upgrade it.");
      }
      throw error;
    }
    const created = data.inviteMember;
    if (values.json) ctx.io.stdout.write(json(created));
    else {
      ctx.io.stdout.write(`${created.token}\n`);
      ctx.io.stderr.write(`Invited ${created.invitation.email} to ${workspace.slug} as ${created.invitation.role}, until ${created.invitation.expiresAt}. Send them the token above: it is not shown again.\n`);
    }
    return 0;
  },
};

const audit: Command = {
  words: ["audit"],
  args: [],
  options: ["output", "json", "first"],
  usage: "audit [--first N] [-o table|json|yaml] -w SLUG",
  summary: "Show the workspace's audit log, newest first (ADMIN and above).",
  details: ["--first N        how many events (default 50, at most 200)", "-o, --output F   table (default), json or yaml"],
  async run(ctx, _args, values) {
    const format = listOutput(values.output, values.json, "audit");
    const first = values.first === undefined ? 50 : Number(values.first);
    if (!Number.isInteger(first) || first < 1 || first > 200) throw new UsageError("--first is a whole number from 1 to 200.", "audit");
    const workspace = await onWorkspace(ctx, "auditEvents(first: $first) { nodes { id action actor targetType targetId at details } }", {
      first: { type: "Int", value: first },
    });
    const rows: any[] = workspace.auditEvents.nodes;
    printList(ctx, format, rows, () => table(["AT", "ACTOR", "ACTION", "TARGET"], rows.map((e) => [e.at, e.actor, e.action, e.targetId ? `${e.targetType} ${e.targetId}` : null])), "No audit events.");
    return 0;
  },
};

export const accountCommands: Command[] = [login, logout, workspaces, members, invite, audit];

/** Reads a line from the terminal without echoing it. */
async function promptHidden(ctx: Context, prompt: string): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) throw new UsageError("stdin is not a terminal: pass the password with --password-stdin.", "login");
  ctx.io.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let text = "";
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off("data", onData);
      ctx.io.stderr.write("\n");
      if (error) reject(error);
      else resolve(text);
    };
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003") return done(new UsageError("Cancelled."));
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else text += ch;
      }
    };
    stdin.on("data", onData);
  });
}
