/**
 * SQLAlchemy URLs as URL.create(...).render_as_string(hide_password=False) renders them
 * (SQLAlchemy 2.0 engine/url.py): user and password quoted with safe=" +", host and database
 * as they are, query keys sorted and quote_plus'ed.
 */
import { describe, expect, it } from "vitest";
import { toSqlalchemyUrl } from "../../src/airflow/sqlalchemy";
import { CONNECTIONS } from "./fixtures";

const byName = Object.fromEntries(CONNECTIONS.map((c) => [c.name, c]));

describe("toSqlalchemyUrl", () => {
  it("renders PostgreSQL with the password quoted as SQLAlchemy quotes it", () => {
    // quote("p@ss:w/rd%+?#&= ü😀", safe=" +"): the space and "+" stay, the rest is encoded.
    expect(toSqlalchemyUrl(byName.prod_db)).toBe(
      "postgresql+psycopg2://etl%40corp:p%40ss%3Aw%2Frd%25+%3F%23%26%3D %C3%BC%F0%9F%98%80@db.internal:5432/analytics?sslmode=require",
    );
  });

  it("renders MySQL, SQL Server and SQLite with drivers that need nothing else", () => {
    const base = { description: null, extra: {}, name: "x" };
    expect(toSqlalchemyUrl({ ...base, type: "mysql", host: "mysql.example.com", port: 3306, schema: "sales", login: "ro", password: "secret" })).toBe(
      "mysql+pymysql://ro:secret@mysql.example.com:3306/sales",
    );
    expect(toSqlalchemyUrl({ ...base, type: "mssql", host: "::1", port: 1433, schema: "dw", login: "DOMAIN\\user", password: "" })).toBe(
      "mssql+pymssql://DOMAIN%5Cuser:@[::1]:1433/dw",
    );
    // Airflow's SQLite connection keeps the file path in host (SqliteHook).
    expect(toSqlalchemyUrl(byName.local_sqlite)).toBe("sqlite:////tmp/patchbay.db");
    expect(toSqlalchemyUrl({ ...byName.local_sqlite, host: null })).toBe("sqlite://");
  });

  it("moves a PostgreSQL socket directory to ?host=, and leaves out what is not set", () => {
    expect(toSqlalchemyUrl({ ...byName.prod_db, host: "/var/run/postgresql", port: null, extra: {} })).toBe(
      "postgresql+psycopg2://etl%40corp:p%40ss%3Aw%2Frd%25+%3F%23%26%3D %C3%BC%F0%9F%98%80@/analytics?host=%2Fvar%2Frun%2Fpostgresql",
    );
    expect(toSqlalchemyUrl({ ...byName.prod_db, login: null, password: "ignored", schema: null, extra: {} })).toBe("postgresql+psycopg2://db.internal:5432");
  });

  it("is null for types that are not databases", () => {
    for (const name of ["api", "lake", "mongo_main", "pypi_mirror"]) expect(toSqlalchemyUrl(byName[name])).toBeNull();
  });
});
