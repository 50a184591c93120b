/**
 * The page's shell: who is signed in, the workspace switcher, the navigation, and the view the
 * URL names. Everything it shows comes from the public GraphQL API; which controls appear
 * comes from Workspace.permissions.
 */
import { useEffect, useState } from "preact/hooks";
import { onSignedOut, request } from "./api/client";
import { Alert, Loading } from "./components/common";
import { lazyPage } from "./components/lazy";
import type { TypeSpec } from "./connection-form/model";
import { ConnectionTypesDocument, LogOutDocument, SessionDocument, type WorkspaceSummaryFragment } from "./gql/graphql";
import { useQuery } from "./hooks";
import { AcceptInvitationPage } from "./pages/accept-invitation";
import { ApiTokensPage } from "./pages/api-tokens";
import { AuditLogPage } from "./pages/audit-log";
import { ConnectionDetailPage } from "./pages/connection-detail";
import { ConnectionEditorPage } from "./pages/connection-editor";
import { ConnectionsPage } from "./pages/connections";
import { ImportExportPage } from "./pages/import-export";
import { MembersPage } from "./pages/members";
import { NewWorkspacePage, SignInPage } from "./pages/sign-in";
import { href, navigate, type Route, useRoute, type WorkspacePage } from "./router";
import { clearSession, saveSession, sessionToken } from "./session";

// Admin pages, loaded when first opened.
const TestSchedulesPage = lazyPage("test schedules", () => import("./pages/test-schedules").then((m) => m.TestSchedulesPage));
const WebhooksPage = lazyPage("webhooks", () => import("./pages/webhooks").then((m) => m.WebhooksPage));
const BundlesPage = lazyPage("bundles", () => import("./pages/bundles").then((m) => m.BundlesPage));

export function App() {
  const [signedIn, setSignedIn] = useState(() => sessionToken() !== null);
  const route = useRoute();
  useEffect(() => onSignedOut(() => setSignedIn(false)), []);

  if (!signedIn) {
    return (
      <Frame>
        <SignInPage
          invitationToken={route.page === "accept" ? route.token : null}
          onSignedIn={(token, joined) => {
            saveSession(token);
            setSignedIn(true);
            // An account created with the invitation has joined already; one signed in accepts next.
            if (route.page === "sign-in" || joined) navigate({ page: "home" }, { replace: true });
          }}
        />
      </Frame>
    );
  }
  return (
    <SignedIn
      route={route}
      onSignOut={async () => {
        // End the session on the server too, so the token is dead even if it was copied.
        await request(LogOutDocument, {}).catch(() => {});
        clearSession();
        setSignedIn(false);
        navigate({ page: "sign-in" });
      }}
    />
  );
}

function SignedIn({ route, onSignOut }: { route: Route; onSignOut(): Promise<void> }) {
  const session = useQuery(SessionDocument, {});
  const types = useQuery(ConnectionTypesDocument, {});
  const [notice, setNotice] = useState<string | null>(null);
  const workspaces = session.data?.workspaces ?? [];
  const slug = "slug" in route ? route.slug : null;
  const workspace = slug ? workspaces.find((w) => w.slug === slug) : undefined;

  useEffect(() => {
    if (!session.data) return;
    if (route.page === "home" || route.page === "sign-in") {
      const first = session.data.workspaces[0];
      navigate(first ? { page: "connections", slug: first.slug } : { page: "new-workspace" }, { replace: true });
    }
  }, [session.data, route.page]);
  // A notice belongs to the page it was made for.
  useEffect(() => {
    if (route.page !== "connections") setNotice(null);
  }, [route.page, slug]);

  const user = session.data?.viewer.user;
  const header = (
    <header class="topbar">
      <a class="brand" href="#/">
        Patchbay
      </a>
      {session.data && (
        <div class="workspace-switcher">
          <label for="workspace-switcher">Workspace</label>
          <select
            id="workspace-switcher"
            value={workspace?.slug ?? ""}
            onChange={(e) => e.currentTarget.value && navigate({ page: "connections", slug: e.currentTarget.value })}
          >
            {!workspace && <option value="">Choose…</option>}
            {workspaces.map((w) => (
              <option key={w.id} value={w.slug}>
                {w.name} ({w.slug})
              </option>
            ))}
          </select>
          <a class="button-link" href={href({ page: "new-workspace" })}>
            New workspace
          </a>
        </div>
      )}
      <div class="account">
        {user && <span class="muted">{user.email}</span>}
        <a class="button-link" href="/explorer">
          GraphQL explorer
        </a>
        <button type="button" class="button-secondary" onClick={() => void onSignOut()}>
          Sign out
        </button>
      </div>
    </header>
  );

  let body;
  if (session.error || types.error) body = <Alert>{(session.error ?? types.error)!.message}</Alert>;
  else if (!session.data || !types.data) body = <Loading what="your workspaces" />;
  else if (route.page === "new-workspace")
    body = (
      <NewWorkspacePage
        onCreated={(created) => {
          session.reload();
          navigate({ page: "connections", slug: created.slug });
        }}
      />
    );
  else if (route.page === "accept")
    body = (
      <AcceptInvitationPage
        token={route.token}
        email={user?.email ?? ""}
        onJoined={(joined, message) => {
          setNotice(message);
          session.reload();
          navigate({ page: "connections", slug: joined });
        }}
      />
    );
  else if (route.page === "not-found") body = <NotFound />;
  else if (slug && !workspace) body = session.loading ? <Loading what="your workspaces" /> : <NotFound what={`You have no workspace ${slug}.`} />;
  else if (workspace)
    body = (
      <WorkspaceView
        route={route}
        workspace={workspace}
        types={types.data.connectionTypes}
        userId={user?.id ?? ""}
        notice={notice}
        onNotice={setNotice}
        onMembershipChanged={session.reload}
      />
    );
  else body = <Loading what="your workspaces" />;

  return (
    <Frame header={header} nav={workspace && <WorkspaceNav workspace={workspace} route={route} />}>
      {body}
    </Frame>
  );
}

