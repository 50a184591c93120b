/**
 * IMAP, through ImapFlow: the test logs in and opens the mailbox read-only (EXAMINE), which
 * proves both the credentials and the mailbox name. ImapFlow is given a transport that opens
 * its sockets to the checked address only, so the driver never resolves a name; TLS still
 * verifies the name the user typed. What the server says before the login succeeds (its
 * greeting, its rejection texts) stays out of the messages; only IMAP response codes are read.
 */
import type { Socket } from "node:net";
import { connect as tlsConnect, type ConnectionOptions } from "node:tls";
import type { ImapFlowOptions } from "imapflow";
import { type OpenSockets, openChecked, resolveChecked, tlsIdentity } from "./common/egress";
import { DeadlineExceeded } from "./common/deadline";
import { endpointOf, type Endpoint } from "./common/endpoint";
import { displayAddress } from "./common/host";
import { networkFailure, type Failure } from "./common/network-errors";
import { lazyDriver } from "./common/driver";
import { invalidConfig, type Probe, runProbe } from "./common/probe";
import { timeoutFailure, type Progress } from "./common/progress";
import type { CheckedAddress, ConnectionAdapter, ConnectionSettings, FieldSpec, TestContext, TestOutcome } from "./types";

export const IMAP_TLS_MODES = ["none", "starttls", "tls"] as const;
export type ImapTlsMode = (typeof IMAP_TLS_MODES)[number];

const IMPLICIT_TLS_PORT = 993;
const PLAIN_PORT = 143;
const DEFAULT_MAILBOX = "INBOX";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", required: true, placeholder: "imap.example.com" },
  {
    name: "port",
    label: "Port",
    kind: "INTEGER",
    default: IMPLICIT_TLS_PORT,
    description: "993 for TLS, 143 for STARTTLS or no encryption. Empty: 993 with TLS mode tls, else 143.",
  },
  {
    name: "extra.tls_mode",
    label: "TLS mode",
    kind: "SELECT",
    options: [...IMAP_TLS_MODES],
    default: "tls",
    description:
      "tls: TLS from the first byte (port 993). starttls: connect in plain text, then upgrade with STARTTLS (required, never skipped). none: no encryption; the password crosses the network readable.",
  },
  {
    name: "extra.tls_verify",
    label: "Verify TLS certificate",
    kind: "BOOLEAN",
    default: true,
    description: "Check the server's certificate against the authorities trusted here and the host name. Turn off only for servers with a self-signed certificate.",
  },
  { name: "login", label: "User", kind: "STRING", required: true, placeholder: "someone@example.com" },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
  {
    name: "extra.mailbox",
    safeToChange: true,
    label: "Mailbox",
    kind: "STRING",
    default: DEFAULT_MAILBOX,
    placeholder: DEFAULT_MAILBOX,
    description: "The mailbox the test opens read-only, e.g. INBOX or Archive/2024.",
  },
];

export const imapAdapter: ConnectionAdapter = {
  id: "imap",
  label: "IMAP",
  summary: "logs in and opens the mailbox (INBOX by default) read-only",
  defaultPort: IMPLICIT_TLS_PORT,
  fields,
  test: testImap,
};

export interface ImapTarget extends Endpoint {
  tlsMode: ImapTlsMode;
  verify: boolean;
  user: string;
  mailbox: string;
}

/** What the adapter connects to, defaults applied, or why the settings cannot be used. */
export function imapTarget(settings: ConnectionSettings): ImapTarget | string {
  const tlsMode = settings.extra.tls_mode ?? "tls";
  if (!IMAP_TLS_MODES.includes(tlsMode as ImapTlsMode)) return `Unknown TLS mode: ${String(tlsMode)}.`;
  const endpoint = endpointOf(settings, tlsMode === "tls" ? IMPLICIT_TLS_PORT : PLAIN_PORT);
  if (typeof endpoint === "string") return endpoint;
  const verify = settings.extra.tls_verify ?? true;
  if (typeof verify !== "boolean") return "Verify TLS certificate must be true or false.";
  if (!settings.login) return "User is required.";
  const mailbox = settings.extra.mailbox ?? DEFAULT_MAILBOX;
  if (typeof mailbox !== "string") return "Mailbox must be text.";
  return { ...endpoint, tlsMode: tlsMode as ImapTlsMode, verify, user: settings.login, mailbox: mailbox.trim() || DEFAULT_MAILBOX };
}

