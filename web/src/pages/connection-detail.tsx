/**
 * One connection: its settings (secrets as set / not set), Test, Edit and Delete for those
 * allowed, its health and environments (connection-environments.tsx), its test history, who resolved it in the last 30 days, and snippets for using it
 * by name from code.
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, CopyButton, hintFor, Loading, StatusBadge, TestOutcome, When } from "../components/common";
import { DeleteConnectionDialog } from "../components/delete-dialog";
import { firstSecretLabel, isExtra, type TypeSpec } from "../connection-form/model";
import { ConnectionDocument, type ConnectionQuery, ConnectionUsageDocument, TestConnectionDocument, type TestResultFieldsFragment, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { href, navigate } from "../router";
import { snippetsFor } from "../snippets";
import { PageError } from "./connection-editor";
import { ConnectionEnvironments } from "./connection-environments";

export function ConnectionDetailPage({ workspace, types, name }: { workspace: WorkspaceSummaryFragment; types: TypeSpec[]; name: string }) {
  const heading = usePageHeading(name);
  const query = useQuery(ConnectionDocument, { slug: workspace.slug, name });
  const connection = query.data?.workspace?.connection;
  const [result, setResult] = useState<TestResultFieldsFragment | null>(null);
  const [testError, setTestError] = useState<string | null>(null);
  const [testing, setTesting] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const can = workspace.permissions;

  if (query.error) return <PageError title={name} error={query.error} />;
  if (query.data && !connection) return <PageError title={name} message={`There is no connection named ${name} in this workspace.`} />;
  if (!connection) return <Loading what="the connection" />;
  const type = types.find((t) => t.id === connection.type);

  const test = async () => {
    setTesting(true);
    setTestError(null);
    setResult(null);
    try {
      setResult((await request(TestConnectionDocument, { id: connection.id })).testConnection);
      query.reload();
    } catch (error) {
      setTestError(toApiError(error).message);
    } finally {
      setTesting(false);
    }
  };

  return (
    <section>
      <div class="page-header">
        <h1 ref={heading} tabIndex={-1}>
          {connection.name}
        </h1>
        <div class="actions">
          {can.testConnections && type?.testable !== false && (
            <button type="button" class="button-secondary" onClick={test} disabled={testing}>
              {testing ? "Testing…" : "Test"}
            </button>
          )}
          {can.writeConnections && (
            <a class="button-link" href={href({ page: "edit-connection", slug: workspace.slug, name: connection.name })}>
              Edit
            </a>
          )}
          {can.writeConnections && (
            <button type="button" class="button-danger" onClick={() => setDeleting(true)}>
              Delete
            </button>
          )}
        </div>
      </div>
      {connection.description && <p>{connection.description}</p>}
      <div role="status" aria-live="polite">
        {result && <TestOutcome result={result} hint={hintFor(result, firstSecretLabel(type))} />}
      </div>
      {testError && <Alert>{testError}</Alert>}
      <Settings connection={connection} type={type} />
      <ConnectionEnvironments workspace={workspace} connection={connection} type={type} onChanged={query.reload} />
      <h2>Test history</h2>
      {connection.testResults.length === 0 ? (
        <p class="muted">Not tested yet.</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Status</th>
                <th scope="col">Code</th>
                <th scope="col">Message</th>
                <th scope="col">Latency</th>
              </tr>
            </thead>
            <tbody>
              {connection.testResults.map((t) => (
                <tr key={t.id}>
                  <td>
                    <When at={t.testedAt} />
                  </td>
                  <td>
                    <StatusBadge status={t.status} />
                  </td>
                  <td>{t.errorCode ? <code>{t.errorCode}</code> : <span class="muted">none</span>}</td>
                  <td class="message">
                    {t.message}
                    {t.serverVersion && <span class="muted"> ({t.serverVersion})</span>}
                  </td>
                  <td>{t.latencyMs} ms</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Usage slug={workspace.slug} name={connection.name} />
      <h2>Use it from code</h2>
      <p>Everything below finds the connection by its name; give each an API token with the RESOLVE scope (API tokens page).</p>
      {snippetsFor(connection, location.origin, workspace.slug, connection.overrides.map((o) => o.environment)).map((snippet) => (
        <div class="snippet" key={snippet.id}>
          <h3 id={`snippet-${snippet.id}`}>{snippet.title}</h3>
          <pre aria-labelledby={`snippet-${snippet.id}`} tabIndex={0}>
            <code>{snippet.code}</code>
          </pre>
          <CopyButton text={snippet.code} label={`Copy ${snippet.title} snippet`} />
        </div>
      ))}
      <DeleteConnectionDialog
        connection={deleting ? connection : null}
        canForce={can.writeConnections}
        onClose={() => setDeleting(false)}
        onDeleted={() => navigate({ page: "connections", slug: workspace.slug })}
      />
    </section>
  );
}

type ConnectionDetail = NonNullable<NonNullable<ConnectionQuery["workspace"]>["connection"]>;

function Settings({ connection, type }: { connection: ConnectionDetail; type: TypeSpec | undefined }) {
  const extra = (connection.extra ?? {}) as Record<string, unknown>;
  const rows: Array<[string, string]> = [["Type", type?.label ?? connection.type]];
  for (const field of type?.fields ?? []) {
    let value: string;
    if (field.secret) value = connection.secretFields.includes(field.name) ? "set" : "not set";
    else {
      const raw = isExtra(field.name) ? extra[field.name.slice(6)] : (connection as Record<string, unknown>)[field.name];
      value = raw === null || raw === undefined || raw === "" ? "" : typeof raw === "object" ? JSON.stringify(raw) : String(raw);
    }
    rows.push([field.label, value]);
  }
  rows.push(["Version", String(connection.version)]);
  return (
    <dl class="settings">
      {rows.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value === "" ? <span class="muted">not set</span> : value}</dd>
        </div>
      ))}
      <div>
        <dt>Last used</dt>
        <dd>
          <When at={connection.lastUsedAt} />
        </dd>
      </div>
    </dl>
  );
}

function Usage({ slug, name }: { slug: string; name: string }) {
  const query = useQuery(ConnectionUsageDocument, { slug, name });
  const usage = query.data?.workspace?.connection?.usage;
  return (
    <>
      <h2>Usage</h2>
      <p class="muted">Who resolved this connection in the last 30 days.</p>
      {query.error && <Alert>{query.error.message}</Alert>}
      {usage && usage.length === 0 && <p>Nobody resolved it in the last 30 days.</p>}
      {usage && usage.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Who</th>
                <th scope="col">Kind</th>
                <th scope="col">Resolves</th>
                <th scope="col">Last</th>
              </tr>
            </thead>
            <tbody>
              {usage.map((u) => (
                <tr key={`${u.actorKind}:${u.actorId}`}>
                  <td>{u.actorName}</td>
                  <td>{u.actorKind === "API_TOKEN" ? "API token" : "Person"}</td>
                  <td>{u.count}</td>
                  <td>
                    <When at={u.lastUsedAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
