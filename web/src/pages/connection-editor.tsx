/**
 * New connection and Edit: Name, Type, Description, then the type's own fields. "Test" runs
 * the unsaved form (testConnectionInput for a new one, testConnection with the patch for an
 * edit), "Save" creates or updates (with the version it was loaded at), "Cancel" goes back.
 */
import { useEffect, useMemo, useState } from "preact/hooks";
import { type ApiError, request } from "../api/client";
import { Alert, hintFor, Loading, TestOutcome } from "../components/common";
import { FieldError, idFor, TypeFields } from "../connection-form/fields";
import {
  editForm,
  type FieldErrors,
  firstSecretLabel,
  type FormState,
  isEmptyPatch,
  newForm,
  OTHER_EXTRA,
  retypeEditForm,
  toInput,
  toPatch,
  type TypeSpec,
} from "../connection-form/model";
import {
  type ConnectionRowFragment,
  ConnectionDocument,
  CreateConnectionDocument,
  type TestResultFieldsFragment,
  TestConnectionDocument,
  TestConnectionInputDocument,
  UpdateConnectionDocument,
  type WorkspaceSummaryFragment,
} from "../gql/graphql";
import { toApiError, usePageHeading, useQuery } from "../hooks";
import { href, navigate } from "../router";

interface Props {
  workspace: WorkspaceSummaryFragment;
  types: TypeSpec[];
  /** Edit: the connection's name; absent for New. */
  name?: string;
  onSaved(message: string): void;
}

export function ConnectionEditorPage(props: Props) {
  if (!props.workspace.permissions.writeConnections) {
    return (
      <section>
        <h1>{props.name ? `Edit ${props.name}` : "New connection"}</h1>
        <Alert>Your role in this workspace cannot create or change connections.</Alert>
      </section>
    );
  }
  return props.name ? <EditConnection {...props} name={props.name} /> : <NewConnection {...props} />;
}

function NewConnection({ workspace, types, onSaved }: Props) {
  const heading = usePageHeading("New connection");
  const initialType = types.find((t) => t.id === "postgres") ?? types[0];
  const [state, setState] = useState<FormState>(() => newForm(initialType));
  const type = types.find((t) => t.id === state.type) ?? initialType;
  const changeType = (id: string) => {
    const next = types.find((t) => t.id === id);
    if (next) setState(newForm(next, { state, type }));
  };
  const flow = useSubmitFlow();

  const test = () =>
    flow.run("test", async () => {
      const { input, errors } = toInput(state, type);
      if (flow.invalid(errors)) return;
      const { testConnectionInput } = await request(TestConnectionInputDocument, { workspaceId: workspace.id, input });
      flow.tested(testConnectionInput);
    });
  const save = () =>
    flow.run("save", async () => {
      const { input, errors } = toInput(state, type);
      if (flow.invalid(errors)) return;
      const { createConnection } = await request(CreateConnectionDocument, { workspaceId: workspace.id, input });
      onSaved(`Saved ${createConnection.name}.`);
      navigate({ page: "connections", slug: workspace.slug });
    });

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        New connection
      </h1>
      <ConnectionFormBody
        mode="new"
        types={types}
        type={type}
        state={state}
        onState={setState}
        onType={changeType}
        flow={flow}
        storedSecrets={[]}
        onTest={test}
        onSave={save}
        cancelHref={href({ page: "connections", slug: workspace.slug })}
      />
    </section>
  );
}

