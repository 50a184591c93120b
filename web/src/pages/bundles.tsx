/**
 * Bundles (ADMIN and OWNER): every connection with its secrets and environments, encrypted
 * under a passphrase, to move a workspace to another Patchbay. Export: passphrase twice, then
 * download the file. Import: upload, passphrase, a dry run whose diff (a line per connection
 * with the fields that would change) is shown, then Apply writes exactly that, all or nothing.
 */
import { useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, ErrorText } from "../components/common";
import { FieldError } from "../connection-form/fields";
import { ExportBundleDocument, ImportBundleDocument, type ImportBundleMutation, type OnConflict, type WorkspaceSummaryFragment } from "../gql/graphql";
import { toApiError, usePageHeading } from "../hooks";
import { AdminOnly } from "./admin-only";

type Report = ImportBundleMutation["importBundle"];
/** As the server checks it (README: Moving between instances). */
const PASSPHRASE = { min: 12, max: 1024 };

function passphraseProblem(passphrase: string): string | null {
  if (passphrase.length < PASSPHRASE.min) return `At least ${PASSPHRASE.min} characters.`;
  if (passphrase.length > PASSPHRASE.max) return `At most ${PASSPHRASE.max} characters.`;
  return null;
}

export function BundlesPage({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const heading = usePageHeading("Bundles");
  const can = workspace.permissions;
  if (!can.exportSecrets && !can.importBundles) return <AdminOnly title="Bundles" heading={heading} what="export and import bundles" />;
  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Bundles
      </h1>
      <p>
        A bundle holds every connection of this workspace with its secrets, its environments and its version, encrypted under a passphrase you choose.
        Another Patchbay, whatever its master key, reads it with the passphrase. Keep the passphrase apart from the file.
      </p>
      {can.exportSecrets && <ExportBundle workspace={workspace} />}
      {can.importBundles && <ImportBundle workspace={workspace} />}
    </section>
  );
}

function ExportBundle({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const [passphrase, setPassphrase] = useState("");
  const [again, setAgain] = useState("");
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);

  const run = async (event: Event) => {
    event.preventDefault();
    setFailure(null);
    setDone(null);
    const found: Record<string, string> = {};
    const problem = passphraseProblem(passphrase);
    if (problem) found["export-passphrase"] = problem;
    else if (again !== passphrase) found["export-passphrase-again"] = "The two passphrases differ.";
    setErrors(found);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const { exportBundle } = await request(ExportBundleDocument, { workspaceId: workspace.id, passphrase });
      const file = `${workspace.slug}-${new Date().toISOString().slice(0, 10)}.patchbay-bundle`;
      const url = URL.createObjectURL(new Blob([exportBundle], { type: "application/octet-stream" }));
      const link = document.createElement("a");
      link.href = url;
      link.download = file;
      link.click();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      setDone(`Downloaded ${file} (${Math.ceil(exportBundle.length / 1024)} KB).`);
      setPassphrase("");
      setAgain("");
    } catch (caught) {
      const error = toApiError(caught);
      if (error.field === "passphrase") setErrors({ "export-passphrase": `${error.message} (${error.code})` });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="card" onSubmit={run} noValidate>
      <h2>Export a bundle</h2>
      {failure && (
        <Alert>
          <ErrorText error={failure} />
        </Alert>
      )}
      <div class="inline-fields">
        <PassphraseField id="export-passphrase" label="Passphrase" value={passphrase} error={errors["export-passphrase"]} onInput={setPassphrase} autocomplete="new-password" />
        <PassphraseField id="export-passphrase-again" label="Passphrase again" value={again} error={errors["export-passphrase-again"]} onInput={setAgain} autocomplete="new-password" />
        <button type="submit" disabled={busy}>
          {busy ? "Exporting…" : "Export and download"}
        </button>
      </div>
      <p class="help">{PASSPHRASE.min} to {PASSPHRASE.max} characters. Without it the bundle cannot be opened, by anyone.</p>
      <p role="status" class="status-line">
        {done}
      </p>
    </form>
  );
}

