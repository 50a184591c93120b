/**
 * An override's fields, rendered from the type's specs like the connection form: each shows
 * the connection's own value as its placeholder (what the environment sees while it is empty).
 * A checkbox becomes a choice of three (the connection's value, on, off). Secrets are password
 * inputs that are never filled in: empty keeps, typed replaces, Clear stops overriding.
 */
import type { ConnectionRowFragment } from "../gql/graphql";
import { describedBy, Field, FieldError, FieldLabel, idFor } from "./fields";
import { type FieldErrors, type FieldSpec, type FormState, isExtra, OTHER_EXTRA, type TypeSpec } from "./model";

interface Props {
  type: TypeSpec;
  connection: ConnectionRowFragment;
  state: FormState;
  errors: FieldErrors;
  /** The secret fields the override holds now. */
  storedSecrets: string[];
  onChange(state: FormState): void;
}

function inherited(field: FieldSpec, connection: ConnectionRowFragment): string {
  const raw = isExtra(field.name) ? ((connection.extra ?? {}) as Record<string, unknown>)[field.name.slice("extra.".length)] : connection[field.name as "host" | "port" | "schema" | "login"];
  if (raw === null || raw === undefined || raw === "") return "not set";
  return typeof raw === "object" ? JSON.stringify(raw) : String(raw);
}

export function OverrideFields({ type, connection, state, errors, storedSecrets, onChange }: Props) {
  const setValue = (name: string, value: string | boolean) => onChange({ ...state, values: { ...state.values, [name]: value } });
  return (
    <>
      {type.fields.map((field) => {
        const id = idFor(field.name);
        if (field.secret) {
          const isSet = storedSecrets.includes(field.name);
          const clearing = state.secrets[field.name] === "clear";
          const status = clearing ? "will use the connection's on save" : isSet ? "set" : `not set: uses the connection's (${connection.secretFields.includes(field.name) ? "set" : "not set"})`;
          return (
            <div class="field secret-field" key={field.name}>
              <label for={id}>{field.label}</label>
              <input
                id={id}
                type="password"
                autocomplete="new-password"
                spellcheck={false}
                value={String(state.values[field.name] ?? "")}
                disabled={clearing}
                aria-describedby={`${id}-help${errors[field.name] ? ` ${id}-error` : ""}`}
                aria-invalid={errors[field.name] ? true : undefined}
                onInput={(e) => setValue(field.name, e.currentTarget.value)}
              />
              <p class="help" id={`${id}-help`}>
                In this environment: <span class="secret-status" data-testid={`override-secret-status-${field.name}`}>{status}</span>. Leave empty to keep.
              </p>
              {isSet && (
                <button
                  type="button"
                  class="button-secondary"
                  aria-label={clearing ? `Keep this environment's ${field.label.toLowerCase()}` : `Use the connection's ${field.label.toLowerCase()}`}
                  onClick={() => onChange({ ...state, secrets: { ...state.secrets, [field.name]: clearing ? "keep" : "clear" }, values: { ...state.values, [field.name]: "" } })}
                >
                  {clearing ? "Undo" : "Clear"}
                </button>
              )}
              <FieldError name={field.name} error={errors[field.name]} />
            </div>
          );
        }
        if (field.kind === "BOOLEAN" || field.kind === "SELECT") {
          // A choice: the empty option is the connection's value, named so a person knows what it is.
          const from = inherited(field, connection);
          const choices: Array<[string, string]> =
            field.kind === "BOOLEAN" ? [["true", "On"], ["false", "Off"]] : (field.options ?? []).map((o) => [o, o]);
          const shown = field.kind === "BOOLEAN" && from !== "not set" ? (from === "true" ? "on" : "off") : from;
          return (
            <div class="field" key={field.name}>
              <FieldLabel field={{ label: field.label, required: false }} htmlFor={id} />
              <select id={id} value={String(state.values[field.name] ?? "")} aria-describedby={describedBy(field.name, Boolean(field.description), Boolean(errors[field.name]))} onChange={(e) => setValue(field.name, e.currentTarget.value)}>
                <option value="">The connection's ({shown})</option>
                {choices.map(([value, label]) => (
                  <option key={value} value={value}>
                    {label}
                  </option>
                ))}
              </select>
              {field.description && (
                <p class="help" id={`${id}-help`}>
                  {field.description}
                </p>
              )}
              <FieldError name={field.name} error={errors[field.name]} />
            </div>
          );
        }
        const from = inherited(field, connection);
        return (
          <Field
            key={field.name}
            field={{ ...field, required: false, placeholder: from === "not set" ? (field.placeholder ?? null) : from, options: field.options }}
            value={state.values[field.name]}
            error={errors[field.name]}
            onValue={(v) => setValue(field.name, v)}
          />
        );
      })}
      <details class="field" open={Boolean(errors[OTHER_EXTRA] || state.otherExtra) || undefined}>
        <summary>Other extra settings</summary>
        <label for={idFor(OTHER_EXTRA)}>Other extra settings (JSON)</label>
        <textarea
          id={idFor(OTHER_EXTRA)}
          rows={3}
          spellcheck={false}
          value={state.otherExtra}
          placeholder='{"key": "value"}'
          aria-describedby={describedBy(OTHER_EXTRA, false, Boolean(errors[OTHER_EXTRA]))}
          aria-invalid={errors[OTHER_EXTRA] ? true : undefined}
          onInput={(e) => onChange({ ...state, otherExtra: e.currentTarget.value })}
        />
        <FieldError name={OTHER_EXTRA} error={errors[OTHER_EXTRA]} />
      </details>
    </>
  );
}
