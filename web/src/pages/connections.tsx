/**
 * The Connections table: name, type, host, last test (status, when, code), last used; search,
 * a type filter and paging; per row Test, Edit and Delete for those allowed. With an
 * environment chosen, host, last test and Test are that environment's (its override where the
 * connection has one, the connection's own values otherwise).
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, Loading, Pager, StatusBadge, When } from "../components/common";
import { DeleteConnectionDialog } from "../components/delete-dialog";
import type { TypeSpec } from "../connection-form/model";
import { type ConnectionRowFragment, ConnectionsDocument, type ConnectionsQuery, TestConnectionDocument, TestConnectionInDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, useDebounced, usePageHeading, useQuery } from "../hooks";
import { href } from "../router";

const PAGE_SIZE = 25;

export function ConnectionsPage({ workspace, types, notice }: { workspace: WorkspaceSummaryFragment; types: TypeSpec[]; notice: string | null }) {
  const heading = usePageHeading("Connections");
  const [search, setSearch] = useState("");
  const [type, setType] = useState("");
  const [environment, setEnvironment] = useState("");
  // Cursors of the pages before this one, so "Previous page" can go back.
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const debouncedSearch = useDebounced(search, 250);
  const after = cursors[cursors.length - 1];
  const query = useQuery(ConnectionsDocument, {
    slug: workspace.slug,
    first: PAGE_SIZE,
    after,
    type: type || null,
    search: debouncedSearch.trim() || null,
    withOverrides: environment !== "",
  });
  const environments = query.data?.workspace?.environments ?? [];
  const page = query.data?.workspace?.connections;
  const [status, setStatus] = useState<string | null>(notice);
  const [deleting, setDeleting] = useState<ConnectionRowFragment | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const can = workspace.permissions;
  const typeLabel = (id: string) => types.find((t) => t.id === id)?.label ?? id;
  const firstPage = () => setCursors([null]);

  const test = async (connection: ConnectionRowFragment) => {
    setTesting(connection.id);
    const where = environment ? ` in ${environment}` : "";
    setStatus(`Testing ${connection.name}${where}…`);
    try {
      const result = environment
        ? (await request(TestConnectionInDocument, { id: connection.id, environment })).testConnectionIn
        : (await request(TestConnectionDocument, { id: connection.id })).testConnection;
      setStatus(
        `Tested ${connection.name}${where}: ${result.status}${result.errorCode ? ` ${result.errorCode}` : ""}. ${result.message}` +
          (result.serverVersion ? ` Server version: ${result.serverVersion}.` : ""),
      );
      query.reload();
    } catch (error) {
      const failure = toApiError(error);
      setStatus(`Testing ${connection.name}${where} failed: ${failure.message} (${failure.code}).`);
    } finally {
      setTesting(null);
    }
  };

  return (
    <section>
      <div class="page-header">
        <h1 ref={heading} tabIndex={-1}>
          Connections
        </h1>
        {can.writeConnections && (
          <a class="button" href={href({ page: "new-connection", slug: workspace.slug })}>
            New connection
          </a>
        )}
      </div>
      <div class="filters" role="search">
        <div class="field">
          <label for="search-connections">Search connections</label>
          <input
            id="search-connections"
            type="search"
            value={search}
            placeholder="Name, host or description"
            onInput={(e) => {
              setSearch(e.currentTarget.value);
              firstPage();
            }}
          />
        </div>
        <div class="field">
          <label for="type-filter">Type</label>
          <select
            id="type-filter"
            value={type}
            onChange={(e) => {
              setType(e.currentTarget.value);
              firstPage();
            }}
          >
            <option value="">All types</option>
            {types.map((t) => (
              <option key={t.id} value={t.id}>
                {t.label}
              </option>
            ))}
          </select>
        </div>
        {(environments.length > 0 || environment) && (
          <div class="field">
            <label for="environment-filter">Environment</label>
            <select id="environment-filter" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value)}>
              <option value="">The connections' own values</option>
              {environments.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        )}
      </div>
      <p role="status" aria-live="polite" class="status-line" data-testid="connections-status">
        {status}
      </p>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!page && !query.error && <Loading what="connections" />}
      {page && page.nodes.length === 0 && (
        <p class="empty">
          {search || type ? "No connection matches." : "No connections yet."}
          {!search && !type && can.writeConnections && " Add one with New connection."}
        </p>
      )}
      {page && page.nodes.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">Connections in {workspace.name}</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Host</th>
                <th scope="col">Last test</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {page.nodes.map((c) => {
                const seen = inEnvironment(c, environment);
                return (
                <tr key={c.id}>
                  <th scope="row">
                    <a href={href({ page: "connection", slug: workspace.slug, name: c.name })}>{c.name}</a>
                    {c.description && <span class="row-description">{c.description}</span>}
                  </th>
                  <td>{typeLabel(c.type)}</td>
                  <td>
                    {seen.host ? (
                      <span class="host">
                        {seen.host}
                        {seen.port ? `:${seen.port}` : ""}
                      </span>
                    ) : (
                      <span class="muted">none</span>
                    )}
                  </td>
                  <td>
                    {seen.lastTest ? (
                      <span class="last-test">
                        <StatusBadge status={seen.lastTest.status} /> <When at={seen.lastTest.testedAt} />
                        {seen.lastTest.errorCode && <code class="code">{seen.lastTest.errorCode}</code>}
                      </span>
                    ) : (
                      <span class="muted">not tested</span>
                    )}
                    {environment && !seen.overridden && <span class="row-description">no {environment} override: the connection's own</span>}
                  </td>
                  <td>
                    <When at={c.lastUsedAt} />
                  </td>
                  <td class="row-actions">
                    {can.testConnections && types.find((t) => t.id === c.type)?.testable !== false && (
                      <button type="button" class="button-secondary" aria-label={environment ? `Test ${c.name} in ${environment}` : `Test ${c.name}`} disabled={testing === c.id} onClick={() => test(c)}>
                        {testing === c.id ? "Testing…" : "Test"}
                      </button>
                    )}
                    {can.writeConnections && (
                      <a class="button-link" aria-label={`Edit ${c.name}`} href={href({ page: "edit-connection", slug: workspace.slug, name: c.name })}>
                        Edit
                      </a>
                    )}
                    {can.writeConnections && (
                      <button type="button" class="button-danger" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c)}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {page && (page.totalCount > PAGE_SIZE || cursors.length > 1) && (
        <Pager
          what="connections"
          from={(cursors.length - 1) * PAGE_SIZE}
          count={page.nodes.length}
          total={page.totalCount}
          hasPrevious={cursors.length > 1}
          hasNext={page.pageInfo.hasNextPage}
          onPrevious={() => setCursors(cursors.slice(0, -1))}
          onNext={() => setCursors([...cursors, page.pageInfo.endCursor])}
        />
      )}
      <DeleteConnectionDialog
        connection={deleting}
        canForce={can.writeConnections}
        onClose={() => setDeleting(null)}
        onDeleted={(name) => {
          setDeleting(null);
          setStatus(`Deleted ${name}.`);
          query.reload();
        }}
      />
    </section>
  );
}

type Row = NonNullable<ConnectionsQuery["workspace"]>["connections"]["nodes"][number];

/** What an environment sees of a connection in this table: its override's host and last test, or the connection's. */
function inEnvironment(c: Row, environment: string) {
  const override = environment ? c.overrides?.find((o) => o.environment === environment) : undefined;
  if (!override) return { host: c.host, port: c.port, lastTest: c.lastTest, overridden: false };
  return { host: override.host ?? c.host, port: override.port ?? c.port, lastTest: override.lastTest, overridden: true };
}
