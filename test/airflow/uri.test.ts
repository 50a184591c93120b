/**
 * Airflow's URI form. Expected strings come from Airflow's own code: the cases marked
 * "Airflow's test" are copied from airflow-core/tests/unit/models/test_connection.py; the
 * others were produced by Connection.get_uri() / _parse_from_uri() (airflow/models/connection.py)
 * on CPython 3.11, with the reasoning in the comment.
 */
import { listAdapters } from "../../src/adapters/registry";
import { describe, expect, it } from "vitest";
import { AirflowFormatError } from "../../src/airflow/errors";
import type { PortableConnection } from "../../src/airflow/types";
import { airflowUri, fromAirflowUri, toAirflowUri } from "../../src/airflow/uri";
import { CONNECTIONS, EXPECTED_URIS, HOSTILE_PASSWORD } from "./fixtures";

type Fields = Omit<PortableConnection, "name" | "description">;
const conn = (fields: Partial<Fields> & { type: string }): Fields => ({
  host: null,
  port: null,
  schema: null,
  login: null,
  password: null,
  extra: {},
  ...fields,
});
const fieldsOf = (p: ReturnType<typeof fromAirflowUri>) => ({
  host: p.host,
  port: p.port,
  schema: p.schema,
  login: p.login,
  password: p.password,
  extra: p.extra,
});

describe("toAirflowUri: what Connection.get_uri() writes", () => {
  it("matches Airflow's test cases", () => {
    // Airflow's test: flat string extras are urlencoded.
    expect(
      airflowUri("type", conn({ type: "x", login: "user", password: "pass", host: "host", port: 100, schema: "schema", extra: { param1: "val1", param2: "val2" } })),
    ).toBe("type://user:pass@host:100/schema?param1=val1&param2=val2");
    // Airflow's test: the host's protocol goes before the authority.
    expect(airflowUri("type", conn({ type: "x", host: "protocol://host", port: 100, schema: "schema", extra: { param1: "val1", param2: "val2" } }))).toBe(
      "type://protocol://host:100/schema?param1=val1&param2=val2",
    );
    expect(
      airflowUri("type", conn({ type: "x", login: "user", password: "pass", host: "protocol://host", port: 100, schema: "schema", extra: { param1: "val1", param2: "val2" } })),
    ).toBe("type://protocol://user:pass@host:100/schema?param1=val1&param2=val2");
    // Airflow's test: non-string extras go whole, as json.dumps, under __extra__, after "/?".
    expect(airflowUri("type", conn({ type: "x", host: "host", extra: { bool_param: true, int_param: 123, float_param: 1.5, list_param: [1, 2] } }))).toBe(
      "type://host/?__extra__=%7B%22bool_param%22%3A+true%2C+%22int_param%22%3A+123%2C+%22float_param%22%3A+1.5%2C+%22list_param%22%3A+%5B1%2C+2%5D%7D",
    );
  });

  it("writes the fixture connections exactly", () => {
    for (const c of CONNECTIONS) expect(toAirflowUri(c), c.name).toBe(EXPECTED_URIS[c.name]);
  });

  it("quotes login, password, host and schema with nothing safe", () => {
    // quote("etl@corp", safe="") etc.; the host and schema use the same quote().
    expect(toAirflowUri(conn({ type: "mssql", host: "sql.example.com", port: 1433, schema: "My DB", login: "DOMAIN\\user", password: "p" }))).toBe(
      "mssql://DOMAIN%5Cuser:p@sql.example.com:1433/My%20DB",
    );
  });

  it("urlencodes flat extras with quote_plus", () => {
    // urlencode(): spaces become "+", "+" "&" "=" are escaped, UTF-8 for the rest.
    expect(
      toAirflowUri(
        conn({
          type: "smtp",
          host: "smtp.example.com",
          port: 587,
          login: "me@example.com",
          password: "app pass",
          extra: { from_email: "Ünïcode <me@example.com>", note: "a&b=c+d e" },
        }),
      ),
    ).toBe(
      "smtp://me%40example.com:app%20pass@smtp.example.com:587/?from_email=%C3%9Cn%C3%AFcode+%3Cme%40example.com%3E&note=a%26b%3Dc%2Bd+e",
    );
  });

  it("uses __extra__ as soon as one value is not a string", () => {
    // urlencode({"db": 0, "ssl": False}) does not parse back equal, so get_uri falls back.
    expect(toAirflowUri(conn({ type: "redis", host: "cache", port: 6379, extra: { db: 0, ssl: false } }))).toBe(
      "redis://cache:6379/?__extra__=%7B%22db%22%3A+0%2C+%22ssl%22%3A+false%7D",
    );
  });

  it("handles the authority corner cases as get_uri does", () => {
    // A port with neither host nor login/password: "@:port".
    expect(toAirflowUri(conn({ type: "generic", port: 8080 }))).toBe("generic://@:8080");
    // A password without login still gets its ":" and "@".
    expect(toAirflowUri(conn({ type: "postgres", host: "h", password: "x" }))).toBe("postgres://:x@h");
    // An empty login alone writes nothing; an empty password is kept.
    expect(toAirflowUri(conn({ type: "postgres", host: "h", login: "" }))).toBe("postgres://h");
    expect(toAirflowUri(conn({ type: "postgres", host: "h", login: "u", password: "" }))).toBe("postgres://u:@h");
    // An empty extra writes no query; port 0 is not written (`if self.port`).
    expect(toAirflowUri(conn({ type: "postgres", host: "h", port: 0, extra: {} }))).toBe("postgres://h");
  });

  it("quotes a host whose protocol equals the conn_type, so that Airflow can read it back", () => {
    // Airflow main: `if protocol == self.conn_type: host_to_use = self.host` (whole host quoted).
    expect(toAirflowUri(conn({ type: "http", host: "http://api.example.com", extra: { timeout: "30" } }))).toBe(
      "http://http%3A%2F%2Fapi.example.com/?timeout=30",
    );
  });
});

