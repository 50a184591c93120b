/**
 * Renders a connection type's fields from their specs (label, kind, required, secret,
 * default, placeholder, description, options). Secrets are password inputs that never hold a
 * stored value; when editing they show "set" or "not set" with Replace and Clear.
 */
import type { JSX, TargetedEvent } from "preact";
import { type FieldErrors, type FieldSpec, type FormState, OTHER_EXTRA, type SecretAction, type TypeSpec } from "./model";

interface Props {
  type: TypeSpec;
  state: FormState;
  errors: FieldErrors;
  mode: "new" | "edit";
  /** Edit: the secret fields that hold a value now. */
  storedSecrets: string[];
  onChange(state: FormState): void;
}

export function idFor(name: string): string {
  return `field-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`;
}

export function TypeFields({ type, state, errors, mode, storedSecrets, onChange }: Props) {
  const setValue = (name: string, value: string | boolean) => onChange({ ...state, values: { ...state.values, [name]: value } });
  const setSecret = (name: string, action: SecretAction) =>
    onChange({ ...state, secrets: { ...state.secrets, [name]: action }, values: { ...state.values, [name]: "" } });
  return (
    <>
      {type.fields.map((field) =>
        field.secret && mode === "edit" ? (
          <StoredSecret
            key={`${type.id}:${field.name}`}
            field={field}
            isSet={storedSecrets.includes(field.name)}
            action={state.secrets[field.name] ?? "keep"}
            value={String(state.values[field.name] ?? "")}
            error={errors[field.name]}
            onAction={(action) => setSecret(field.name, action)}
            onValue={(value) => setValue(field.name, value)}
          />
        ) : (
          <Field key={`${type.id}:${field.name}`} field={field} value={state.values[field.name]} error={errors[field.name]} onValue={(v) => setValue(field.name, v)} />
        ),
      )}
      <details class="field" open={Boolean(errors[OTHER_EXTRA]) || undefined}>
        <summary>Other extra settings</summary>
        <label for={idFor(OTHER_EXTRA)}>Other extra settings (JSON)</label>
        <textarea
          id={idFor(OTHER_EXTRA)}
          rows={4}
          spellcheck={false}
          value={state.otherExtra}
          placeholder='{"key": "value"}'
          aria-describedby={describedBy(OTHER_EXTRA, true, Boolean(errors[OTHER_EXTRA]))}
          aria-invalid={errors[OTHER_EXTRA] ? true : undefined}
          onInput={(e) => onChange({ ...state, otherExtra: e.currentTarget.value })}
        />
        <p class="help" id={`${idFor(OTHER_EXTRA)}-help`}>
          Keys this type does not list above, such as those an Airflow import brought. Not stored encrypted: keep secrets out.
        </p>
        <FieldError name={OTHER_EXTRA} error={errors[OTHER_EXTRA]} />
      </details>
    </>
  );
}

export function describedBy(name: string, hasHelp: boolean, hasError: boolean): string | undefined {
  const ids = [hasHelp && `${idFor(name)}-help`, hasError && `${idFor(name)}-error`].filter(Boolean);
  return ids.length ? ids.join(" ") : undefined;
}

export function FieldError({ name, error }: { name: string; error?: string }) {
  if (!error) return null;
  return (
    <p class="field-error" id={`${idFor(name)}-error`}>
      {error}
    </p>
  );
}

export function FieldLabel({ field, htmlFor }: { field: Pick<FieldSpec, "label" | "required">; htmlFor: string }) {
  return (
    <label for={htmlFor} class={field.required ? "is-required" : undefined}>
      {field.label}
    </label>
  );
}

