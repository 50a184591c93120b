/**
 * A JupySQL connections file (`~/.jupysql/connections.ini`, used as `%sql --section <name>`).
 *
 * JupySQL reads it with `configparser.ConfigParser()` and passes a section's keys to
 * `sqlalchemy.engine.URL.create(**section)` (jupysql src/sql/parse.py, ConnectionsFile), so:
 * - the keys are URL.create's: drivername, username, password, host, port, database, and
 *   `query` as a Python dict literal (read with ast.literal_eval);
 * - interpolation is on (BasicInterpolation): every `%` in a value is written `%%`;
 * - configparser strips a value's surrounding whitespace and cannot hold a line break, and a
 *   section named DEFAULT is its defaults section: such connections are left out, with a
 *   comment saying why, rather than written wrong.
 * Only the database types are written (postgres, mysql, mssql, sqlite), with the drivers of
 * sqlalchemy.ts; a field that is not set is left out.
 */
import { sqlalchemyUrlParts, type SqlalchemyUrlParts } from "./sqlalchemy";
import type { PortableConnection } from "./types";

export interface JupysqlOptions {
  /** Without secrets the password key is left out (the file is a stub to fill in). Default true. */
  includeSecrets?: boolean;
  /** PostgreSQL's driver (sqlalchemy.ts); default PSYCOPG2. */
  postgresDriver?: "PSYCOPG2" | "PSYCOPG";
}

export function exportJupysqlIni(conns: readonly PortableConnection[], options: JupysqlOptions = {}): string {
  const includeSecrets = options.includeSecrets ?? true;
  const sections: string[] = [];
  const sorted = [...conns].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const c of sorted) {
    const parts = sqlalchemyUrlParts(includeSecrets ? c : { ...c, password: null }, { postgresDriver: options.postgresDriver });
    if (parts === null) continue;
    const problem = unrepresentable(c.name, parts);
    sections.push(problem ? `# ${c.name} is left out: ${problem}\n` : section(c.name, parts));
  }
  return sections.join("\n");
}

function section(name: string, u: SqlalchemyUrlParts): string {
  const keys: Array<[string, string | number | null]> = [
    ["drivername", u.drivername],
    ["username", u.username],
    ["password", u.password],
    ["host", u.host],
    ["port", u.port],
    ["database", u.database],
    ["query", Object.keys(u.query).length > 0 ? pyDictLiteral(u.query) : null],
  ];
  const lines = keys
    .filter(([, v]) => v !== null)
    .map(([k, v]) => `${k} =${v === "" ? "" : " " + String(v).replaceAll("%", "%%")}`);
  return `[${name}]\n${lines.join("\n")}\n`;
}

/** Why configparser could not give the values back exactly, or null. */
function unrepresentable(name: string, u: SqlalchemyUrlParts): string | null {
  if (name === "DEFAULT") return "configparser treats a section named DEFAULT as defaults for every section.";
  for (const [field, value] of Object.entries({ username: u.username, password: u.password, host: u.host, database: u.database })) {
    if (value === null) continue;
    if (/[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]/.test(value)) return `its ${field} has a line break, which an .ini value cannot hold.`;
    if (value !== value.trim()) return `its ${field} starts or ends with whitespace, which configparser strips.`;
  }
  return null;
}

/** A Python dict literal of str to str, as ast.literal_eval reads it. */
function pyDictLiteral(query: Record<string, string>): string {
  const str = (s: string) =>
    "'" +
    s.replace(/[\\']/g, "\\$&").replace(/[\x00-\x1f\x7f\u2028\u2029]/g, (ch) => "\\u" + ch.charCodeAt(0).toString(16).padStart(4, "0")) +
    "'";
  return "{" + Object.entries(query).map(([k, v]) => `${str(k)}: ${str(v)}`).join(", ") + "}";
}
