/**
 * The host check every connection type shares. A host is a DNS name or an IP literal and
 * nothing else: drivers treat a leading `/` as a Unix socket path (a way into the server's
 * own filesystem), and URLs, user-info or ports pasted into the field would be read by the
 * resolver in surprising ways.
 */
import { isIPv4, isIPv6 } from "node:net";

const MAX_HOST_LENGTH = 253;
const LABEL = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$/;

/** Why `host` is not usable as a network host, or null when it is. */
export function hostProblem(host: string): string | null {
  if (host.startsWith("/")) {
    return "Unix socket paths are not supported; enter the server's hostname or IP address.";
  }
  if (host.includes("://")) {
    // Said first: a credential typed into a URL must be moved, whatever the type does with URLs.
    if (/^[^/?#]*:\/\/[^/?#]*@/.test(host)) {
      return "The host is a URL with a user name or password in it (user:password@); remove them from the URL and enter them in the login and password fields.";
    }
    return "Enter only the hostname or IP address, not a URL.";
  }
  if (/\s/.test(host)) return "A hostname cannot contain spaces or other whitespace.";
  if (host.length > MAX_HOST_LENGTH) return `A hostname has at most ${MAX_HOST_LENGTH} characters.`;
  if (host.includes("@")) return "Enter only the hostname; the user name goes in the Login field.";
  if (/[/?#]/.test(host)) return "A hostname cannot contain '/', '?' or '#'; enter only the hostname or IP address.";

  if (host.startsWith("[") || host.endsWith("]")) {
    return host.startsWith("[") && host.endsWith("]") && isIPv6(host.slice(1, -1))
      ? null
      : "Brackets are only for IPv6 addresses, e.g. [2001:db8::1].";
  }
  if (host.includes(":")) {
    return isIPv6(host) ? null : "Enter the port in the Port field, not after the hostname.";
  }
  if (isIPv4(host)) return null;

  const labels = (host.endsWith(".") ? host.slice(0, -1) : host).split(".");
  if (labels.every((label) => LABEL.test(label))) return null;
  return "Not a valid hostname: use letters, digits, '-' and '.', e.g. db.example.com.";
}

/** The host as a socket API wants it: IPv6 literals without their URL brackets. */
export function socketHost(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** A URL's host name as a socket API wants it (IPv6 without brackets). */
export function urlHost(url: URL): string {
  return socketHost(url.hostname);
}

/** `host:port` for messages, bracketing IPv6 literals so the port stays readable. */
export function displayAddress(host: string, port: number): string {
  const bare = socketHost(host);
  return isIPv6(bare) ? `[${bare}]:${port}` : `${bare}:${port}`;
}
