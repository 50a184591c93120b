/**
 * Connection files as `airflow connections export` writes them and as the local-filesystem
 * secrets backend (`airflow connections import`) reads them. The fixture exports were written
 * by Airflow's own export code path (see fixtures.ts).
 */
import { describe, expect, it } from "vitest";
import { AirflowFormatError } from "../../src/airflow/errors";
import { exportConnections, parseConnectionsFile, type ParsedEntry } from "../../src/airflow/files";
import type { AirflowFileFormat, PortableConnection } from "../../src/airflow/types";
import { AIRFLOW_EXPORT_ENV, AIRFLOW_EXPORT_JSON, AIRFLOW_EXPORT_YAML, CONNECTIONS, secretExtraKeys } from "./fixtures";

const FORMATS: AirflowFileFormat[] = ["AIRFLOW_JSON", "AIRFLOW_YAML", "AIRFLOW_ENV"];
const EXPORTS: Record<AirflowFileFormat, string> = {
  AIRFLOW_JSON: AIRFLOW_EXPORT_JSON,
  AIRFLOW_YAML: AIRFLOW_EXPORT_YAML,
  AIRFLOW_ENV: AIRFLOW_EXPORT_ENV,
};

const byName = (entries: ParsedEntry[]) => Object.fromEntries(entries.map((e) => [e.name, e]));
const asPortable = (e: ParsedEntry): PortableConnection => {
  const { airflowType: _airflowType, type, ...rest } = e.connection!;
  return { ...rest, type: type! };
};

