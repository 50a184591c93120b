/**
 * On a connection's page: its health over the last 20 tests, and its values per environment.
 * Each environment lists the fields its override replaces (secrets only as "set"), its own
 * last test, "Test in <environment>", and for writers Edit and Remove; environments of the
 * workspace without an override of this connection show that they use its own values.
 */
import { useRef, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, ErrorText, hintFor, Loading, StatusBadge, TestOutcome, When } from "../components/common";
import { Dialog } from "../components/dialog";
import { HealthSummary } from "../components/health-summary";
import { firstSecretLabel, type TypeSpec } from "../connection-form/model";
import {
  ConnectionEnvironmentsDocument,
  type ConnectionRowFragment,
  type OverrideFieldsFragment,
  RemoveConnectionOverrideDocument,
  TestConnectionInDocument,
  type TestResultFieldsFragment,
  type WorkspaceSummaryFragment,
} from "../gql/graphql";
import { toApiError, useQuery } from "../hooks";
import { OverrideEditor } from "./override-editor";

interface Props {
  workspace: WorkspaceSummaryFragment;
  connection: ConnectionRowFragment;
  type: TypeSpec | undefined;
  /** Something changed the connection (its version moves with every override). */
  onChanged(): void;
}

export function ConnectionEnvironments({ workspace, connection, type, onChanged }: Props) {
  const query = useQuery(ConnectionEnvironmentsDocument, { slug: workspace.slug, name: connection.name });
  const data = query.data?.workspace;
  const current = data?.connection;
  const can = workspace.permissions;
  const [editing, setEditing] = useState<{ environment: string | null } | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [testing, setTesting] = useState<string | null>(null);
  const [tested, setTested] = useState<{ environment: string; result: TestResultFieldsFragment } | null>(null);
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  // Keyboard users: when the override form closes, focus returns to the section's heading
  // (the control that opened it may be gone, e.g. a removed environment's Edit).
  const sectionHeading = useRef<HTMLHeadingElement>(null);
  const closeEditor = () => {
    setEditing(null);
    setTimeout(() => sectionHeading.current?.focus(), 0);
  };

  if (query.error) return <Alert>{query.error.message}</Alert>;
  if (!data || !current) return <Loading what="environments" />;
  const overrides = current.overrides;
  const withoutOverride = data.environments.filter((name) => !overrides.some((o) => o.environment === name));
  const testable = can.testConnections && type?.testable !== false;
  const changed = (message: string) => {
    setStatus(message);
    query.reload();
    onChanged();
  };

  const testIn = async (environment: string) => {
    setTesting(environment);
    setTested(null);
    setFailure(null);
    setStatus(`Testing in ${environment}…`);
    try {
      const { testConnectionIn } = await request(TestConnectionInDocument, { id: current.id, environment });
      setTested({ environment, result: testConnectionIn });
      setStatus(`Tested in ${environment}: ${testConnectionIn.status}${testConnectionIn.errorCode ? ` ${testConnectionIn.errorCode}` : ""}.`);
      query.reload();
    } catch (error) {
      setFailure(toApiError(error));
      setStatus(null);
    } finally {
      setTesting(null);
    }
  };

  const remove = async () => {
    const environment = removing;
    if (!environment) return;
    setFailure(null);
    try {
      await request(RemoveConnectionOverrideDocument, { id: current.id, environment, expectedVersion: current.version });
      changed(`Removed the ${environment} override: ${environment} uses the connection's values.`);
    } catch (error) {
      setFailure(toApiError(error));
    }
    setRemoving(null);
  };

  return (
    <>
      <HealthSummary health={current.health} />
      <div class="page-header">
        <h2 id="environments-heading" ref={sectionHeading} tabIndex={-1}>
          Environments
        </h2>
        {can.writeConnections && type && !editing && (
          <button type="button" class="button-secondary" onClick={() => (setStatus(null), setEditing({ environment: null }))}>
            Add override
          </button>
        )}
      </div>
      <p class="muted">
        An environment (dev, staging, prod …) can replace any of this connection's fields; resolving or testing in it uses those values and the
        connection's own for the rest.
      </p>
      <p role="status" aria-live="polite" class="status-line" data-testid="environments-status">
        {status}
      </p>
      {failure && (
        <Alert>
          <ErrorText error={failure} />
          {failure.code === "CONFLICT" && (
            <>
              {" "}
              <button type="button" class="button-secondary" onClick={() => (setFailure(null), query.reload(), onChanged())}>
                Reload
              </button>
            </>
          )}
        </Alert>
      )}
      {overrides.length === 0 && withoutOverride.length === 0 ? (
        <p>No environment replaces any of its values.</p>
      ) : (
        <div class="table-wrap">
          <table aria-labelledby="environments-heading">
            <thead>
              <tr>
                <th scope="col">Environment</th>
                <th scope="col">Replaces</th>
                <th scope="col">Last test in it</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {overrides.map((o) => (
                <tr key={o.environment} data-testid={`environment-${o.environment}`}>
                  <th scope="row">{o.environment}</th>
                  <td>
                    <Replaced override={o} type={type} />
                  </td>
                  <td>
                    <LastTest result={o.lastTest} />
                  </td>
                  <td class="row-actions">
                    {testable && (
                      <button type="button" class="button-secondary" disabled={testing !== null} onClick={() => testIn(o.environment)}>
                        {testing === o.environment ? "Testing…" : `Test in ${o.environment}`}
                      </button>
                    )}
                    {can.writeConnections && type && (
                      <button type="button" class="button-secondary" aria-label={`Edit the ${o.environment} override`} onClick={() => (setStatus(null), setEditing({ environment: o.environment }))}>
                        Edit
                      </button>
                    )}
                    {can.writeConnections && (
                      <button type="button" class="button-danger" aria-label={`Remove the ${o.environment} override`} onClick={() => setRemoving(o.environment)}>
                        Remove
                      </button>
                    )}
                  </td>
                </tr>
              ))}
              {withoutOverride.map((environment) => (
                <tr key={environment} data-testid={`environment-${environment}`}>
                  <th scope="row">{environment}</th>
                  <td class="muted">nothing: uses the connection's values</td>
                  <td class="muted">the connection's (not recorded)</td>
                  <td class="row-actions">
                    {testable && (
                      <button type="button" class="button-secondary" disabled={testing !== null} onClick={() => testIn(environment)}>
                        {testing === environment ? "Testing…" : `Test in ${environment}`}
                      </button>
                    )}
                    {can.writeConnections && type && (
                      <button type="button" class="button-secondary" aria-label={`Add a ${environment} override`} onClick={() => (setStatus(null), setEditing({ environment }))}>
                        Add override
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <div aria-live="polite">
        {tested && (
          <div data-testid="environment-test-outcome">
            <h3>Test in {tested.environment}</h3>
            <TestOutcome result={tested.result} hint={hintFor(tested.result, firstSecretLabel(type))} />
          </div>
        )}
      </div>
      {editing && type && (
        <OverrideEditor
          key={editing.environment ?? "new"}
          connection={connection}
          connectionId={current.id}
          version={current.version}
          type={type}
          environment={editing.environment}
          existing={overrides.find((o) => o.environment === editing.environment) ?? null}
          known={data.environments}
          onCancel={closeEditor}
          onReload={() => {
            closeEditor();
            query.reload();
            onChanged();
          }}
          onSaved={(environment) => {
            closeEditor();
            changed(`Saved the ${environment} override.`);
          }}
        />
      )}
      <Dialog title={removing ? `Remove the ${removing} override?` : "Remove override"} open={removing !== null} onClose={() => setRemoving(null)}>
        <p>{removing} will use the connection's own values again, secrets included. Its test history in this environment goes with it.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={remove}>
            Remove
          </button>
          <button type="button" class="button-secondary" onClick={() => setRemoving(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </>
  );
}

function LastTest({ result }: { result: TestResultFieldsFragment | null }) {
  if (!result) return <span class="muted">not tested</span>;
  return (
    <span class="last-test">
      <StatusBadge status={result.status} /> <When at={result.testedAt} />
      {result.errorCode && <code class="code">{result.errorCode}</code>}
    </span>
  );
}

/** The fields an override replaces, by their form labels; secrets only as "set". */
function Replaced({ override, type }: { override: OverrideFieldsFragment; type: TypeSpec | undefined }) {
  const extra = (override.extra ?? {}) as Record<string, unknown>;
  const items: Array<[string, string]> = [];
  const labelOf = (name: string) => type?.fields.find((f) => f.name === name)?.label ?? name;
  for (const name of ["host", "port", "schema", "login"] as const) {
    if (override[name] !== null && override[name] !== undefined) items.push([labelOf(name), String(override[name])]);
  }
  for (const [key, value] of Object.entries(extra)) items.push([labelOf(`extra.${key}`), typeof value === "object" ? JSON.stringify(value) : String(value)]);
  for (const name of override.secretFields) items.push([labelOf(name), "set"]);
  if (items.length === 0) return <span class="muted">nothing</span>;
  return (
    <ul class="replaced">
      {items.map(([label, value]) => (
        <li key={label}>
          {label}: <span class={value === "set" ? "secret-status is-set" : undefined}>{value}</span>
        </li>
      ))}
    </ul>
  );
}
