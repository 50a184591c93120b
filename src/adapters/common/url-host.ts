/**
 * A whole URL typed (or imported) into `host`, for the types whose server is an http(s) URL:
 * Airflow keeps an HTTP connection's base URL in `host` (its HttpHook uses the host as the
 * base URL when it contains "://"), and a package index is usually pasted as its URL. Such a
 * host is split into the common fields: the scheme into `schema`, the host name (or bracketed
 * IPv6 literal) into `host`, the port into `port`, and the path into a path extra.
 *
 * The split is done by hand, not with WHATWG's URL parser, which is lenient in ways that
 * would change what the user typed without saying so (it drops tabs and newlines, reads '\'
 * as '/', accepts `https:///host`, forgets a default port). Each part is then checked by the
 * usual rules: the registry's host check, the Scheme options, the port range, the path rules.
 *
 * What cannot be split without losing or misplacing something is left in `host` for
 * validation to refuse, with the reason `hostUrlProblem` gives: a user name or password in
 * the URL (normalize may not write login or password, and a secret must not stay in a plain
 * field), a query or fragment, a port or path that disagrees with the Port or path field.
 */
import { isIPv6 } from "node:net";
import type { ConnectionSettings, FieldProblem } from "../types";

/** scheme "://" authority path [?query] [#fragment] */
const URL_IN_HOST = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/s;

export interface HostUrlOptions {
  /** The extra key the URL's path goes to (`base_path`, `path`). */
  pathKey: string;
  /** The path field's label, for messages. */
  pathLabel: string;
  /** The path field's default: a field still holding it gives way to the URL's path. */
  defaultPath?: string;
}

export type HostUrlSplit = { settings: ConnectionSettings } | { problem: FieldProblem };

/**
 * The settings with a URL in `host` split into the common fields, or why it cannot be; null
 * when the host is not a URL (holds no "://").
 *
 * - The URL's scheme replaces `schema`, as Airflow ignores the schema of a connection whose
 *   host is a URL (and a form's default scheme must not overrule a pasted URL). A scheme
 *   other than http or https is moved all the same, so validation says what is wrong with it.
 * - The URL's port fills an empty `port`; a different port already there is a conflict.
 * - The URL's path (other than "" or "/") fills the path extra when that is empty or at its
 *   default; a different path already there is a conflict.
 */
export function splitHostUrl(settings: ConnectionSettings, options: HostUrlOptions): HostUrlSplit | null {
  const host = settings.host;
  if (host === null || !host.includes("://")) return null;
  const problem = (message: string): HostUrlSplit => ({ problem: { field: "host", message } });

  const match = URL_IN_HOST.exec(host.trim());
  if (!match) {
    return problem("Host holds something that is not a URL; enter an http(s) URL such as https://api.example.com:8443/v1, or only the hostname.");
  }
  const [, scheme, authority, rawPath, query, fragment] = match;
  if (authority.includes("@")) {
    return problem(
      "The URL in Host contains a user name or password; remove it from the URL and enter them in the Login and Password fields, where the password is stored encrypted.",
    );
  }
  if (query !== undefined || fragment !== undefined) {
    return problem("The URL in Host cannot have a query ('?') or fragment ('#'); enter only scheme, host, port and path.");
  }
  const hostPort = /^(\[[^\]]*\]|[^:[\]]*)(?::([^:]*))?$/.exec(authority);
  if (!hostPort || hostPort[1] === "") {
    return problem(
      "The URL in Host has no host name, or an IPv6 address without brackets; write it as https://api.example.com:8443/v1 or https://[2001:db8::1]:8443/v1.",
    );
  }
  const [, hostname, portText] = hostPort;

  let port = settings.port;
  if (portText !== undefined && portText !== "") {
    if (!/^[0-9]{1,5}$/.test(portText)) return problem("The port in the URL in Host must be a number from 1 to 65535.");
    const urlPort = Number(portText);
    if (port !== null && port !== urlPort) {
      return problem(`The URL in Host has port ${urlPort} but the Port field says ${port}; clear one of them.`);
    }
    port = urlPort;
  }

  const extra = { ...settings.extra };
  if (rawPath !== "" && rawPath !== "/") {
    const current = extra[options.pathKey];
    const unset = current === undefined || current === null || (typeof current === "string" && current.trim() === "");
    if (!unset && current !== options.defaultPath && current !== rawPath) {
      return problem(`The URL in Host has the path ${rawPath} but ${options.pathLabel} says ${String(current)}; clear one of them.`);
    }
    extra[options.pathKey] = rawPath;
  }

  return { settings: { ...settings, schema: scheme.toLowerCase(), host: hostname, port, extra } };
}

/** normalize() for such a type: the split settings, or the settings unchanged for validation to refuse. */
export function normalizeHostUrl(settings: ConnectionSettings, options: HostUrlOptions): ConnectionSettings {
  const split = splitHostUrl(settings, options);
  return split && "settings" in split ? split.settings : settings;
}

/** Why a URL left in `host` could not be split, or null (no URL, or one normalize would split). */
export function hostUrlProblem(settings: ConnectionSettings, options: HostUrlOptions): FieldProblem | null {
  const split = splitHostUrl(settings, options);
  if (split === null) return null;
  return "problem" in split
    ? split.problem
    : { field: "host", message: "Host holds a URL that was not split into its fields; enter only the hostname or IP address." };
}

/**
 * The reverse of normalize, for Airflow (toAirflow): a host name joined with the scheme
 * (default https, as Patchbay reads an empty Scheme), port and path extra into one URL in
 * `host`, which is how Airflow's hooks take a base or index URL; schema and port become null
 * and the path extra is dropped. `emptyPath` stands in for an unset path extra (the type's
 * default); without one an unset path writes no path. A connection without a host, or whose
 * host already holds a URL, is left as it is.
 */
export function joinHostUrl(settings: ConnectionSettings, options: HostUrlOptions & { emptyPath?: string }): ConnectionSettings {
  const host = settings.host;
  if (!host || host.includes("://")) return settings;
  const scheme = (settings.schema || "https").toLowerCase();
  const { [options.pathKey]: rawPath, ...extra } = settings.extra;
  const path = typeof rawPath === "string" && rawPath.trim() !== "" ? rawPath.trim() : (options.emptyPath ?? "");
  const authority = `${isIPv6(host) ? `[${host}]` : host}${settings.port !== null ? `:${settings.port}` : ""}`;
  return { ...settings, host: `${scheme}://${authority}${path}`, schema: null, port: null, extra };
}