function WorkspaceView(props: {
  route: Route;
  workspace: WorkspaceSummaryFragment;
  types: TypeSpec[];
  userId: string;
  notice: string | null;
  onNotice(notice: string): void;
  onMembershipChanged(): void;
}) {
  const { route, workspace, types } = props;
  switch (route.page) {
    case "connections":
      return <ConnectionsPage key={workspace.slug} workspace={workspace} types={types} notice={props.notice} />;
    case "new-connection":
      return <ConnectionEditorPage workspace={workspace} types={types} onSaved={props.onNotice} />;
    case "edit-connection":
      return <ConnectionEditorPage key={route.name} workspace={workspace} types={types} name={route.name} onSaved={props.onNotice} />;
    case "connection":
      return <ConnectionDetailPage key={route.name} workspace={workspace} types={types} name={route.name} />;
    case "tokens":
      return <ApiTokensPage workspace={workspace} />;
    case "members":
      return <MembersPage workspace={workspace} userId={props.userId} onChanged={props.onMembershipChanged} />;
    case "audit":
      return <AuditLogPage workspace={workspace} />;
    case "transfer":
      return <ImportExportPage workspace={workspace} />;
    case "schedules":
      return <TestSchedulesPage workspace={workspace} />;
    case "webhooks":
      return <WebhooksPage workspace={workspace} />;
    case "bundles":
      return <BundlesPage workspace={workspace} />;
    default:
      return <NotFound />;
  }
}

function WorkspaceNav({ workspace, route }: { workspace: WorkspaceSummaryFragment; route: Route }) {
  const can = workspace.permissions;
  const items: Array<{ page: Exclude<WorkspacePage, "new-connection">; label: string; show: boolean }> = [
    { page: "connections", label: "Connections", show: true },
    { page: "tokens", label: "API tokens", show: can.manageApiTokens },
    { page: "members", label: "Members", show: true },
    { page: "audit", label: "Audit log", show: can.readAuditLog },
    { page: "transfer", label: "Import / Export", show: true },
    // Admin pages: hidden from those the API would refuse (it still checks every request).
    { page: "schedules", label: "Test schedules", show: can.manageHealthChecks },
    { page: "webhooks", label: "Webhooks", show: can.manageHealthChecks },
    { page: "bundles", label: "Bundles", show: can.exportSecrets || can.importBundles },
  ];
  const current = route.page === "new-connection" || route.page === "connection" || route.page === "edit-connection" ? "connections" : route.page;
  return (
    <nav class="workspace-nav" aria-label={`${workspace.name} workspace`}>
      <p class="workspace-name">
        {workspace.name}
        {workspace.myRole && <span class="role">{workspace.myRole}</span>}
      </p>
      <ul>
        {items
          .filter((item) => item.show)
          .map((item) => (
            <li key={item.page}>
              <a href={href({ page: item.page, slug: workspace.slug })} aria-current={current === item.page ? "page" : undefined}>
                {item.label}
              </a>
            </li>
          ))}
      </ul>
    </nav>
  );
}

function Frame({ header, nav, children }: { header?: preact.ComponentChildren; nav?: preact.ComponentChildren; children: preact.ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main" onClick={(e) => {
        e.preventDefault();
        document.getElementById("main")?.focus();
      }}>
        Skip to content
      </a>
      {header ?? (
        <header class="topbar">
          <span class="brand">Patchbay</span>
          <div class="account">
            <a class="button-link" href="/explorer">
              GraphQL explorer
            </a>
          </div>
        </header>
      )}
      <div class="layout">
        {nav}
        <main id="main" tabIndex={-1}>
          {children}
        </main>
      </div>
    </>
  );
}

function NotFound({ what = "There is nothing at this address." }: { what?: string }) {
  return (
    <section>
      <h1>Not found</h1>
      <p>{what}</p>
      <p>
        <a href="#/">Go to your workspaces</a>
      </p>
    </section>
  );
}