describe("fromAirflowUri: what Connection._parse_from_uri() reads", () => {
  it.each([
    // Airflow's tests
    ["type://user:pass@host:100/schema", { host: "host", port: 100, schema: "schema", login: "user", password: "pass", extra: {} }],
    ["type://user:pass@host/schema?param1=val1&param2=val2", { host: "host", port: null, schema: "schema", login: "user", password: "pass", extra: { param1: "val1", param2: "val2" } }],
    ["type://host", { host: "host", port: null, schema: null, login: null, password: null, extra: {} }],
    [
      "spark://mysparkcluster.com:80?deploy-mode=cluster&spark_binary=command&namespace=kube+namespace",
      { host: "mysparkcluster.com", port: 80, schema: null, login: null, password: null, extra: { "deploy-mode": "cluster", spark_binary: "command", namespace: "kube namespace" } },
    ],
    ["spark://k8s://100.68.0.1:443?deploy-mode=cluster", { host: "k8s://100.68.0.1", port: 443, schema: null, login: null, password: null, extra: { "deploy-mode": "cluster" } }],
    ["type://protocol://user:pass@host:123?param=value", { host: "protocol://host", port: 123, schema: null, login: "user", password: "pass", extra: { param: "value" } }],
    ["type://host?__extra__=%7B%22foo%22%3A+%22bar%22%7D", { host: "host", port: null, schema: null, login: null, password: null, extra: { foo: "bar" } }],
  ])("%s", (uri, expected) => {
    expect(fieldsOf(fromAirflowUri(uri))).toEqual(expected);
  });

  it("rejects a user before the host's protocol, as Airflow's test expects", () => {
    expect(() => fromAirflowUri("type://user:pass@protocol://host:port?param=value")).toThrow(
      "Invalid connection string: type://***@protocol://host:port?param=value.",
    );
  });

  it("lower-cases the scheme and the host name (urlsplit), decodes everything, keeps the last repeated key", () => {
    const parsed = fromAirflowUri("POSTGRES://User:P%40ss@DB.Example.COM:5432/Mixed%2FCase?a=1&a=2");
    expect(parsed.airflowType).toBe("postgres");
    expect(fieldsOf(parsed)).toEqual({ host: "db.example.com", port: 5432, schema: "Mixed/Case", login: "User", password: "P@ss", extra: { a: "2" } });
  });

  it("keeps a host that decodes to a path, and an empty password", () => {
    // _parse_netloc_to_hostname: a "/" in the host means the raw netloc is used (no lower-casing).
    expect(fromAirflowUri("postgres://%2Fvar%2Frun%2Fpostgresql/db").host).toBe("/var/run/postgresql");
    expect(fromAirflowUri("mysql://u:@h/?__extra__=%7B%22ssl%22%3A+%7B%22ca%22%3A+%22%2Fca.pem%22%7D%7D")).toMatchObject({
      login: "u",
      password: "",
      extra: { ssl: { ca: "/ca.pem" } },
    });
    expect(fieldsOf(fromAirflowUri("generic://@:8080"))).toMatchObject({ host: null, port: 8080, login: null });
  });

  it("keeps a __proto__ query key as a plain extra key", () => {
    const extra = fromAirflowUri("generic://h/?__proto__=x&a=1").extra;
    expect(Object.keys(extra)).toEqual(["__proto__", "a"]);
    expect(Object.getPrototypeOf(extra)).toBe(Object.prototype);
  });

  it("normalises the conn type and maps it", () => {
    const gcp = fromAirflowUri("google-cloud-platform://?extra__google_cloud_platform__key_path=%2Fkeys%2Fkey.json");
    expect(gcp.airflowType).toBe("google_cloud_platform");
    expect(gcp.type).toBe("gcs");
    expect(gcp.extra).toEqual({ extra__google_cloud_platform__key_path: "/keys/key.json" });
    expect(fromAirflowUri("postgresql://h/db")).toMatchObject({ airflowType: "postgres", type: "postgres" });
    expect(fromAirflowUri("package-index://h")).toMatchObject({ airflowType: "package_index", type: "package_index" });
    expect(fromAirflowUri("aws://")).toMatchObject({ airflowType: "aws", type: "s3", host: null });
  });

  it.each([
    ["postgres://h:12a/db", "port", "Port could not be cast to integer value"],
    ["postgres://h:70000/db", "port", "Port out of range 0-65535"],
    ["a://b://c://d", "uri", "Invalid connection string"],
    ["//host/db", "uri", "no connection type"],
    ["localhost/db", "uri", "no connection type"],
    ["5432:host", "uri", "no connection type"],
    ["postgres://h/?__extra__=%5B1%5D", "extra", "extra must be a JSON object"],
    ["postgres://h/?__extra__=nope", "extra", "extra is not valid JSON"],
    ["postgres://[::1/db", "uri", "Invalid IPv6 URL"],
  ])("rejects %s", (uri, field, message) => {
    let error: unknown;
    try {
      fromAirflowUri(uri);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AirflowFormatError);
    expect((error as AirflowFormatError).field).toBe(field);
    expect((error as AirflowFormatError).message).toContain(message);
  });

  it("never puts a password in an error message", () => {
    expect(() => fromAirflowUri("x://user:hunter2@a://b://c")).toThrow(/^(?!.*hunter2)/);
    try {
      fromAirflowUri("x://user:hunter2@a://b://c");
    } catch (e) {
      expect((e as Error).message).not.toContain("hunter2");
    }
  });
});