/** The parts of an ImapFlow error that can be read without trusting the peer. */
interface ImapError {
  code?: string;
  authenticationFailed?: boolean;
  tlsFailed?: boolean;
  mailboxMissing?: boolean;
  serverResponseCode?: string;
  responseStatus?: string;
  responseText?: string;
  message?: string;
}

const imapflow = lazyDriver(() => import("imapflow"));

const probe: Probe<ImapTarget, { serverVersion: string | null; exists: number }> = {
  fields,
  target(settings) {
    const target = invalidConfig(imapTarget(settings));
    if ("code" in target || settings.password) return target;
    return { code: "SECRET_REQUIRED", message: `${displayAddress(target.host, target.port)} cannot be logged in to without a password, and this connection has none.` };
  },
  async open(target, { ctx, settings, progress, sockets, closeWith }) {
    const { ImapFlow } = await imapflow.load();
    const checked = await resolveChecked(ctx, target.host);
    const client = new ImapFlow(clientOptions(target, settings.password!, checked, sockets, progress, ctx.timeoutMs));
    closeWith({ end: () => client.logout(), destroy: () => client.close() });
    client.on("error", () => {});
    await client.connect();
    progress.authenticated = true;
    const mailbox = await client.mailboxOpen(target.mailbox, { readOnly: true });
    return { serverVersion: versionOf(client.serverInfo), exists: mailbox.exists };
  },
  describe: (target, { serverVersion, exists }) => ({
    ok: true,
    message: `Logged in to ${displayAddress(target.host, target.port)} as ${target.user} and opened ${target.mailbox} read-only (${exists} messages).`,
    serverVersion,
  }),
  classify: (error, target, { progress, ctx }) => describeFailure(error, target, progress, ctx.timeoutMs),
};

function testImap(settings: ConnectionSettings, ctx: TestContext): Promise<TestOutcome> {
  return runProbe(probe, settings, ctx);
}

function clientOptions(
  target: ImapTarget,
  password: string,
  checked: CheckedAddress,
  sockets: OpenSockets,
  progress: Progress,
  timeoutMs: number,
): ImapFlowOptions {
  const identity = tlsIdentity(target.host, checked);
  const tls: ConnectionOptions = { ...identity, rejectUnauthorized: target.verify, minVersion: "TLSv1.2" };
  // The driver's own timers are left longer than the deadline, which always ends the test first.
  const driverTimeout = timeoutMs + 1_000;
  return {
    host: identity.host,
    port: target.port,
    secure: target.tlsMode === "tls",
    doSTARTTLS: target.tlsMode === "starttls" ? true : target.tlsMode === "none" ? false : undefined,
    auth: { user: target.user, pass: password },
    transport: {
      connect(options, onConnect) {
        const socket = openChecked(checked, target.port, sockets);
        socket.once("connect", () => (progress.connected = true));
        if (!options.secure) {
          socket.once("connect", onConnect);
          return socket;
        }
        return sockets.add(tlsConnect({ ...tls, socket }, onConnect));
      },
      upgrade(socket, _options, onSecure) {
        return sockets.add(tlsConnect({ ...tls, socket: socket as Socket }, onSecure));
      },
    },
    clientInfo: { name: "Patchbay connection test", version: false, vendor: false, "support-url": false },
    logger: false,
    disableAutoIdle: true,
    disableCompression: true,
    disableAutoEnable: true,
    connectionTimeout: driverTimeout,
    greetingTimeout: driverTimeout,
    socketTimeout: driverTimeout,
    // A connection test reads a few short lines; a peer that sends more is not worth buffering.
    maxLineLength: 64 * 1024,
    maxLiteralSize: 64 * 1024,
    maxResponseSize: 256 * 1024,
  };
}

