/**
 * SMTP submission, through Nodemailer's SMTPConnection: the test greets the server, upgrades
 * to TLS as configured, and authenticates. It never starts a mail transaction (no MAIL FROM,
 * RCPT TO or DATA), so a test cannot send mail. Everything an SMTP server says before the
 * login succeeds (its greeting, its error texts) is a stranger's bytes and stays out of the
 * messages; only its reply codes are read.
 */
import type { Socket } from "node:net";
import type SMTPConnection from "nodemailer/lib/smtp-connection";
import { connectChecked, resolveChecked, tlsIdentity } from "./common/egress";
import { DeadlineExceeded } from "./common/deadline";
import { endpointOf, type Endpoint } from "./common/endpoint";
import { displayAddress } from "./common/host";
import { networkFailure, type Failure } from "./common/network-errors";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress } from "./common/progress";
import { lazyDriver } from "./common/driver";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldSpec, TestContext, TestOutcome } from "./types";

export const SMTP_TLS_MODES = ["none", "starttls", "tls"] as const;
export type SmtpTlsMode = (typeof SMTP_TLS_MODES)[number];

const SUBMISSION_PORT = 587;
const IMPLICIT_TLS_PORT = 465;

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "smtp.example.com" },
  {
    name: "port",
    label: "Port",
    kind: "INTEGER",
    default: SUBMISSION_PORT,
    description: "587 for STARTTLS (submission), 465 for implicit TLS. Empty: 465 with TLS mode tls, else 587.",
  },
  {
    name: "extra.tls_mode",
    label: "TLS mode",
    kind: "SELECT",
    options: [...SMTP_TLS_MODES],
    default: "starttls",
    description:
      "starttls: connect in plain text, then upgrade with STARTTLS (required, never skipped). tls: TLS from the first byte (port 465). none: no encryption; the password crosses the network readable.",
  },
  {
    name: "extra.tls_verify",
    label: "Verify TLS certificate",
    kind: "BOOLEAN",
    default: true,
    description: "Check the server's certificate against the authorities trusted here and the host name. Turn off only for servers with a self-signed certificate.",
  },
  {
    name: "login",
    label: "User",
    kind: "STRING",
    placeholder: "mailer@example.com",
    description: "Leave empty for a relay that accepts mail without authentication; the test then stops after the handshake.",
  },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
];

export const smtpAdapter: ConnectionAdapter = {
  id: "smtp",
  label: "SMTP",
  summary: "handshake, STARTTLS or implicit TLS, AUTH; sends no mail",
  airflow: { aliases: ["email"] },
  defaultPort: SUBMISSION_PORT,
  fields,
  test: testSmtp,
};

export interface SmtpTarget extends Endpoint {
  tlsMode: SmtpTlsMode;
  verify: boolean;
  user: string | null;
}

/** What the adapter connects to, defaults applied, or why the settings cannot be used. */
export function smtpTarget(settings: ConnectionSettings): SmtpTarget | string {
  const tlsMode = settings.extra.tls_mode ?? "starttls";
  if (!SMTP_TLS_MODES.includes(tlsMode as SmtpTlsMode)) return `Unknown TLS mode: ${String(tlsMode)}.`;
  const endpoint = endpointOf(settings, tlsMode === "tls" ? IMPLICIT_TLS_PORT : SUBMISSION_PORT);
  if (typeof endpoint === "string") return endpoint;
  const verify = settings.extra.tls_verify ?? true;
  if (typeof verify !== "boolean") return "Verify TLS certificate must be true or false.";
  if (settings.password && !settings.login) return "User is required when a password is set.";
  return { ...endpoint, tlsMode: tlsMode as SmtpTlsMode, verify, user: settings.login || null };
}

/** Why SMTPConnection stopped, in the parts that can be read without trusting the peer. */
interface SmtpError {
  code?: string;
  originalCode?: string;
  responseCode?: number;
  command?: string;
}

const smtpConnection = lazyDriver(async () => (await import("nodemailer/lib/smtp-connection")).default);

const probe: Probe<SmtpTarget, boolean> = {
  fields,
  target(settings) {
    const target = invalidConfig(smtpTarget(settings));
    if ("code" in target || !target.user || settings.password) return target;
    return { code: "SECRET_REQUIRED", message: `A user is set but no password: ${displayAddress(target.host, target.port)} cannot be logged in to without one.` };
  },
  async open(target, { ctx, settings, progress, sockets, closeWith }) {
    const Connection = await smtpConnection.load();
    const checked = await resolveChecked(ctx, target.host);
    const socket = await connectChecked(checked, target.port, sockets);
    progress.connected = true;
    const connection = new Connection(connectionOptions(target, checked, socket, ctx.timeoutMs));
    closeWith({ end: () => quit(connection), destroy: () => connection.close() });
    const broken = failures(connection);
    await Promise.race([handshake(connection), broken]);
    if (!target.user) return false;
    if (!connection.allowsAuth) throw new NoAuthOffered();
    await Promise.race([login(connection, target.user, settings.password ?? ""), broken]);
    progress.authenticated = true;
    return true;
  },
  describe(target, authenticated) {
    const address = displayAddress(target.host, target.port);
    const tls = target.tlsMode === "none" ? "without TLS" : target.tlsMode === "tls" ? "over TLS" : "with STARTTLS";
    return {
      ok: true,
      message: authenticated
        ? `Logged in to ${address} as ${target.user} ${tls}. No mail was sent.`
        : `${address} completed the SMTP handshake ${tls}; no user is set, so no login was tried. No mail was sent.`,
      serverVersion: null,
    };
  },
  classify: (error, target, { progress, ctx }) => describeFailure(error, target, progress, ctx.timeoutMs),
};

