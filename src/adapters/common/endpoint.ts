/**
 * The host and port a test connects to, checked again by the adapter itself: the registry's
 * validation runs first in the service, but an adapter must not hand a socket path or an
 * out-of-range port to its driver whoever calls it.
 */
import type { ConnectionSettings } from "../types";
import { hostProblem } from "./host";

export interface Endpoint {
  host: string;
  port: number;
}

/** The endpoint, with the type's default port when none is set, or why there is none. */
export function endpointOf(settings: ConnectionSettings, defaultPort: number): Endpoint | string {
  if (!settings.host) return "Host is required.";
  const problem = hostProblem(settings.host);
  if (problem) return problem;
  const port = settings.port ?? defaultPort;
  if (!Number.isInteger(port) || port < 1 || port > 65535) return "Port must be between 1 and 65535.";
  return { host: settings.host, port };
}
