/**
 * Import / Export in Airflow's formats. Export: JSON, YAML, .env or a JupySQL ini, as stubs
 * without secrets unless an admin asks for them. Import: always a dry run first, shown as a
 * table with a line per conn_id; "Apply" then writes exactly that (all or nothing). Both take
 * an environment: an export of one is a plain Airflow file of what that environment sees; an
 * import into one becomes the overrides of existing connections.
 */
import { useState } from "preact/hooks";
import { request } from "../api/client";
import { Alert, CopyButton } from "../components/common";
import {
  type ExportFormat,
  ExportConnectionsDocument,
  type ImportConnectionsMutation,
  ImportConnectionsDocument,
  type ImportFormat,
  type OnConflict,
  WorkspaceEnvironmentsDocument,
  type WorkspaceSummaryFragment,
} from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { EnvironmentField } from "../components/environment-field";
import { environmentProblem } from "../connection-form/override-model";

const EXPORT_FORMATS: Array<{ id: ExportFormat; label: string; file: string }> = [
  { id: "AIRFLOW_JSON", label: "Airflow JSON", file: "connections.json" },
  { id: "AIRFLOW_YAML", label: "Airflow YAML", file: "connections.yaml" },
  { id: "AIRFLOW_ENV", label: "Airflow .env (URIs)", file: "connections.env" },
  { id: "JUPYSQL_INI", label: "JupySQL ini", file: "connections.ini" },
];
const IMPORT_FORMATS: Array<{ id: ImportFormat; label: string }> = EXPORT_FORMATS.filter((f) => f.id !== "JUPYSQL_INI") as never;

type Report = ImportConnectionsMutation["importConnections"];

export function ImportExportPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("Import / Export");
  const environments = useQuery(WorkspaceEnvironmentsDocument, { slug: workspace.slug }).data?.workspace?.environments ?? [];
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Import / Export
      </h1>
      <Export workspace={workspace} environments={environments} />
      {workspace.permissions.writeConnections && <Import workspace={workspace} environments={environments} />}
    </section>
  );
}