/** "Dovecot 2.3.19.1" from an ID response, when the server sent one. */
function versionOf(info: { name?: unknown; version?: unknown } | null | undefined): string | null {
  const name = typeof info?.name === "string" ? info.name.trim() : "";
  const version = typeof info?.version === "string" ? info.version.trim() : "";
  return [name, version].filter(Boolean).join(" ").slice(0, 100) || null;
}

const PROTOCOL_CODES = /^(ParserError|InvalidResponse|UnexpectedTag|MissingTag|LineTooLarge|LiteralTooLarge|ResponseTooLarge|TooManyTokens|TooManyResponses|MAX_IMAP_NESTING_REACHED)/;
const CLOSED_CODES = new Set(["NoConnection", "EConnectionClosed", "ClosedAfterConnectText", "ClosedAfterConnectTLS"]);

function describeFailure(error: unknown, target: ImapTarget, progress: Progress, timeoutMs: number): Failure {
  const address = displayAddress(target.host, target.port);
  if (error instanceof DeadlineExceeded) return timeoutFailure(address, progress, timeoutMs, "IMAP");
  const network = networkFailure(error, target);
  if (network) return network;

  const imap = (error ?? {}) as ImapError;
  const serverCode = imap.serverResponseCode ? ` [${imap.serverResponseCode.replace(/[^A-Z0-9-]/gi, "").slice(0, 40)}]` : "";
  if (imap.tlsFailed) {
    return imap.code === "STARTTLS_INJECTION" || !/STARTTLS/.test(imap.message ?? "")
      ? { code: "TLS_ERROR", message: `The TLS upgrade with ${address} failed.` }
      : { code: "TLS_ERROR", message: `${address} does not offer STARTTLS. Use TLS mode tls (port 993), or none if the server has no TLS.` };
  }
  if (imap.authenticationFailed) return authFailure(address, target, imap, serverCode);
  if (!progress.authenticated) {
    if (imap.code && PROTOCOL_CODES.test(imap.code)) return { code: "PROTOCOL_ERROR", message: `${address} did not answer like an IMAP server.` };
    if (imap.code && CLOSED_CODES.has(imap.code)) {
      return { code: "PROTOCOL_ERROR", message: `${address} closed the connection before the IMAP login completed.` };
    }
    return { code: "PROTOCOL_ERROR", message: `${address} did not complete the IMAP login.` };
  }

  // After the login the server is the one the user configured; its words may be shown.
  const said = imap.responseText ? ` The server said: ${imap.responseText}` : "";
  if (imap.mailboxMissing || imap.serverResponseCode === "NONEXISTENT") {
    return { code: "NOT_FOUND", message: `${address} has no mailbox named ${target.mailbox} for ${target.user}.` };
  }
  if (imap.serverResponseCode === "NOPERM") {
    return { code: "PERMISSION_DENIED", message: `${target.user} may not open the mailbox ${target.mailbox} on ${address}.${said}` };
  }
  return { code: "UNKNOWN", message: `Opening the mailbox ${target.mailbox} on ${address} failed${serverCode}.${said}` };
}

function authFailure(address: string, target: ImapTarget, imap: ImapError, serverCode: string): Failure {
  if (imap.message === "Login is disabled" || imap.serverResponseCode === "PRIVACYREQUIRED") {
    return {
      code: "TLS_ERROR",
      message: `${address} does not accept a login over an unencrypted connection. Set TLS mode to starttls or tls.`,
    };
  }
  if (imap.serverResponseCode === "UNAVAILABLE") {
    return { code: "UNKNOWN", message: `${address} could not check the login just now${serverCode}. Try again later.` };
  }
  return { code: "AUTH_FAILED", message: `${address} rejected the login for user ${target.user}${serverCode}. Check the user and password.` };
}