describe("exportConnections", () => {
  it.each(FORMATS)("writes %s exactly as airflow connections export", (format) => {
    expect(exportConnections(CONNECTIONS, format, { includeSecrets: true, secretExtraKeys })).toBe(EXPORTS[format]);
  });

  it("writes an empty export as Airflow does", () => {
    const options = { includeSecrets: true, secretExtraKeys };
    expect(exportConnections([], "AIRFLOW_JSON", options)).toBe("{}");
    expect(exportConnections([], "AIRFLOW_YAML", options)).toBe("{}\n");
    expect(exportConnections([], "AIRFLOW_ENV", options)).toBe("");
  });

  it("orders by conn_id even when a conn_id looks like an integer", () => {
    const conns = ["abc", "123", "0x"].map((name) => ({ ...CONNECTIONS[4], name }));
    const json = exportConnections(conns, "AIRFLOW_JSON", { includeSecrets: true, secretExtraKeys });
    expect([...json.matchAll(/^ {2}"([^"]+)": \{$/gm)].map((m) => m[1])).toEqual(["0x", "123", "abc"]);
    // YAML quotes the one that would read back as an int.
    const yaml = exportConnections(conns, "AIRFLOW_YAML", { includeSecrets: true, secretExtraKeys });
    expect(yaml.split("\n").filter((l) => !l.startsWith(" ") && l)).toEqual(["0x:", "'123':", "abc:"]);
  });

  describe("without secrets", () => {
    const MARK = "Zq9xSECRET";
    const conns = CONNECTIONS.map((c) => ({ ...c, password: c.password === null ? null : `${MARK}/${c.name} :@` }));

    it.each(FORMATS)("%s holds no password and no secret extra key", (format) => {
      const stub = exportConnections(conns, format, { includeSecrets: false, secretExtraKeys });
      expect(stub).not.toContain(MARK);
      expect(stub).not.toContain("FQoGZXIvYXdzE");
      expect(stub).not.toContain("aws_session_token");
      // ...but keeps everything else.
      expect(stub).toContain("AKIAIOSFODNN7EXAMPLE");
      expect(stub).toContain("region_name");
    });

    it("writes the stub as Airflow would write the same connection without a password", () => {
      const env = exportConnections(conns, "AIRFLOW_ENV", { includeSecrets: false, secretExtraKeys });
      // get_uri() with password None and the session token removed from extra.
      expect(env).toContain("\nlake=aws://AKIAIOSFODNN7EXAMPLE@/?region_name=eu-west-1&endpoint_url=http%3A%2F%2Fminio%3A9000&bucket=raw\n");
      const json = JSON.parse(exportConnections(conns, "AIRFLOW_JSON", { includeSecrets: false, secretExtraKeys }));
      expect(json.lake.password).toBeNull();
      expect(JSON.parse(json.lake.extra)).toEqual({ region_name: "eu-west-1", endpoint_url: "http://minio:9000", bucket: "raw" });
    });
  });
});

describe("parseConnectionsFile", () => {
  it.each(FORMATS)("reads Airflow's %s export back into the same connections", (format) => {
    const entries = parseConnectionsFile(EXPORTS[format], format);
    expect(entries.every((e) => !e.error)).toBe(true);
    const parsed = byName(entries);
    for (const c of CONNECTIONS) {
      // A URI has no description, so the .env form cannot carry one.
      const expected = format === "AIRFLOW_ENV" ? { ...c, description: null } : c;
      expect(asPortable(parsed[c.name]), `${format} ${c.name}`).toEqual(expected);
    }
    expect(parsed.lake.airflowType).toBe("aws");
    expect(parsed.pypi_mirror.airflowType).toBe("package_index");
  });

  it("reads the JSON file of Airflow's local-filesystem backend docs", () => {
    const content = `{
    "CONN_A": "mysql://host_a",
    "CONN_B": {
        "conn_type": "scheme",
        "host": "host",
        "schema": "schema",
        "login": "Login",
        "password": "None",
        "port": "1234"
    }
}`;
    const parsed = byName(parseConnectionsFile(content, "AIRFLOW_JSON"));
    expect(parsed.CONN_A.connection).toMatchObject({ type: "mysql", host: "host_a" });
    expect(parsed.CONN_B).toMatchObject({ airflowType: "scheme", connection: { type: null, host: "host", schema: "schema", login: "Login", password: "None", port: 1234 } });
  });

  it("reads the YAML file of Airflow's docs: URI, one-element list, object with extra_dejson", () => {
    const content = `CONN_A: 'mysql://host_a'

CONN_B:
  - 'mysql://host_b'

CONN_C:
  conn_type: scheme
  host: host
  schema: lschema
  login: Login
  password: None
  port: 1234
  extra_dejson:
    a: b
    nestedblock_dict:
      x: y
`;
    const parsed = byName(parseConnectionsFile(content, "AIRFLOW_YAML"));
    expect(parsed.CONN_A.connection?.host).toBe("host_a");
    expect(parsed.CONN_B.connection?.host).toBe("host_b");
    expect(parsed.CONN_C.connection).toMatchObject({ port: 1234, extra: { a: "b", nestedblock_dict: { x: "y" } } });
  });

  it("reads a .env file: comments and blank lines skipped, URI or JSON values", () => {
    const content = [
      "# Airflow connections",
      "mysql_conn_id=mysql://log:password@13.1.21.1:3306/mysqldbrd",
      "",
      "   # an indented comment",
      "google_custom_key=google-cloud-platform://?extra__google_cloud_platform__key_path=%2Fkeys%2Fkey.json",
      'json_conn={"conn_type": "postgres", "host": "pg", "port": "5432", "extra": {"sslmode": "require"}}',
      "",
    ].join("\r\n");
    const entries = parseConnectionsFile(content, "AIRFLOW_ENV");
    expect(entries.map((e) => e.name)).toEqual(["mysql_conn_id", "google_custom_key", "json_conn"]);
    const parsed = byName(entries);
    expect(parsed.mysql_conn_id.connection).toMatchObject({ type: "mysql", host: "13.1.21.1", port: 3306, login: "log", password: "password", schema: "mysqldbrd" });
    expect(parsed.google_custom_key).toMatchObject({ airflowType: "google_cloud_platform", connection: { type: "gcs" } });
    expect(parsed.json_conn.connection).toMatchObject({ type: "postgres", host: "pg", port: 5432, extra: { sslmode: "require" } });
  });

  it("reports a conn_id given twice in a .env file, as Airflow's ConnectionNotUnique", () => {
    const entries = parseConnectionsFile("a=postgres://h1\nb=postgres://h\na=postgres://h2\n", "AIRFLOW_ENV");
    expect(byName(entries).a).toEqual({ name: "a", error: "Found multiple values for a (lines 1, 3)." });
    expect(byName(entries).b.connection?.host).toBe("h");
  });

  it("reports repeated keys in JSON and YAML too, instead of keeping the last silently", () => {
    expect(byName(parseConnectionsFile('{"a": "postgres://h1", "a": "postgres://h2"}', "AIRFLOW_JSON")).a.error).toContain("multiple values");
    expect(byName(parseConnectionsFile("a: postgres://h1\na: postgres://h2\n", "AIRFLOW_YAML")).a.error).toContain("multiple values");
  });

  it("reports bad entries one by one and never echoes a secret", () => {
    const content = JSON.stringify({
      good: "postgres://u:pw@h/db",
      bad_port: "postgres://u:hunter2@h:99999/db",
      "bad name!": "postgres://h",
      number: 5,
      two: ["postgres://a", "postgres://b"],
      mismatch: { conn_id: "other", conn_type: "postgres" },
      mixed: { uri: "postgres://h", host: "h2" },
      both_extras: { conn_type: "postgres", extra: "{}", extra_dejson: {} },
      illegal: { conn_type: "postgres", colour: "red" },
      bad_extra: { conn_type: "postgres", extra: "[1, 2]" },
      no_type: { host: "h" },
      uri_and_description: { uri: "mysql://h/db", description: "kept" },
    });
    const parsed = byName(parseConnectionsFile(content, "AIRFLOW_JSON"));
    expect(parsed.good.connection?.password).toBe("pw");
    expect(parsed.bad_port.error).toBe("Port out of range 0-65535");
    expect(parsed["bad name!"].error).toContain("conn_id must be");
    expect(parsed.number.error).toContain("Unexpected value type");
    expect(parsed.two.error).toContain("multiple values");
    expect(parsed.mismatch.error).toContain("Mismatch conn_id");
    expect(parsed.mixed.error).toContain("either uri or the individual values");
    expect(parsed.both_extras.error).toContain("mutually exclusive");
    expect(parsed.illegal.error).toContain('"colour"');
    expect(parsed.bad_extra.error).toContain("extra must be a JSON object");
    expect(parsed.no_type.error).toContain("conn_type is required");
    expect(parsed.uri_and_description.connection).toMatchObject({ type: "mysql", description: "kept", schema: "db" });
    for (const e of Object.values(parsed)) expect(e.error ?? "").not.toContain("hunter2");
  });

  it("reads YAML as PyYAML's safe_load does: YAML 1.1 values, PyYAML's own patterns", () => {
    const content = [
      "a:",
      "  conn_type: postgres",
      "  password: yes", // a bool for PyYAML: Airflow could not use it as a password either
      "b:",
      "  conn_type: postgres",
      "  schema: '0123'",
      "  login: y", // a str for PyYAML (its bool pattern has no y/n), unlike YAML 1.1's spec
      "  host: 1e3", // a str for PyYAML (its floats need a dot)
      "  port: 0x1F90", // an int: 8080
      "123: postgres://h", // an int key
      "defaults: &defaults",
      "  conn_type: mysql",
      "  host: db",
      "merged:",
      "  <<: *defaults",
      "  schema: app",
      "",
    ].join("\n");
    const parsed = byName(parseConnectionsFile(content, "AIRFLOW_YAML"));
    expect(parsed.a.error).toBe("password must be a string or null.");
    expect(parsed.b.connection).toMatchObject({ schema: "0123", login: "y", host: "1e3", port: 8080 });
    expect(parsed["123"].error).toContain("not a string");
    expect(parsed.merged.connection).toMatchObject({ type: "mysql", host: "db", schema: "app" });
  });

  it.each([
    ["", "AIRFLOW_JSON", "The file is empty."],
    ["[1]", "AIRFLOW_JSON", "The file should contain the object."],
    ['{"a": ', "AIRFLOW_JSON", "not valid JSON"],
    ["", "AIRFLOW_YAML", "The file is empty."],
    ["- a\n- b\n", "AIRFLOW_YAML", "The file should contain the object."],
    ["a: [1,\n", "AIRFLOW_YAML", "not valid YAML"],
    ["ok=postgres://h\nno equals sign\n=value\nkey=\n", "AIRFLOW_ENV", 'line 2: Invalid line format. The line should contain at least one equal sign ("=").; line 3: Invalid line format. Key is empty.; line 4: Invalid line format. Value is empty.'],
  ] as const)("throws for a file that does not parse: %j (%s)", (content, format, message) => {
    expect(() => parseConnectionsFile(content, format)).toThrow(AirflowFormatError);
    expect(() => parseConnectionsFile(content, format)).toThrow(message);
  });
});

describe("hostile YAML", () => {
  it("refuses an alias bomb instead of expanding it", () => {
    const levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i <= 7; i++) levels.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
    const bomb = `${levels.join("\n")}\nconn:\n  conn_type: postgres\n  extra: *a7\n`;
    expect(() => parseConnectionsFile(bomb, "AIRFLOW_YAML")).toThrow(/more than 100000 values/);
  });
});
