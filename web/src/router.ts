/**
 * Routes live in the URL's fragment (#/w/analytics/connections), so the server serves one
 * page at / and every view can be bookmarked and reloaded.
 */
import { useEffect, useState } from "preact/hooks";

export type WorkspacePage = "connections" | "new-connection" | "tokens" | "members" | "audit" | "transfer" | "schedules" | "webhooks" | "bundles";

export type Route =
  | { page: "sign-in" }
  | { page: "home" }
  | { page: "new-workspace" }
  /** Accept an invitation: #/accept?token=pbi_… (the fragment never reaches a server log). */
  | { page: "accept"; token: string }
  | { page: WorkspacePage; slug: string }
  | { page: "connection" | "edit-connection"; slug: string; name: string }
  | { page: "not-found" };

const WORKSPACE_PAGES: Record<string, WorkspacePage> = {
  connections: "connections",
  "connections/new": "new-connection",
  tokens: "tokens",
  members: "members",
  audit: "audit",
  transfer: "transfer",
  schedules: "schedules",
  webhooks: "webhooks",
  bundles: "bundles",
};

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#\/?/, "");
  if (path === "") return { page: "home" };
  if (path === "sign-in") return { page: "sign-in" };
  if (path === "new-workspace") return { page: "new-workspace" };
  if (path === "accept" || path.startsWith("accept?")) return { page: "accept", token: new URLSearchParams(path.slice("accept".length)).get("token") ?? "" };
  const parts = path.split("/").map(safeDecode);
  if (parts[0] !== "w" || !parts[1] || parts.includes(null)) return { page: "not-found" };
  const slug = parts[1]!;
  const rest = parts.slice(2) as string[];
  if (rest.length === 0) return { page: "connections", slug };
  const page = WORKSPACE_PAGES[rest.join("/")];
  if (page && Object.hasOwn(WORKSPACE_PAGES, rest.join("/"))) return { page, slug };
  if (rest[0] === "connections" && rest[1] && rest.length === 2) return { page: "connection", slug, name: rest[1] };
  if (rest[0] === "connections" && rest[1] && rest[2] === "edit" && rest.length === 3) return { page: "edit-connection", slug, name: rest[1] };
  return { page: "not-found" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "home":
    case "not-found":
      return "#/";
    case "sign-in":
    case "new-workspace":
      return `#/${route.page}`;
    case "accept":
      return route.token ? `#/accept?token=${enc(route.token)}` : "#/accept";
    case "connection":
      return `#/w/${enc(route.slug)}/connections/${enc(route.name)}`;
    case "edit-connection":
      return `#/w/${enc(route.slug)}/connections/${enc(route.name)}/edit`;
    case "new-connection":
      return `#/w/${enc(route.slug)}/connections/new`;
    default:
      return `#/w/${enc(route.slug)}/${route.page}`;
  }
}

export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const target = href(route);
  if (options.replace) {
    history.replaceState(null, "", target);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    location.hash = target;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash));
    window.addEventListener("hashchange", update);
    return () => window.removeEventListener("hashchange", update);
  }, []);
  return route;
}

function enc(part: string): string {
  return encodeURIComponent(part);
}

function safeDecode(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}