describe("round trips through the URI", () => {
  // Every registered type, so a new one is round-tripped without editing this list.
  const TYPES = listAdapters().map((adapter) => adapter.id);
  const hostile: Fields[] = [
    { type: "", host: "db.example.com", port: 5432, schema: "db/with/slash", login: "user@example.com", password: HOSTILE_PASSWORD, extra: {} },
    { type: "", host: "10.0.0.1", port: null, schema: "ünï cödé", login: "a:b@c", password: " leading and trailing ", extra: { k: "v & w = x + y?#", "spaced key": "ü" } },
    { type: "", host: null, port: 1, schema: null, login: null, password: "%%%", extra: { nested: { a: [1, "two", null] }, flag: true } },
    { type: "", host: "[weird]host%2F", port: null, schema: "?#[]", login: "", password: "", extra: { "": "" } },
    { type: "", host: "https://api.example.com", port: 8443, schema: "v1", login: "token", password: "t:o/k", extra: { timeout: "30" } },
  ];

  for (const type of TYPES) {
    it(`keeps every field of a ${type} connection`, () => {
      for (const c of hostile) {
        const original = { ...c, type };
        const parsed = fromAirflowUri(toAirflowUri(original));
        expect(parsed.type).toBe(type);
        expect(fieldsOf(parsed)).toEqual({
          host: original.host,
          port: original.port,
          schema: original.schema,
          // An empty login is written as nothing, like no login.
          login: original.login || null,
          password: original.password,
          extra: original.extra,
        });
      }
    });
  }

  it("loses only the case of a host name, as Airflow does (urlsplit lower-cases it)", () => {
    const parsed = fromAirflowUri(toAirflowUri(conn({ type: "postgres", host: "DB.Example.com" })));
    expect(parsed.host).toBe("db.example.com");
  });

  it("keeps a host whose protocol equals the conn type", () => {
    expect(fromAirflowUri(toAirflowUri(conn({ type: "http", host: "http://api.example.com" }))).host).toBe("http://api.example.com");
  });
});