function testSmtp(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

function connectionOptions(target: SmtpTarget, checked: CheckedAddress, socket: Socket, timeoutMs: number): SMTPConnection.Options {
  const identity = tlsIdentity(target.host, checked);
  // The driver's own timers are left longer than the deadline, which always ends the test first.
  const driverTimeout = timeoutMs + 1_000;
  return {
    // The connected socket to the checked address; `host` only names the server for TLS.
    connection: socket,
    host: identity.host,
    port: target.port,
    secure: target.tlsMode === "tls",
    requireTLS: target.tlsMode === "starttls",
    ignoreTLS: target.tlsMode === "none",
    tls: { ...identity, rejectUnauthorized: target.verify, minVersion: "TLSv1.2" },
    // An address literal for this end of the socket: the default would tell the server this
    // machine's host name.
    name: socket.localAddress ? addressLiteral(socket.localAddress) : "[127.0.0.1]",
    connectionTimeout: driverTimeout,
    greetingTimeout: driverTimeout,
    socketTimeout: driverTimeout,
    socketCloseTimeout: 0,
    maxResponseSize: 64 * 1024,
    logger: false,
    debug: false,
  };
}

function addressLiteral(ip: string): string {
  const bare = ip.startsWith("::ffff:") && ip.includes(".") ? ip.slice("::ffff:".length) : ip;
  return bare.includes(":") ? `[IPv6:${bare}]` : `[${bare}]`;
}

/** Rejects when the connection fails or closes at any point; never resolves. */
function failures(connection: SMTPConnection): Promise<never> {
  const broken = new Promise<never>((_, reject) => {
    connection.on("error", reject);
    connection.once("end", () => reject(new ClosedByServer()));
  });
  broken.catch(() => {});
  return broken;
}

function handshake(connection: SMTPConnection): Promise<void> {
  return new Promise((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
}

function login(connection: SMTPConnection, user: string, pass: string): Promise<void> {
  return new Promise((resolve, reject) => connection.login({ user, pass }, (error) => (error ? reject(error) : resolve())));
}

function quit(connection: SMTPConnection): Promise<void> {
  return new Promise((resolve) => {
    connection.once("end", () => resolve());
    connection.quit();
  });
}

class ClosedByServer extends Error {}
class NoAuthOffered extends Error {}

function describeFailure(error: unknown, target: SmtpTarget, progress: Progress, timeoutMs: number): Failure {
  const address = displayAddress(target.host, target.port);
  if (error instanceof DeadlineExceeded) return timeoutFailure(address, progress, timeoutMs, "SMTP");

  const smtp = (error ?? {}) as SmtpError;
  // Nodemailer replaces a socket error's code with its own category and keeps the original.
  const network = networkFailure({ code: smtp.originalCode ?? smtp.code }, target);
  if (network) return network;

  if (error instanceof NoAuthOffered) {
    const hint = target.tlsMode === "none" ? " Many servers offer it only after STARTTLS: set TLS mode to starttls." : "";
    return { code: "PROTOCOL_ERROR", message: `${address} does not offer authentication (no AUTH in its EHLO reply).${hint}` };
  }
  const reply = smtp.responseCode ? ` (reply ${smtp.responseCode})` : "";
  if (smtp.command === "STARTTLS" || smtp.code === "ETLS") {
    return smtp.responseCode
      ? { code: "TLS_ERROR", message: `${address} does not offer STARTTLS${reply}. Use TLS mode tls (port 465), or none if the server has no TLS.` }
      : { code: "TLS_ERROR", message: `The TLS handshake with ${address} failed.` };
  }
  if (smtp.code === "EAUTH") return authFailure(address, target, smtp.responseCode, reply);
  if (error instanceof ClosedByServer || smtp.code === "ECONNECTION") {
    return { code: "PROTOCOL_ERROR", message: `${address} closed the connection before the SMTP session was set up.` };
  }
  if (smtp.code === "EPROTOCOL") {
    return { code: "PROTOCOL_ERROR", message: `${address} did not answer like an SMTP server${reply}.` };
  }
  return { code: "UNKNOWN", message: `The SMTP test of ${address} failed${reply}.` };
}

function authFailure(address: string, target: SmtpTarget, responseCode: number | undefined, reply: string): Failure {
  switch (responseCode) {
    case 530:
    case 538:
      return {
        code: "TLS_ERROR",
        message: `${address} requires an encrypted connection before login${reply}. Set TLS mode to starttls or tls.`,
      };
    case 454:
    case 421:
      return { code: "UNKNOWN", message: `${address} could not check the login just now${reply}. Try again later.` };
    default:
      return { code: "AUTH_FAILED", message: `${address} rejected the login for user ${target.user}${reply}. Check the user and password.` };
  }
}
