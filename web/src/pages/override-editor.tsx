/**
 * The form that adds or edits one environment's override of a connection: the environment's
 * name (when adding), then the type's fields as override-fields.tsx renders them, checked by
 * override-model.ts before anything is sent; the server's field errors land under their field,
 * others above the form with their code. Saving sends the connection's version (CONFLICT
 * offers Reload). It takes focus when it opens; Escape cancels.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, ErrorText } from "../components/common";
import { FieldError, idFor } from "../connection-form/fields";
import { type FieldErrors, type FormState, OTHER_EXTRA, type TypeSpec } from "../connection-form/model";
import { OverrideFields } from "../connection-form/override-fields";
import { environmentProblem, overrideForm, toOverridePatch } from "../connection-form/override-model";
import { type ConnectionRowFragment, type OverrideFieldsFragment, SetConnectionOverrideDocument } from "../gql/graphql";
import { toApiError } from "../hooks";

/** Add (environment typed) or edit (environment fixed) one override. */
export function OverrideEditor(props: {
  connection: ConnectionRowFragment;
  connectionId: string;
  version: number;
  type: TypeSpec;
  environment: string | null;
  existing: OverrideFieldsFragment | null;
  known: string[];
  onCancel(): void;
  onSaved(environment: string): void;
  /** After a CONFLICT: close the form and load what is saved now. */
  onReload(): void;
}) {
  const { type, existing } = props;
  const [environment, setEnvironment] = useState(props.environment ?? "");
  const [state, setState] = useState<FormState>(() => overrideForm(existing, type));
  const [errors, setErrors] = useState<FieldErrors>({});
  const [failure, setFailure] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const fixed = props.environment !== null;
  const form = useRef<HTMLFormElement>(null);
  // Opened from a button: focus goes to the form's first field, so typing can start at once.
  useEffect(() => {
    form.current?.querySelector<HTMLElement>("input:not([disabled]), select, textarea")?.focus();
  }, []);
  const title = existing ? `Edit the ${existing.environment} override` : fixed ? `Add a ${props.environment} override` : "Add an override";
  const rendered = new Set(["environment", OTHER_EXTRA, ...type.fields.map((f) => f.name)]);

  const save = async (event: Event) => {
    event.preventDefault();
    const name = environment.trim();
    const found: FieldErrors = {};
    const problem = environmentProblem(name);
    if (problem) found.environment = problem;
    const { patch, errors: formErrors } = toOverridePatch(state, type, existing);
    Object.assign(found, formErrors);
    setErrors(found);
    setFailure(null);
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await request(SetConnectionOverrideDocument, { id: props.connectionId, environment: name, patch, expectedVersion: props.version });
      props.onSaved(name);
    } catch (caught) {
      const error = toApiError(caught);
      // The server names fields as the form does (`host`, `extra.region`); others go above the form.
      const field = error.field === "extra" ? OTHER_EXTRA : error.field;
      if (field && rendered.has(field)) setErrors({ [field]: `${error.message} (${error.code})` });
      else setFailure(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      ref={form}
      class="card override-form"
      aria-labelledby="override-form-title"
      noValidate
      onSubmit={save}
      onKeyDown={(e) => {
        if (e.key === "Escape") {
          e.preventDefault();
          props.onCancel();
        }
      }}
    >
      <h3 id="override-form-title">{title}</h3>
      {failure && (
        <Alert>
          <ErrorText error={failure} />
          {failure.code === "CONFLICT" && (
            <>
              {" "}
              Someone changed this connection after you opened the form.{" "}
              <button type="button" class="button-secondary" onClick={props.onReload}>
                Reload
              </button>{" "}
              Reloading shows the saved values and discards your changes.
            </>
          )}
        </Alert>
      )}
      {errors.form && <Alert>{errors.form}</Alert>}
      {!fixed && (
        <div class="field">
          <label for={idFor("environment")} class="is-required">
            Environment
          </label>
          <input
            id={idFor("environment")}
            list="known-environments"
            autocomplete="off"
            spellcheck={false}
            value={environment}
            aria-invalid={errors.environment ? true : undefined}
            aria-describedby={`${idFor("environment")}-help${errors.environment ? ` ${idFor("environment")}-error` : ""}`}
            onInput={(e) => setEnvironment(e.currentTarget.value)}
          />
          <datalist id="known-environments">
            {props.known.map((name) => (
              <option key={name} value={name} />
            ))}
          </datalist>
          <p class="help" id={`${idFor("environment")}-help`}>
            e.g. dev, staging, prod: letters, digits, <code>_</code>, <code>.</code> and <code>-</code>.
          </p>
          <FieldError name="environment" error={errors.environment} />
        </div>
      )}
      <p class="help">Empty fields use the connection's own value, shown greyed in each. Secrets are never shown: leave one empty to keep it.</p>
      <fieldset class="type-fields">
        <legend>{type.label} settings in this environment</legend>
        <OverrideFields type={type} connection={props.connection} state={state} errors={errors} storedSecrets={existing?.secretFields ?? []} onChange={setState} />
      </fieldset>
      <div class="actions">
        <button type="submit" disabled={busy}>
          {busy ? "Saving…" : "Save override"}
        </button>
        <button type="button" class="button-secondary" onClick={props.onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
