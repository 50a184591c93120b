/**
 * Whether an Airflow file says the same as a stored connection. An Airflow file cannot say
 * everything Patchbay stores: an http connection's base path travels inside `host` (so where
 * `base_path` sat among the extras is lost, and an empty scheme is written as https), and a
 * stub export leaves every secret out. Comparing the stored draft with the imported one field
 * by field then reports UPDATED for a file exported and imported back unchanged. Comparing
 * what each would look like in the file, the Airflow form (airflowView), does not.
 */
import { airflowView } from "../../adapters/registry";
import { emptyObject } from "../../input/json";
import { type ConnectionDraft, settingsOf } from "./draft";
import { fieldOf, isSealedMarker, type JsonObject } from "./extra-secrets";

/**
 * Whether `described` (read from an Airflow file) and `stored` have one Airflow form. With
 * keepMissingSecrets, the stored secrets the file leaves out do not count (they are kept).
 */
export function sameInAirflow(stored: ConnectionDraft, described: ConnectionDraft, { keepMissingSecrets }: { keepMissingSecrets: boolean }): boolean {
  const comparable = keepMissingSecrets ? withOnlySecrets(stored, new Set(Object.keys(described.secrets))) : stored;
  return airflowForm(comparable) === airflowForm(described);
}

/** The draft's Airflow form as one string, key order included (it is part of extra). */
function airflowForm(draft: ConnectionDraft): string {
  const view = airflowView({ ...settingsOf(draft), type: draft.type });
  return JSON.stringify([draft.name, draft.type, draft.description, view.host, view.port, view.schema, view.login, view.password, view.extra]);
}

/** The draft as a file giving only these secret fields shows it: the other secrets, and their markers, gone. */
function withOnlySecrets(draft: ConnectionDraft, fields: Set<string>): ConnectionDraft {
  const secrets = emptyObject() as Record<string, string>;
  for (const [field, value] of Object.entries(draft.secrets)) if (fields.has(field)) secrets[field] = value;
  return { ...draft, secrets, extra: dropMarkers(draft.extra, [], fields) as JsonObject };
}

function dropMarkers(value: unknown, path: string[], keep: Set<string>): unknown {
  const dropped = (child: unknown, at: string[]) => isSealedMarker(child) && !keep.has(fieldOf(at));
  if (Array.isArray(value)) {
    return value.flatMap((item, i) => (dropped(item, [...path, String(i)]) ? [] : [dropMarkers(item, [...path, String(i)], keep)]));
  }
  if (typeof value === "object" && value !== null && !isSealedMarker(value)) {
    const out = emptyObject();
    for (const [key, child] of Object.entries(value)) if (!dropped(child, [...path, key])) out[key] = dropMarkers(child, [...path, key], keep);
    return out;
  }
  return value;
}
