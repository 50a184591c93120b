/**
 * Airflow's generic connection type: the common fields, all optional, and a free `extra`, for
 * systems Patchbay has no type for. Such a connection is stored and resolved like any other,
 * but cannot be tested: nothing says what a working one looks like. Its host still passes the
 * shared host check, so it cannot smuggle a socket path or a URL into a client that resolves it.
 */
import type { ConnectionAdapter, FieldSpec } from "./types";

const fields: FieldSpec[] = [
  { name: "host", label: "Host", kind: "STRING", placeholder: "service.example.com" },
  { name: "port", label: "Port", kind: "INTEGER" },
  { name: "schema", label: "Schema", kind: "STRING", description: "Whatever the consuming code expects here, e.g. a database or path." },
  { name: "login", label: "Login", kind: "STRING" },
  { name: "password", label: "Password", kind: "PASSWORD", secret: true },
];

export const genericAdapter: ConnectionAdapter = {
  id: "generic",
  label: "Generic",
  summary: "Airflow's generic type: the common fields and free `extra`; no test",
  fields,
};
