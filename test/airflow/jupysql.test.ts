/**
 * JupySQL's connections.ini. JupySQL reads it with configparser.ConfigParser() (interpolation
 * on) and calls sqlalchemy URL.create(**section); the expected file below was read back with
 * CPython's configparser to the exact field values.
 */
import { describe, expect, it } from "vitest";
import { exportJupysqlIni } from "../../src/airflow/jupysql";
import type { PortableConnection } from "../../src/airflow/types";
import { CONNECTIONS } from "./fixtures";

const more: PortableConnection[] = [
  { name: "sock_pg", type: "postgres", description: null, host: "/var/run/postgresql", port: null, schema: "app", login: "me", password: "%(x)s 100%", extra: {} },
  { name: "sales", type: "mysql", description: null, host: "mysql.example.com", port: 3306, schema: "sales", login: "ro", password: "pa'ss\"; #x", extra: { ssl_mode: "REQUIRED" } },
  { name: "DEFAULT", type: "mysql", description: null, host: "h", port: null, schema: null, login: null, password: null, extra: {} },
  { name: "spacey", type: "mssql", description: null, host: "sql", port: 1433, schema: "db", login: "sa", password: " padded ", extra: {} },
  { name: "warehouse", type: "mssql", description: null, host: "::1", port: 1433, schema: "dw", login: "DOMAIN\\user", password: "", extra: {} },
];

describe("exportJupysqlIni", () => {
  it("writes one section per database connection, with URL.create's keys", () => {
    expect(exportJupysqlIni([...CONNECTIONS, ...more])).toBe(
      [
        "# DEFAULT is left out: configparser treats a section named DEFAULT as defaults for every section.",
        "",
        "[local_sqlite]",
        "drivername = sqlite",
        "database = /tmp/patchbay.db",
        "",
        "[prod_db]",
        "drivername = postgresql+psycopg2",
        "username = etl@corp",
        // "%" doubled for configparser's BasicInterpolation; everything else is literal.
        "password = p@ss:w/rd%%+?#&= \u00fc\u{1F600}",
        "host = db.internal",
        "port = 5432",
        "database = analytics",
        "query = {'sslmode': 'require'}",
        "",
        "[sales]",
        "drivername = mysql+pymysql",
        "username = ro",
        "password = pa'ss\"; #x",
        "host = mysql.example.com",
        "port = 3306",
        "database = sales",
        // ssl_mode REQUIRED, as PyMySQL takes it: TLS on, certificate not checked.
        "query = {'ssl_check_hostname': 'false'}",
        "",
        "[sock_pg]",
        "drivername = postgresql+psycopg2",
        "username = me",
        "password = %%(x)s 100%%",
        "database = app",
        // A socket directory cannot be a URL host; psycopg2 takes it as ?host=.
        "query = {'host': '/var/run/postgresql'}",
        "",
        "# spacey is left out: its password starts or ends with whitespace, which configparser strips.",
        "",
        "[warehouse]",
        "drivername = mssql+pymssql",
        "username = DOMAIN\\user",
        "password =",
        "host = ::1",
        "port = 1433",
        "database = dw",
        "",
      ].join("\n"),
    );
  });

  it("skips the types that are not databases", () => {
    const ini = exportJupysqlIni(CONNECTIONS);
    for (const name of ["api", "lake", "mongo_main", "pypi_mirror"]) expect(ini).not.toContain(`[${name}]`);
    expect(exportJupysqlIni([])).toBe("");
  });

  it("leaves the password out of a stub", () => {
    const ini = exportJupysqlIni(CONNECTIONS, { includeSecrets: false });
    expect(ini).not.toContain("password");
    expect(ini).toContain("[prod_db]\ndrivername = postgresql+psycopg2\nusername = etl@corp\nhost = db.internal\n");
  });

  it("leaves out a value with a line break", () => {
    const ini = exportJupysqlIni([{ ...more[1], password: "two\nlines" }]);
    expect(ini).toBe("# sales is left out: its password has a line break, which an .ini value cannot hold.\n");
  });
});
