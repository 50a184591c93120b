/**
 * A named secret value with no host (Flowfile's Secrets screen, Airflow's Variables): one
 * secret field and the connection's own description. It is sealed, versioned and resolved like
 * any connection; the Python client's Airflow secrets backend serves it to `get_variable`.
 * There is nothing to connect to, so it has no test and no other field: a host, port, schema,
 * login or extra given with it is refused rather than silently kept next to the secret.
 */
import type { ConnectionAdapter, FieldProblem, FieldSpec } from "./types";

const fields: FieldSpec[] = [
  {
    name: "password",
    label: "Secret value",
    kind: "PASSWORD",
    secret: true,
    required: true,
    description: "Served as it is to code that resolves the name (and to Airflow's Variable.get).",
  },
];

const HOSTLESS = ["host", "port", "schema", "login"] as const;

export const secretAdapter: ConnectionAdapter = {
  id: "secret",
  label: "Secret",
  summary: "a named secret value (Airflow's Variables); nothing to connect to, no test",
  fields,
  validate(settings): FieldProblem[] {
    const problems: FieldProblem[] = HOSTLESS.filter((name) => settings[name] !== null && settings[name] !== "").map((name) => ({
      field: name,
      message: `A secret has no ${name}; put it in a connection of another type.`,
    }));
    for (const key of Object.keys(settings.extra ?? {})) {
      problems.push({ field: `extra.${key}`, message: "A secret holds one value and no extras." });
    }
    return problems;
  },
};