function ImportBundle({ workspace }: { workspace: WorkspaceSummaryFragment }) {
  const [bundle, setBundle] = useState("");
  const [fileName, setFileName] = useState<string | null>(null);
  const [passphrase, setPassphrase] = useState("");
  const [onConflict, setOnConflict] = useState<OnConflict>("FAIL");
  const [report, setReport] = useState<Report | null>(null);
  const [dryRunKey, setDryRunKey] = useState<string | null>(null);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const key = JSON.stringify([bundle, passphrase, onConflict]);

  const run = async (dryRun: boolean) => {
    const found: Record<string, string> = {};
    if (!bundle.trim()) found["import-file"] = "Choose a bundle file.";
    const problem = passphraseProblem(passphrase);
    if (problem) found["import-passphrase"] = problem;
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      const { importBundle } = await request(ImportBundleDocument, { workspaceId: workspace.id, bundle: bundle.trim(), passphrase, onConflict, dryRun });
      setReport(importBundle);
      setDryRunKey(dryRun ? key : null);
    } catch (caught) {
      const error = toApiError(caught);
      setReport(null);
      if (error.field === "passphrase") setErrors({ "import-passphrase": `${error.message} (${error.code})` });
      else if (error.field === "bundle") setErrors({ "import-file": `${error.message} (${error.code})` });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  const readFile = async (file: File | undefined) => {
    setReport(null);
    if (!file) return;
    setFileName(file.name);
    setBundle(await file.text());
  };
  const hasErrors = report?.lines.some((l) => l.outcome === "ERROR") ?? false;
  const canApply = report !== null && !report.applied && dryRunKey === key && !hasErrors;

  return (
    <form
      class="card"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void run(true);
      }}
    >
      <h2>Import a bundle</h2>
      {failure && (
        <Alert>
          <ErrorText error={failure} />
        </Alert>
      )}
      <div class="field">
        <label for="import-file">Bundle file</label>
        <input
          id="import-file"
          type="file"
          accept=".patchbay-bundle,text/plain"
          aria-invalid={errors["import-file"] ? true : undefined}
          aria-describedby={errors["import-file"] ? "field-import-file-error" : undefined}
          onChange={(e) => void readFile(e.currentTarget.files?.[0])}
        />
        {fileName && <p class="help">{fileName}, {Math.ceil(bundle.length / 1024)} KB</p>}
        <FieldError name="import-file" error={errors["import-file"]} />
      </div>
      <div class="inline-fields">
        <PassphraseField id="import-passphrase" label="Bundle passphrase" value={passphrase} error={errors["import-passphrase"]} onInput={setPassphrase} autocomplete="off" />
        <div class="field">
          <label for="bundle-conflict">When a connection exists and differs</label>
          <select id="bundle-conflict" value={onConflict} onChange={(e) => setOnConflict(e.currentTarget.value as OnConflict)}>
            <option value="FAIL">Fail (import nothing)</option>
            <option value="SKIP">Skip it</option>
            <option value="OVERWRITE">Overwrite it</option>
          </select>
        </div>
      </div>
      <div class="actions">
        <button type="submit" class="button-secondary" disabled={busy}>
          {busy ? "Working…" : "Dry run"}
        </button>
        <button type="button" disabled={busy || !canApply} onClick={() => void run(false)}>
          Apply
        </button>
      </div>
      <p class="muted">Apply becomes available after a dry run of exactly this file, passphrase and choice with no errors. Nothing is written when any line fails.</p>
      <div role="status" aria-live="polite">
        {report && <BundleDiff report={report} dryRun={dryRunKey === key} />}
      </div>
    </form>
  );
}

function BundleDiff({ report, dryRun }: { report: Report; dryRun: boolean }) {
  const counts = new Map<string, number>();
  for (const line of report.lines) counts.set(line.outcome, (counts.get(line.outcome) ?? 0) + 1);
  const summary = [...counts].map(([outcome, n]) => `${n} ${outcome.toLowerCase()}`).join(", ") || "the bundle holds no connections";
  return (
    <>
      <p data-testid="bundle-summary">
        {report.applied ? "Imported: " : dryRun ? "Dry run, nothing written yet: " : "Nothing was written: "}
        {summary}
      </p>
      {report.lines.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{report.applied ? "Import result" : "Dry run result"}, a line per connection</caption>
            <thead>
              <tr>
                <th scope="col">Connection</th>
                <th scope="col">Outcome</th>
                <th scope="col">Fields that change</th>
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
                  <td>{line.changedFields.length ? line.changedFields.map((f) => <code key={f} class="changed-field">{f}</code>) : <span class="muted">none</span>}</td>
                  <td>{line.message ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}

function PassphraseField(props: { id: string; label: string; value: string; error?: string; autocomplete: string; onInput(value: string): void }) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <input
        id={props.id}
        type="password"
        autocomplete={props.autocomplete}
        spellcheck={false}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={props.error ? `field-${props.id}-error` : undefined}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      <FieldError name={props.id} error={props.error} />
    </div>
  );
}