function EditConnection({ workspace, types, name, onSaved }: Props & { name: string }) {
  const heading = usePageHeading(`Edit ${name}`);
  const query = useQuery(ConnectionDocument, { slug: workspace.slug, name });
  const connection = query.data?.workspace?.connection ?? null;
  const [original, setOriginal] = useState<ConnectionRowFragment | null>(null);
  const [state, setState] = useState<FormState | null>(null);
  const flow = useSubmitFlow();

  useEffect(() => {
    if (!connection) return;
    setOriginal(connection);
    setState(editForm(connection, types.find((t) => t.id === connection.type)));
    flow.reset();
  }, [connection]);

  if (query.error) return <PageError title={`Edit ${name}`} error={query.error} />;
  if (query.data && !connection) return <PageError title={`Edit ${name}`} message={`There is no connection named ${name} in this workspace.`} />;
  if (!original || !state) return <Loading what="the connection" />;

  const type = types.find((t) => t.id === state.type);
  if (!type) return <PageError title={`Edit ${name}`} message={`This server has no connection type ${state.type}.`} />;
  const changeType = (id: string) => {
    const next = types.find((t) => t.id === id);
    if (next) setState(retypeEditForm(state, original, next));
  };

  const test = () =>
    flow.run("test", async () => {
      const { patch, errors } = toPatch(state, type, original);
      if (flow.invalid(errors)) return;
      const { testConnection } = await request(TestConnectionDocument, { id: original.id, patch: isEmptyPatch(patch) ? null : patch });
      flow.tested(testConnection, firstSecretLabel(type));
    });
  const save = () =>
    flow.run("save", async () => {
      const { patch, errors } = toPatch(state, type, original);
      if (flow.invalid(errors)) return;
      if (isEmptyPatch(patch)) {
        navigate({ page: "connections", slug: workspace.slug });
        return;
      }
      const { updateConnection } = await request(UpdateConnectionDocument, { id: original.id, patch, expectedVersion: original.version });
      onSaved(`Saved ${updateConnection.name}.`);
      navigate({ page: "connections", slug: workspace.slug });
    });

  return (
    <section>
      <h1 ref={heading} tabIndex={-1}>
        Edit {original.name}
      </h1>
      {flow.conflict && (
        <Alert>
          <p>{flow.conflict}</p>
          <p>
            <button type="button" onClick={() => query.reload()}>
              Reload
            </button>{" "}
            Reloading shows the saved connection and discards your changes.
          </p>
        </Alert>
      )}
      <ConnectionFormBody
        mode="edit"
        types={types}
        type={type}
        state={state}
        onState={setState}
        onType={changeType}
        flow={flow}
        storedSecrets={original.secretFields}
        onTest={test}
        onSave={save}
        cancelHref={href({ page: "connections", slug: workspace.slug })}
      />
    </section>
  );
}

function ConnectionFormBody({
  mode,
  types,
  type,
  state,
  onState,
  onType,
  flow,
  storedSecrets,
  onTest,
  onSave,
  cancelHref,
}: {
  mode: "new" | "edit";
  types: TypeSpec[];
  type: TypeSpec;
  state: FormState;
  onState(state: FormState): void;
  onType(id: string): void;
  flow: SubmitFlow;
  storedSecrets: string[];
  onTest(): void;
  onSave(): void;
  cancelHref: string;
}) {
  const rendered = useMemo(() => new Set(["name", "type", "description", OTHER_EXTRA, ...type.fields.map((f) => f.name)]), [type]);
  const unplaced = flow.serverError && (!flow.serverError.field || !rendered.has(placeOf(flow.serverError.field))) ? flow.serverError : null;
  return (
    <form
      class="connection-form"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        onSave();
      }}
    >
      {unplaced && <Alert>{unplaced.message}</Alert>}
      <div class="field">
        <label for={idFor("name")} class="is-required">
          Name
        </label>
        <input
          id={idFor("name")}
          required
          autocomplete="off"
          spellcheck={false}
          value={state.name}
          aria-describedby={`${idFor("name")}-help${flow.errors.name ? ` ${idFor("name")}-error` : ""}`}
          aria-invalid={flow.errors.name ? true : undefined}
          onInput={(e) => onState({ ...state, name: e.currentTarget.value })}
        />
        <p class="help" id={`${idFor("name")}-help`}>
          The conn_id code uses: letters, digits, <code>_</code>, <code>.</code> and <code>-</code>.
        </p>
        <FieldError name="name" error={flow.errors.name} />
      </div>
      <div class="field">
        <label for={idFor("type")}>Type</label>
        <select id={idFor("type")} value={type.id} onChange={(e) => onType(e.currentTarget.value)} aria-invalid={flow.errors.type ? true : undefined}>
          {types.map((t) => (
            <option key={t.id} value={t.id}>
              {t.label}
            </option>
          ))}
        </select>
        <FieldError name="type" error={flow.errors.type} />
      </div>
      <div class="field">
        <label for={idFor("description")}>Description</label>
        <input
          id={idFor("description")}
          autocomplete="off"
          value={state.description}
          onInput={(e) => onState({ ...state, description: e.currentTarget.value })}
        />
        <FieldError name="description" error={flow.errors.description} />
      </div>
      <fieldset class="type-fields">
        <legend>{type.label} settings</legend>
        <TypeFields type={type} state={state} errors={flow.errors} mode={mode} storedSecrets={storedSecrets} onChange={onState} />
      </fieldset>
      <div class="actions">
        {type.testable && (
          <button type="button" class="button-secondary" onClick={onTest} disabled={flow.busy !== null}>
            {flow.busy === "test" ? "Testing…" : "Test"}
          </button>
        )}
        <button type="submit" disabled={flow.busy !== null}>
          {flow.busy === "save" ? "Saving…" : "Save"}
        </button>
        <a class="button-link" href={cancelHref}>
          Cancel
        </a>
      </div>
      <div role="status" aria-live="polite" class="test-region">
        {flow.busy === "test" && <p class="muted">Testing…</p>}
        {flow.result && <TestOutcome result={flow.result} hint={hintFor(flow.result, flow.secretLabel)} />}
      </div>
    </form>
  );
}

