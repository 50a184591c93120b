/**
 * An environment name typed by a person, offering the workspace's environments (a datalist:
 * a new name may be typed too), checked by environmentProblem before anything is sent.
 */
import { FieldError } from "../connection-form/fields";

export function EnvironmentField(props: {
  id: string;
  label: string;
  value: string;
  known: string[];
  help: string;
  error?: string;
  onInput(value: string): void;
}) {
  const { id } = props;
  return (
    <div class="field">
      <label for={id}>{props.label}</label>
      <input
        id={id}
        list={`${id}-known`}
        autocomplete="off"
        spellcheck={false}
        value={props.value}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={`${id}-help${props.error ? ` field-${id}-error` : ""}`}
        onInput={(e) => props.onInput(e.currentTarget.value)}
      />
      <datalist id={`${id}-known`}>
        {props.known.map((name) => (
          <option key={name} value={name} />
        ))}
      </datalist>
      <p class="help" id={`${id}-help`}>
        {props.help}
      </p>
      <FieldError name={id} error={props.error} />
    </div>
  );
}
