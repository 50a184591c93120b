/** Small pieces the pages share: alerts, relative times, test outcomes, copy buttons. */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import type { TestResultFieldsFragment } from "../gql/graphql";

export function Alert({ children, tone = "error" }: { children: ComponentChildren; tone?: "error" | "info" | "success" }) {
  return (
    <div class={`alert alert-${tone}`} role={tone === "error" ? "alert" : "status"}>
      {children}
    </div>
  );
}

const UNITS: Array<[Intl.RelativeTimeFormatUnit, number]> = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

export function formatWhen(iso: string, now = Date.now()): string {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === "second") return relative.format(Math.round(seconds / size), unit);
  }
  return iso;
}

/** A time as "3 minutes ago", with the exact time for screen readers and on hover. */
export function When({ at, empty = "never" }: { at: string | null | undefined; empty?: string }) {
  if (!at) return <span class="muted">{empty}</span>;
  const exact = new Date(at).toLocaleString();
  return (
    <time dateTime={at} title={exact}>
      {formatWhen(at)}
    </time>
  );
}

export function StatusBadge({ status }: { status: "SUCCESS" | "FAILURE" }) {
  return <span class={`badge ${status === "SUCCESS" ? "badge-ok" : "badge-fail"}`}>{status}</span>;
}

/** A test's outcome as a person reads it: status, code, message, server version, latency. */
export function TestOutcome({ result, hint }: { result: TestResultFieldsFragment; hint?: string | null }) {
  return (
    <div class={`outcome ${result.status === "SUCCESS" ? "outcome-ok" : "outcome-fail"}`} data-testid="test-outcome">
      <p>
        <StatusBadge status={result.status} />
        {result.errorCode && <code class="code">{result.errorCode}</code>}
        <span class="muted"> in {result.latencyMs} ms</span>
      </p>
      {hint && <p class="hint">{hint}</p>}
      <p class="message">{result.message}</p>
      {result.serverVersion && (
        <p>
          Server version: <span class="server-version">{result.serverVersion}</span>
        </p>
      )}
    </div>
  );
}

export { hintFor } from "../connection-form/model";

export function CopyButton({ text, label = "Copy" }: { text: string; label?: string }) {
  const [state, setState] = useState<"idle" | "copied" | "failed">("idle");
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setState("copied");
    } catch {
      setState("failed");
    }
    setTimeout(() => setState("idle"), 2000);
  };
  return (
    <span class="copy">
      <button type="button" class="button-secondary" onClick={copy}>
        {label}
      </button>
      <span role="status" class="copy-status">
        {state === "copied" ? "Copied." : state === "failed" ? "Copy failed: select the text and copy it." : ""}
      </span>
    </span>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" role="status">
      Loading {what}…
    </p>
  );
}

export function Pager({
  from,
  count,
  total,
  hasPrevious,
  hasNext,
  onPrevious,
  onNext,
  what,
}: {
  from: number;
  count: number;
  total?: number;
  hasPrevious: boolean;
  hasNext: boolean;
  onPrevious(): void;
  onNext(): void;
  what: string;
}) {
  return (
    <nav class="pager" aria-label={`${what} pages`}>
      <span>
        {count === 0 ? `No ${what}` : `${from + 1}–${from + count}`}
        {total !== undefined && count > 0 ? ` of ${total}` : ""}
      </span>
      <button type="button" class="button-secondary" disabled={!hasPrevious} onClick={onPrevious}>
        Previous page
      </button>
      <button type="button" class="button-secondary" disabled={!hasNext} onClick={onNext}>
        Next page
      </button>
    </nav>
  );
}

/**
 * A refused request as a person and a developer read it: the server's message, then its code
 * and the field it names (`BAD_USER_INPUT · host`), so a report can quote both.
 */
export function ErrorText({ error }: { error: { message: string; code: string; field: string | null } }) {
  return (
    <>
      {error.message}{" "}
      <span class="error-code">
        (<code>{error.code}</code>
        {error.field && (
          <>
            {" "}
            field <code>{error.field}</code>
          </>
        )}
        )
      </span>
    </>
  );
}
