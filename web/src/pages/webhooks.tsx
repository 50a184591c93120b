/**
 * Webhooks (ADMIN and OWNER): create one for a URL (its signing secret is shown once, with a
 * copy button), list them with their recent deliveries and each attempt's outcome, delete one.
 */
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, ErrorText, Loading, StatusBadge, When } from "../components/common";
import { Dialog } from "../components/dialog";
import { ShownOnce } from "../components/shown-once";
import { FieldError } from "../connection-form/fields";
import { CreateWebhookDocument, DeleteWebhookDocument, type WebhookFieldsFragment, WebhooksDocument, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { AdminOnly } from "./admin-only";

const DELIVERIES_SHOWN = 10;

export function WebhooksPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("Webhooks");
  if (!workspace.permissions.manageHealthChecks) return <AdminOnly title="Webhooks" heading={heading} what="manage webhooks" />;
  return <Webhooks workspace={workspace} heading={heading} />;
}

function Webhooks({ workspace, heading }: { workspace: WorkspaceSummaryFragment; heading: ReturnType<typeof usePageHeading> }) {
  const query = useQuery(WebhooksDocument, { slug: workspace.slug, deliveries: DELIVERIES_SHOWN });
  const data = query.data?.workspace;
  const [url, setUrl] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ secret: string; url: string } | null>(null);
  const [deleting, setDeleting] = useState<WebhookFieldsFragment | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  // Names of the first 200 connections; beyond them (or once deleted) the id stands in.
  const nameOf = (id: string) => data?.connections.nodes.find((c) => c.id === id)?.name ?? `connection ${id}`;

  const create = async (event: Event) => {
    event.preventDefault();
    setFailure(null);
    setCreated(null);
    const typed = url.trim();
    if (!/^https?:\/\/\S+$/i.test(typed)) return setErrors({ url: "Enter an http:// or https:// URL." });
    setErrors({});
    setBusy(true);
    try {
      const { createWebhook } = await request(CreateWebhookDocument, { workspaceId: workspace.id, url: typed });
      setCreated({ secret: createWebhook.secret, url: createWebhook.webhook.url });
      setUrl("");
      query.reload();
    } catch (caught) {
      const error = toApiError(caught);
      if (error.field === "url") setErrors({ url: `${error.message} (${error.code})` });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const remove = async () => {
    if (!deleting) return;
    try {
      await request(DeleteWebhookDocument, { id: deleting.id });
      setStatus(`Deleted the webhook to ${deleting.url}.`);
      query.reload();
    } catch (caught) {
      setFailure(toApiError(caught));
    }
    setDeleting(null);
  };

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Webhooks
      </h1>
      <p>
        When a test (manual or scheduled) changes a connection's status, Patchbay POSTs it to each webhook, signed with the webhook's secret in{" "}
        <code>X-Patchbay-Signature</code> (HMAC-SHA256 of the body). No secret of a connection is ever sent.
      </p>
      <form class="card" onSubmit={create} noValidate>
        <h2>Add a webhook</h2>
        {failure && (
          <Alert>
            <ErrorText error={failure} />
          </Alert>
        )}
        <div class="inline-fields">
          <div class="field field-wide">
            <label for="webhook-url">URL</label>
            <input
              id="webhook-url"
              type="url"
              autocomplete="off"
              spellcheck={false}
              placeholder="https://alerts.example.com/patchbay"
              value={url}
              aria-invalid={errors.url ? true : undefined}
              aria-describedby={errors.url ? "field-url-error" : undefined}
              onInput={(e) => setUrl(e.currentTarget.value)}
            />
            <FieldError name="url" error={errors.url} />
          </div>
          <button type="submit" disabled={busy}>
            {busy ? "Adding…" : "Add webhook"}
          </button>
        </div>
      </form>
      {created && (
        <ShownOnce id="webhook-secret" title={`Signing secret for ${created.url}`} label="Signing secret" value={created.secret} copyLabel="Copy secret" onDone={() => setCreated(null)}>
          <p>
            <strong>Copy it now: it is shown only once.</strong> The receiver checks each delivery's signature with it.
          </p>
        </ShownOnce>
      )}
      <p role="status" class="status-line">
        {status}
      </p>
      <div class="page-header">
        <h2>Webhooks</h2>
        {data && data.webhooks.length > 0 && (
          <button type="button" class="button-secondary" disabled={query.loading} onClick={query.reload}>
            {query.loading ? "Refreshing…" : "Refresh deliveries"}
          </button>
        )}
      </div>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!data && !query.error && <Loading what="webhooks" />}
      {data && data.webhooks.length === 0 && <p>No webhooks yet.</p>}
      {data?.webhooks.map((hook) => (
        <div class="card webhook" key={hook.id} data-testid="webhook">
          <div class="page-header">
            <h3>
              <code>{hook.url}</code>
            </h3>
            <button type="button" class="button-danger" aria-label={`Delete the webhook to ${hook.url}`} onClick={() => setDeleting(hook)}>
              Delete
            </button>
          </div>
          <p class="muted">
            Added <When at={hook.createdAt} />
          </p>
          {hook.deliveries.length === 0 ? (
            <p class="muted">No deliveries yet.</p>
          ) : (
            <div class="table-wrap">
              <table>
                <caption>Last {DELIVERIES_SHOWN} deliveries to {hook.url}</caption>
                <thead>
                  <tr>
                    <th scope="col">When</th>
                    <th scope="col">Connection</th>
                    <th scope="col">Change</th>
                    <th scope="col">Attempt</th>
                    <th scope="col">Outcome</th>
                  </tr>
                </thead>
                <tbody>
                  {hook.deliveries.map((d) => (
                    <tr key={d.id}>
                      <td>
                        <When at={d.at} />
                      </td>
                      <td>
                        {nameOf(d.connectionId)}
                        {d.environment && <span class="muted"> in {d.environment}</span>}
                      </td>
                      <td>
                        <StatusBadge status={d.oldStatus} /> to <StatusBadge status={d.newStatus} />
                      </td>
                      <td>{d.attempt}</td>
                      <td>
                        <span class={`badge ${d.outcome === "DELIVERED" ? "badge-ok" : d.outcome === "SENDING" ? "badge-neutral" : "badge-fail"}`}>{d.outcome}</span>
                        {d.statusCode !== null && <span> HTTP {d.statusCode}</span>}
                        {d.error && <span class="message"> {d.error}</span>}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      ))}
      <Dialog title={deleting ? `Delete the webhook to ${deleting.url}?` : "Delete webhook"} open={deleting !== null} onClose={() => setDeleting(null)}>
        <p>Status changes are no longer sent there; its deliveries are deleted with it.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={remove}>
            Delete
          </button>
          <button type="button" class="button-secondary" onClick={() => setDeleting(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