/** A server field name as the form places it: undeclared extras go with "Other extra settings". */
function placeOf(field: string): string {
  return field === "extra" ? OTHER_EXTRA : field;
}

interface SubmitFlow {
  busy: "test" | "save" | null;
  errors: FieldErrors;
  serverError: ApiError | null;
  conflict: string | null;
  result: TestResultFieldsFragment | null;
  secretLabel: string;
  run(kind: "test" | "save", action: () => Promise<void>): Promise<void>;
  invalid(errors: FieldErrors): boolean;
  tested(result: TestResultFieldsFragment, secretLabel?: string): void;
  reset(): void;
}

/** Busy state, field errors (ours and the server's) and the last test's outcome of one form. */
function useSubmitFlow(): SubmitFlow {
  const [busy, setBusy] = useState<SubmitFlow["busy"]>(null);
  const [errors, setErrors] = useState<FieldErrors>({});
  const [serverError, setServerError] = useState<ApiError | null>(null);
  const [conflict, setConflict] = useState<string | null>(null);
  const [result, setResult] = useState<TestResultFieldsFragment | null>(null);
  const [secretLabel, setSecretLabel] = useState("password");
  return {
    busy,
    errors,
    serverError,
    conflict,
    result,
    secretLabel,
    async run(kind, action) {
      setBusy(kind);
      setErrors({});
      setServerError(null);
      if (kind === "test") setResult(null);
      try {
        await action();
      } catch (caught) {
        const error = toApiError(caught);
        if (error.code === "CONFLICT" && !error.field) {
          setConflict(`${error.message} Someone changed this connection after you opened it.`);
        } else {
          setServerError(error);
          if (error.field) setErrors({ [placeOf(error.field)]: error.message });
        }
      } finally {
        setBusy(null);
      }
    },
    invalid(found) {
      setErrors(found);
      return Object.keys(found).length > 0;
    },
    tested(outcome, label = "password") {
      setResult(outcome);
      setSecretLabel(label);
    },
    reset() {
      setErrors({});
      setServerError(null);
      setConflict(null);
      setResult(null);
    },
  };
}

export function PageError({ title, error, message }: { title: string; error?: ApiError; message?: string }) {
  return (
    <section>
      <h1>{title}</h1>
      <Alert>{message ?? error?.message}</Alert>
    </section>
  );
}