export function Field({ field, value, error, onValue }: { field: FieldSpec; value: string | boolean | undefined; error?: string; onValue(v: string | boolean): void }) {
  const id = idFor(field.name);
  const common = {
    id,
    name: field.name,
    required: field.required,
    "aria-describedby": describedBy(field.name, Boolean(field.description), Boolean(error)),
    "aria-invalid": error ? true : undefined,
  };
  const text = typeof value === "string" ? value : "";
  const onText = (e: TargetedEvent<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>) => onValue(e.currentTarget.value);
  let control: JSX.Element;
  switch (field.kind) {
    case "BOOLEAN":
      return (
        <div class="field field-checkbox">
          <input type="checkbox" {...common} checked={value === true} onChange={(e) => onValue(e.currentTarget.checked)} />
          <FieldLabel field={field} htmlFor={id} />
          {field.description && <p class="help" id={`${id}-help`}>{field.description}</p>}
          <FieldError name={field.name} error={error} />
        </div>
      );
    case "SELECT":
      control = (
        <select {...common} value={text} onChange={onText}>
          {!field.required && <option value="">{field.default != null ? `Default (${String(field.default)})` : "Not set"}</option>}
          {field.required && text === "" && <option value="">Choose…</option>}
          {(field.options ?? []).map((option) => (
            <option key={option} value={option}>
              {option}
            </option>
          ))}
        </select>
      );
      break;
    case "TEXT":
    case "JSON":
      control = (
        <textarea
          {...common}
          rows={field.kind === "JSON" ? 4 : 3}
          spellcheck={false}
          placeholder={field.placeholder ?? undefined}
          autocomplete={field.secret ? "off" : undefined}
          value={text}
          onInput={onText}
        />
      );
      break;
    case "INTEGER":
      control = <input type="text" inputMode="numeric" {...common} placeholder={field.placeholder ?? undefined} value={text} onInput={onText} />;
      break;
    default:
      control =
        field.secret || field.kind === "PASSWORD" ? (
          // new-password: browsers must not fill in the Patchbay sign-in password here.
          <input type="password" {...common} autocomplete="new-password" spellcheck={false} placeholder={field.placeholder ?? undefined} value={text} onInput={onText} />
        ) : (
          <input type="text" {...common} autocomplete="off" spellcheck={false} placeholder={field.placeholder ?? undefined} value={text} onInput={onText} />
        );
  }
  return (
    <div class="field">
      <FieldLabel field={field} htmlFor={id} />
      {control}
      {field.description && (
        <p class="help" id={`${id}-help`}>
          {field.description}
        </p>
      )}
      <FieldError name={field.name} error={error} />
    </div>
  );
}

function StoredSecret({
  field,
  isSet,
  action,
  value,
  error,
  onAction,
  onValue,
}: {
  field: FieldSpec;
  isSet: boolean;
  action: SecretAction;
  value: string;
  error?: string;
  onAction(action: SecretAction): void;
  onValue(value: string): void;
}) {
  const id = idFor(field.name);
  const status = action === "clear" ? "will be cleared on save" : isSet ? "set" : "not set";
  return (
    <div class="field secret-field" role="group" aria-labelledby={`${id}-legend`}>
      <p class="secret-legend">
        <span id={`${id}-legend`}>{field.label}</span>:{" "}
        <span class={`secret-status ${isSet && action !== "clear" ? "is-set" : ""}`} data-testid={`secret-status-${field.name}`}>
          {status}
        </span>
      </p>
      {action === "replace" ? (
        <>
          <label for={id} class="visually-hidden">
            {`New ${field.label.toLowerCase()}`}
          </label>
          <input
            id={id}
            type="password"
            autocomplete="new-password"
            spellcheck={false}
            value={value}
            placeholder={`New ${field.label.toLowerCase()}`}
            aria-describedby={describedBy(field.name, Boolean(field.description), Boolean(error))}
            aria-invalid={error ? true : undefined}
            onInput={(e) => onValue(e.currentTarget.value)}
          />
          <button type="button" class="button-secondary" aria-label={`Keep the stored ${field.label.toLowerCase()}`} onClick={() => onAction("keep")}>
            Keep
          </button>
        </>
      ) : (
        <span class="secret-actions">
          <button type="button" class="button-secondary" aria-label={`Replace ${field.label}`} onClick={() => onAction("replace")}>
            Replace
          </button>
          {isSet && action !== "clear" && (
            <button type="button" class="button-secondary" aria-label={`Clear ${field.label}`} onClick={() => onAction("clear")}>
              Clear
            </button>
          )}
          {action === "clear" && (
            <button type="button" class="button-secondary" aria-label={`Keep the stored ${field.label.toLowerCase()}`} onClick={() => onAction("keep")}>
              Undo
            </button>
          )}
        </span>
      )}
      {field.description && (
        <p class="help" id={`${id}-help`}>
          {field.description}
        </p>
      )}
      <FieldError name={field.name} error={error} />
    </div>
  );
}
