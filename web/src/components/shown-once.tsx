/**
 * A secret the server hands out once (an API token, an invitation link, a webhook's signing
 * secret): shown read-only, selected on focus, with a copy button and a Done that forgets it.
 * The page keeps it only in this component's props, so leaving the page loses it for good.
 */
import type { ComponentChildren } from "preact";
import { CopyButton } from "./common";

export function ShownOnce({
  id,
  title,
  label,
  value,
  copyLabel,
  children,
  onDone,
}: {
  /** The input's id (also what tests and screen readers find it by, through `label`). */
  id: string;
  title: ComponentChildren;
  /** The accessible name of the value, e.g. "New token". */
  label: string;
  value: string;
  copyLabel: string;
  /** What the value is for and why it is shown once. */
  children: ComponentChildren;
  onDone(): void;
}) {
  return (
    <div class="card created-token" role="status">
      <h2>{title}</h2>
      {children}
      <label for={id}>{label}</label>
      <input id={id} class="token-value" readOnly value={value} onFocus={(e) => e.currentTarget.select()} />
      <div class="actions">
        <CopyButton text={value} label={copyLabel} />
        <button type="button" class="button-secondary" onClick={onDone}>
          Done
        </button>
      </div>
    </div>
  );
}