function Export({ workspace, environments }: { workspace: WorkspaceSummaryFragment; environments: string[] }) {
  const [format, setFormat] = useState<ExportFormat>("AIRFLOW_JSON");
  const [environment, setEnvironment] = useState("");
  const [includeSecrets, setIncludeSecrets] = useState(false);
  const [content, setContent] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (event: Event) => {
    event.preventDefault();
    setError(null);
    try {
      const data = await request(ExportConnectionsDocument, {
        workspaceId: workspace.id,
        format,
        includeSecrets: includeSecrets && workspace.permissions.exportSecrets,
        environment: environment || null,
      });
      setContent(data.exportConnections);
    } catch (caught) {
      setError(toApiError(caught).message);
    }
  };
  const download = () => {
    if (content === null) return;
    const url = URL.createObjectURL(new Blob([content], { type: "text/plain" }));
    const link = document.createElement("a");
    link.href = url;
    link.download = EXPORT_FORMATS.find((f) => f.id === format)!.file;
    link.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };
  return (
    <form class="card" onSubmit={run}>
      <h2>Export</h2>
      <div class="inline-fields">
        <div class="field">
          <label for="export-format">Export format</label>
          <select id="export-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as ExportFormat)}>
            {EXPORT_FORMATS.map((f) => (
              <option key={f.id} value={f.id}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
        {environments.length > 0 && (
          <div class="field">
            <label for="export-environment">Values of</label>
            <select id="export-environment" value={environment} onChange={(e) => setEnvironment(e.currentTarget.value)}>
              <option value="">The connections themselves</option>
              {environments.map((name) => (
                <option key={name} value={name}>
                  {name}
                </option>
              ))}
            </select>
          </div>
        )}
        {workspace.permissions.exportSecrets && (
          <div class="field field-checkbox">
            <input id="export-secrets" type="checkbox" checked={includeSecrets} onChange={(e) => setIncludeSecrets(e.currentTarget.checked)} />
            <label for="export-secrets">Include secrets</label>
          </div>
        )}
        <button type="submit">Export</button>
      </div>
      <p class="muted">Without secrets the file holds stubs with no passwords: safe to keep in git.</p>
      {error && <Alert>{error}</Alert>}
      {content !== null && (
        <>
          <label for="export-content">Exported connections</label>
          <textarea id="export-content" readOnly rows={10} spellcheck={false} value={content} />
          <div class="actions">
            <CopyButton text={content} label="Copy export" />
            <button type="button" class="button-secondary" onClick={download}>
              Download
            </button>
          </div>
        </>
      )}
    </form>
  );
}

function Import({ workspace, environments }: { workspace: WorkspaceSummaryFragment; environments: string[] }) {
  const [environment, setEnvironment] = useState("");
  const [environmentError, setEnvironmentError] = useState<string | undefined>(undefined);
  const [format, setFormat] = useState<ImportFormat>("AIRFLOW_JSON");
  const [onConflict, setOnConflict] = useState<OnConflict>("FAIL");
  const [generic, setGeneric] = useState(false);
  const [content, setContent] = useState("");
  const [report, setReport] = useState<Report | null>(null);
  const [dryRunKey, setDryRunKey] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const key = JSON.stringify([format, onConflict, generic, content, environment.trim()]);

  const run = async (dryRun: boolean) => {
    const target = environment.trim();
    const problem = target ? environmentProblem(target) : null;
    setEnvironmentError(problem ?? undefined);
    if (problem) return;
    setBusy(true);
    setError(null);
    try {
      const { importConnections } = await request(ImportConnectionsDocument, {
        workspaceId: workspace.id,
        format,
        content,
        onConflict,
        dryRun,
        unknownTypesAsGeneric: generic,
        environment: target || null,
      });
      setReport(importConnections);
      setDryRunKey(dryRun ? key : null);
    } catch (caught) {
      const failure = toApiError(caught);
      if (failure.field === "environment") setEnvironmentError(`${failure.message} (${failure.code})`);
      else setError(`${failure.message} (${failure.code}${failure.field ? `, field ${failure.field}` : ""})`);
      setReport(null);
    } finally {
      setBusy(false);
    }
  };
  const readFile = async (file: File | undefined) => {
    if (!file) return;
    setContent(await file.text());
    const name = file.name.toLowerCase();
    if (name.endsWith(".yaml") || name.endsWith(".yml")) setFormat("AIRFLOW_YAML");
    else if (name.endsWith(".env")) setFormat("AIRFLOW_ENV");
    else if (name.endsWith(".json")) setFormat("AIRFLOW_JSON");
  };
  const errors = report?.lines.some((l) => l.outcome === "ERROR") ?? false;
  const canApply = report !== null && !report.applied && dryRunKey === key && !errors;

  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        void run(true);
      }}
    >
      <h2>Import</h2>
      <div class="inline-fields">
        <div class="field">
          <label for="import-format">Import format</label>
          <select id="import-format" value={format} onChange={(e) => setFormat(e.currentTarget.value as ImportFormat)}>
            {IMPORT_FORMATS.map((f) => (
              <option key={f.id} value={f.id}>
                {f.label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="import-conflict">When a name exists</label>
          <select id="import-conflict" value={onConflict} onChange={(e) => setOnConflict(e.currentTarget.value as OnConflict)}>
            <option value="FAIL">Fail</option>
            <option value="SKIP">Skip it</option>
            <option value="OVERWRITE">Overwrite it</option>
          </select>
        </div>
        <div class="field field-checkbox">
          <input id="import-generic" type="checkbox" checked={generic} onChange={(e) => setGeneric(e.currentTarget.checked)} />
          <label for="import-generic">Import unknown types as generic</label>
        </div>
      </div>
      <EnvironmentField
        id="import-environment"
        label="Environment (optional)"
        value={environment}
        known={environments}
        help="Import the file as that environment's values of connections this workspace has: what differs from a connection's own values becomes its override."
        error={environmentError}
        onInput={setEnvironment}
      />
      <div class="field">
        <label for="import-file">File</label>
        <input id="import-file" type="file" accept=".json,.yaml,.yml,.env,text/plain" onChange={(e) => void readFile(e.currentTarget.files?.[0])} />
      </div>
      <div class="field">
        <label for="import-content">Connections to import</label>
        <textarea id="import-content" rows={10} spellcheck={false} value={content} onInput={(e) => setContent(e.currentTarget.value)} />
      </div>
      <div class="actions">
        <button type="submit" class="button-secondary" disabled={busy || !content.trim()}>
          Dry run
        </button>
        <button type="button" disabled={busy || !canApply} onClick={() => void run(false)}>
          Apply
        </button>
      </div>
      <p class="muted">Apply becomes available after a dry run of exactly this input with no errors. Nothing is written when any line fails.</p>
      {error && <Alert>{error}</Alert>}
      <div role="status" aria-live="polite">
        {report && (
          <>
            <p>
              {report.applied ? "Imported: " : dryRunKey === key ? "Dry run, nothing written yet: " : "Nothing was written: "}
              {summarise(report)}
            </p>
            <div class="table-wrap">
              <table>
                <caption class="visually-hidden">{report.applied ? "Import result" : "Dry run result"}, a line per connection</caption>
                <thead>
                  <tr>
                    <th scope="col">Connection</th>
                    <th scope="col">Outcome</th>
                    <th scope="col">Message</th>
                  </tr>
                </thead>
                <tbody>
                  {report.lines.map((line, index) => (
                    <tr key={`${index}:${line.name}`}>
                      <th scope="row">{line.name}</th>
                      <td>
                        <span class={`badge ${line.outcome === "ERROR" ? "badge-fail" : line.outcome === "SKIPPED" || line.outcome === "UNCHANGED" ? "badge-neutral" : "badge-ok"}`}>{line.outcome}</span>
                      </td>
                      <td>{line.message ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
      </div>
    </form>
  );
}

function summarise(report: Report): string {
  const counts = new Map<string, number>();
  for (const line of report.lines) counts.set(line.outcome, (counts.get(line.outcome) ?? 0) + 1);
  return [...counts].map(([outcome, n]) => `${n} ${outcome.toLowerCase()}`).join(", ") || "no connections found";
}
