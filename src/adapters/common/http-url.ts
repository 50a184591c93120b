/**
 * An http(s) URL typed into an extra field (an OAuth2 token URL, a storage endpoint): parsed
 * strictly, with no credentials, query or fragment in it, and a host that passes the shared
 * host check. Where the request then goes is decided by the egress policy at test and resolve
 * time, like every other host.
 */
import { hostProblem } from "./host";

/** The URL, or why it is not usable (a message naming what to fix). */
export function parseHttpUrl(value: unknown, what: string, example: string): URL | string {
  const usage = `Enter an http(s) URL such as ${example}.`;
  if (typeof value !== "string" || /[\s\u0000-\u001f\u007f\\]/.test(value) || !URL.canParse(value)) {
    return `${what} is not a usable URL. ${usage}`;
  }
  const url = new URL(value);
  if (url.protocol !== "http:" && url.protocol !== "https:") return `${what} must use http or https. ${usage}`;
  if (url.username || url.password) return `${what} cannot hold a user or password; the credentials have fields of their own.`;
  if (url.search || url.hash || value.includes("?") || value.includes("#")) return `${what} cannot have a query or fragment.`;
  const problem = hostProblem(url.hostname);
  if (problem) return `${what}'s host: ${problem}`;
  return url;
}
