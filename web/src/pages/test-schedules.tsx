/**
 * Test schedules (ADMIN and OWNER): re-test one connection (its own values, or one
 * environment's), or every connection (and each environment with an override), every N
 * minutes; list them with their next run and whether they run (a schedule pauses when the
 * admin who set it is demoted or removed); remove one. Setting a schedule that exists changes
 * its interval and resumes it, as the API does.
 */
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, ErrorText, Loading, When } from "../components/common";
import { Dialog } from "../components/dialog";
import { FieldError } from "../connection-form/fields";
import { RemoveTestScheduleDocument, SetTestScheduleDocument, type TestScheduleFieldsFragment, TestSchedulesDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { AdminOnly } from "./admin-only";

const ALL = "";

export function TestSchedulesPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("Test schedules");
  if (!workspace.permissions.manageHealthChecks) return <AdminOnly title="Test schedules" heading={heading} what="set test schedules" />;
  return <Schedules workspace={workspace} heading={heading} />;
}

function Schedules({ workspace, heading }: { workspace: WorkspaceSummaryFragment; heading: ReturnType<typeof usePageHeading> }) {
  const query = useQuery(TestSchedulesDocument, { slug: workspace.slug });
  const data = query.data?.workspace;
  const [connectionId, setConnectionId] = useState(ALL);
  const [environment, setEnvironment] = useState("");
  const [minutes, setMinutes] = useState("60");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const [removing, setRemoving] = useState<TestScheduleFieldsFragment | null>(null);
  const connectionName = (id: string | null) => (id === null ? "Every connection" : (data?.connections.nodes.find((c) => c.id === id)?.name ?? id));
  const nameOf = (s: { connectionId: string | null; environment: string | null }) => connectionName(s.connectionId) + (s.environment ? ` in ${s.environment}` : "");

  const save = async (event: Event) => {
    event.preventDefault();
    setFailure(null);
    const text = minutes.trim();
    const every = Number(text);
    if (!/^\d+$/.test(text) || every < 1 || every > 1440) return setErrors({ everyMinutes: "Every 1 to 1440 minutes (a day), in whole minutes." });
    setErrors({});
    setBusy(true);
    try {
      const { setTestSchedule } = await request(SetTestScheduleDocument, {
        workspaceId: workspace.id,
        everyMinutes: every,
        connectionId: connectionId || null,
        environment: (connectionId && environment) || null,
      });
      setStatus(`${nameOf(setTestSchedule)} is tested every ${setTestSchedule.everyMinutes} minutes; the first run is due now.`);
      query.reload();
    } catch (caught) {
      const error = toApiError(caught);
      if (error.field === "everyMinutes" || error.field === "connectionId" || error.field === "environment") setErrors({ [error.field]: `${error.message} (${error.code})` });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!removing) return;
    try {
      await request(RemoveTestScheduleDocument, { workspaceId: workspace.id, connectionId: removing.connectionId, environment: removing.environment });
      setStatus(`Removed the schedule of ${nameOf(removing)}.`);
      query.reload();
    } catch (caught) {
      setFailure(toApiError(caught));
    }
    setRemoving(null);
  };

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Test schedules
      </h1>
      <p>
        Patchbay re-tests connections on a schedule and keeps the results in their history, as if the admin who set the schedule had pressed Test.
        A change of status calls the workspace's webhooks.
      </p>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!data && !query.error && <Loading what="test schedules" />}
      {data && (
        <form class="card" onSubmit={save} noValidate>
          <h2>Set a schedule</h2>
          {failure && (
            <Alert>
              <ErrorText error={failure} />
            </Alert>
          )}
          <div class="inline-fields">
            <div class="field">
              <label for="schedule-connection">Connection</label>
              <select id="schedule-connection" value={connectionId} aria-describedby={errors.connectionId ? "field-connectionId-error" : undefined} onChange={(e) => setConnectionId(e.currentTarget.value)}>
                <option value={ALL}>Every connection</option>
                {data.connections.nodes.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
              <FieldError name="connectionId" error={errors.connectionId} />
            </div>
            {connectionId !== ALL && data.environments.length > 0 && (
              <div class="field">
                <label for="schedule-environment">Environment</label>
                <select
                  id="schedule-environment"
                  value={environment}
                  aria-describedby={errors.environment ? "field-environment-error" : undefined}
                  onChange={(e) => setEnvironment(e.currentTarget.value)}
                >
                  <option value="">The connection's own values</option>
                  {data.environments.map((name) => (
                    <option key={name} value={name}>
                      {name}
                    </option>
                  ))}
                </select>
                <FieldError name="environment" error={errors.environment} />
              </div>
            )}
            <div class="field">
              <label for="schedule-minutes">Every (minutes)</label>
              <input
                id="schedule-minutes"
                type="text"
                inputMode="numeric"
                value={minutes}
                aria-invalid={errors.everyMinutes ? true : undefined}
                aria-describedby={errors.everyMinutes ? "field-everyMinutes-error" : undefined}
                onInput={(e) => setMinutes(e.currentTarget.value)}
              />
              <FieldError name="everyMinutes" error={errors.everyMinutes} />
            </div>
            <button type="submit" disabled={busy}>
              {busy ? "Saving…" : "Set schedule"}
            </button>
          </div>
          <p class="help">Every connection also re-tests each environment that has an override of it; one environment of one connection needs an override there.</p>
          {data.connections.totalCount > data.connections.nodes.length && (
            <p class="help">The list shows the first {data.connections.nodes.length} connections of {data.connections.totalCount}.</p>
          )}
        </form>
      )}
      <p role="status" class="status-line">
        {status}
      </p>
      <h2>Schedules</h2>
      {data && data.testSchedules.length === 0 && <p>No schedules: connections are tested only when someone presses Test.</p>}
      {data && data.testSchedules.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Every</th>
                <th scope="col">Next run</th>
                <th scope="col">Status</th>
                <th scope="col">Set</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.testSchedules.map((s) => (
                <tr key={s.id}>
                  <th scope="row">{nameOf(s)}</th>
                  <td>{s.everyMinutes} min</td>
                  <td>
                    <When at={s.nextRunAt} />
                  </td>
                  <td>
                    {s.pausedAt ? (
                      <>
                        <span class="badge badge-fail">paused</span> <When at={s.pausedAt} />
                        {s.pausedReason && <span class="row-description">{s.pausedReason}</span>}
                        <span class="row-description">Set it again to resume it on your behalf.</span>
                      </>
                    ) : (
                      <span class="badge badge-ok">runs</span>
                    )}
                  </td>
                  <td>
                    <When at={s.createdAt} />
                  </td>
                  <td>
                    <button type="button" class="button-danger" aria-label={`Remove the schedule of ${nameOf(s)}`} onClick={() => setRemoving(s)}>
                      Remove
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title={removing ? `Remove the schedule of ${nameOf(removing)}?` : "Remove schedule"} open={removing !== null} onClose={() => setRemoving(null)}>
        <p>Tests already stored stay in the history.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={remove}>
            Remove
          </button>
          <button type="button" class="button-secondary" onClick={() => setRemoving(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
