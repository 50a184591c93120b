/**
 * API tokens: create with scopes, an optional expiry and an optional environment (the token
 * is shown once, with a copy button), list, revoke. Only for those who may manage tokens (ADMIN and OWNER).
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, Loading, When } from "../components/common";
import { EnvironmentField } from "../components/environment-field";
import { ShownOnce } from "../components/shown-once";
import { environmentProblem } from "../connection-form/override-model";
import { Dialog } from "../components/dialog";
import { FieldError } from "../connection-form/fields";
import { type ApiTokenFieldsFragment, ApiTokensDocument, CreateApiTokenDocument, RevokeApiTokenDocument, type TokenScope, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";

const SCOPES: Array<{ scope: TokenScope; help: string }> = [
  { scope: "READ", help: "read connections and test results" },
  { scope: "TEST", help: "test saved connections" },
  { scope: "RESOLVE", help: "read connections with their secrets, for code" },
  { scope: "WRITE", help: "create, change and delete connections" },
];

export function ApiTokensPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("API tokens");
  if (!workspace.permissions.manageApiTokens) {
    return (
      <section>
        <h1 ref={heading} tabIndex={-1}>
          API tokens
        </h1>
        <Alert>Only workspace admins and owners manage API tokens.</Alert>
      </section>
    );
  }
  return <Tokens workspace={workspace} heading={heading} />;
}

function Tokens({ workspace, heading }: { workspace: WorkspaceSummaryFragment; heading: ReturnType<typeof usePageHeading> }) {
  const query = useQuery(ApiTokensDocument, { slug: workspace.slug });
  const tokens = query.data?.workspace?.apiTokens;
  const [name, setName] = useState("");
  const [scopes, setScopes] = useState<TokenScope[]>(["READ"]);
  const [expires, setExpires] = useState("");
  const [environment, setEnvironment] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, setCreated] = useState<{ token: string; name: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [revoking, setRevoking] = useState<ApiTokenFieldsFragment | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  const create = async (event: Event) => {
    event.preventDefault();
    const found: Record<string, string> = {};
    if (!name.trim()) found.name = "Give the token a name, e.g. what will use it.";
    if (scopes.length === 0) found.scopes = "Choose at least one scope.";
    const bound = environment.trim();
    const problem = bound ? environmentProblem(bound) : null;
    if (problem) found["token-environment"] = problem;
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    setCreated(null);
    try {
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : null;
      const { createApiToken } = await request(CreateApiTokenDocument, { workspaceId: workspace.id, name: name.trim(), scopes, expiresAt, environment: bound || null });
      setCreated({ token: createApiToken.token, name: createApiToken.apiToken.name });
      setName("");
      setEnvironment("");
      query.reload();
    } catch (error) {
      const failure = toApiError(error);
      const field = failure.field === "expiresAt" ? "expires" : failure.field === "environment" ? "token-environment" : (failure.field ?? "form");
      setErrors({ [field]: failure.message });
    } finally {
      setBusy(false);
    }
  };

  const revoke = async () => {
    if (!revoking) return;
    try {
      await request(RevokeApiTokenDocument, { id: revoking.id });
      setStatus(`Revoked ${revoking.name}.`);
      query.reload();
    } catch (error) {
      setStatus(`Revoking ${revoking.name} failed: ${toApiError(error).message}`);
    }
    setRevoking(null);
  };

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        API tokens
      </h1>
      <p>Tokens let code and pipelines use this workspace's connections. Each token only does what its scopes allow.</p>
      <form class="card" onSubmit={create} noValidate>
        <h2>Create a token</h2>
        {errors.form && <Alert>{errors.form}</Alert>}
        <div class="field">
          <label for="token-name">Token name</label>
          <input id="token-name" value={name} autocomplete="off" aria-invalid={errors.name ? true : undefined} aria-describedby={errors.name ? "field-name-error" : undefined} onInput={(e) => setName(e.currentTarget.value)} />
          <FieldError name="name" error={errors.name} />
        </div>
        <fieldset class="field" aria-describedby={errors.scopes ? "field-scopes-error" : undefined}>
          <legend>Scopes</legend>
          {SCOPES.map(({ scope, help }) => (
            <div class="field-checkbox" key={scope}>
              <input
                type="checkbox"
                id={`scope-${scope}`}
                checked={scopes.includes(scope)}
                onChange={(e) => setScopes(e.currentTarget.checked ? [...scopes, scope] : scopes.filter((s) => s !== scope))}
              />
              <label for={`scope-${scope}`}>
                {scope} <span class="muted">({help})</span>
              </label>
            </div>
          ))}
          <FieldError name="scopes" error={errors.scopes} />
        </fieldset>
        <div class="field">
          <label for="token-expires">Expires on (optional)</label>
          <input id="token-expires" type="date" value={expires} aria-describedby={errors.expires ? "field-expires-error" : undefined} onInput={(e) => setExpires(e.currentTarget.value)} />
          <FieldError name="expires" error={errors.expires} />
        </div>
        <EnvironmentField
          id="token-environment"
          label="Environment (optional)"
          value={environment}
          known={query.data?.workspace?.environments ?? []}
          help="A token bound to an environment resolves that environment's values, and may not name another."
          error={errors["token-environment"]}
          onInput={setEnvironment}
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            {busy ? "Creating…" : "Create token"}
          </button>
        </div>
      </form>
      {created && (
        <ShownOnce id="new-token" title={`Your new token ${created.name}`} label="New token" value={created.token} copyLabel="Copy token" onDone={() => setCreated(null)}>
          <p>
            <strong>Copy it now: it is shown only once.</strong> Patchbay keeps only a hash of it.
          </p>
        </ShownOnce>
      )}
      <p role="status" class="status-line">
        {status}
      </p>
      <h2>Tokens</h2>
      {query.error && <Alert>{query.error.message}</Alert>}
      {!tokens && !query.error && <Loading what="tokens" />}
      {tokens && tokens.length === 0 && <p>No tokens yet.</p>}
      {tokens && tokens.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Starts with</th>
                <th scope="col">Scopes</th>
                <th scope="col">Environment</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">Last used</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {tokens.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.name}</th>
                  <td>
                    <code>{t.prefix}…</code>
                  </td>
                  <td>{t.scopes.join(", ")}</td>
                  <td>{t.environment ?? <span class="muted">any</span>}</td>
                  <td>
                    <When at={t.createdAt} />
                  </td>
                  <td>
                    <When at={t.expiresAt} empty="never" />
                  </td>
                  <td>
                    <When at={t.lastUsedAt} />
                  </td>
                  <td>
                    {t.revokedAt ? (
                      <span class="badge badge-fail">revoked</span>
                    ) : (
                      <button type="button" class="button-danger" aria-label={`Revoke ${t.name}`} onClick={() => setRevoking(t)}>
                        Revoke
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Dialog title={revoking ? `Revoke ${revoking.name}?` : "Revoke"} open={revoking !== null} onClose={() => setRevoking(null)}>
        <p>Anything using this token stops working at once.</p>
        <div class="actions">
          <button type="button" class="button-danger" onClick={revoke}>
            Revoke
          </button>
          <button type="button" class="button-secondary" onClick={() => setRevoking(null)}>
            Cancel
          </button>
        </div>
      </Dialog>
    </section>
  );
}
