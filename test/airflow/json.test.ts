/**
 * Airflow's JSON form: written as `_connection_to_dict` (airflow connections export), read as
 * `Connection.from_json` (airflow/models/connection.py).
 */
import { describe, expect, it } from "vitest";
import { AirflowFormatError } from "../../src/airflow/errors";
import { toAirflowConnectionDict } from "../../src/airflow/connection-dict";
import { fromAirflowJson, toAirflowJson } from "../../src/airflow/json";
import { CONNECTIONS, HOSTILE_PASSWORD } from "./fixtures";

const prod = CONNECTIONS.find((c) => c.name === "prod_db")!;
const mongo = CONNECTIONS.find((c) => c.name === "mongo_main")!;

function fieldError(run: () => unknown): AirflowFormatError {
  try {
    run();
  } catch (e) {
    if (e instanceof AirflowFormatError) return e;
    throw e;
  }
  throw new Error("expected an AirflowFormatError");
}

describe("toAirflowJson", () => {
  it("writes _connection_to_dict: Airflow's conn_type, extra as Airflow's stored JSON string", () => {
    expect(toAirflowJson(mongo)).toEqual({
      conn_type: "mongo",
      description: null,
      login: "root",
      password: "pw",
      host: "mongo.local",
      port: 27017,
      schema: "admin",
      // json.dumps({"ssl": True, "options": {"replicaSet": "rs0"}})
      extra: '{"ssl": true, "options": {"replicaSet": "rs0"}}',
    });
    expect(Object.keys(toAirflowJson(prod))).toEqual(["conn_type", "description", "login", "password", "host", "port", "schema", "extra"]);
  });

  it("writes no extra as null", () => {
    expect(toAirflowJson({ ...prod, extra: {} }).extra).toBeNull();
  });
});

describe("toAirflowConnectionDict", () => {
  it("gives Connection.as_json()'s shape, extra as an object, which from_json reads back", () => {
    const dict = toAirflowConnectionDict(mongo);
    expect(dict).toEqual({
      conn_type: "mongo",
      description: null,
      host: "mongo.local",
      login: "root",
      password: "pw",
      schema: "admin",
      port: 27017,
      extra: { ssl: true, options: { replicaSet: "rs0" } },
    });
    expect(fromAirflowJson(dict)).toMatchObject({ type: "mongodb", extra: dict.extra, port: 27017 });
  });
});

describe("fromAirflowJson", () => {
  it("reads extra as a JSON string or as an object", () => {
    const base = { conn_type: "postgres", host: "h", login: "u", password: HOSTILE_PASSWORD, schema: "db", port: 5432 };
    expect(fromAirflowJson({ ...base, extra: '{"sslmode": "require"}' }).extra).toEqual({ sslmode: "require" });
    expect(fromAirflowJson({ ...base, extra: { sslmode: "require" } }).extra).toEqual({ sslmode: "require" });
    for (const none of [null, "", {}, undefined]) expect(fromAirflowJson({ ...base, extra: none }).extra).toEqual({});
  });

  it("reads a port as a number or a numeric string", () => {
    expect(fromAirflowJson({ conn_type: "mysql", port: "3306" }).port).toBe(3306);
    expect(fromAirflowJson({ conn_type: "mysql", port: 3306 }).port).toBe(3306);
    expect(fromAirflowJson({ conn_type: "mysql", port: null }).port).toBeNull();
    expect(fromAirflowJson({ conn_type: "mysql", port: "" }).port).toBeNull();
  });

  it("normalises the conn type like from_json and maps it", () => {
    expect(fromAirflowJson({ conn_type: "postgresql" })).toMatchObject({ airflowType: "postgres", type: "postgres" });
    expect(fromAirflowJson({ conn_type: "aws" })).toMatchObject({ airflowType: "aws", type: "s3" });
    expect(fromAirflowJson({ conn_type: "google-cloud-platform" })).toMatchObject({ airflowType: "google_cloud_platform", type: "gcs" });
    expect(fromAirflowJson({ conn_type: "snowflake" })).toMatchObject({ airflowType: "snowflake", type: null });
  });

  it.each([
    [{ conn_type: "mysql", port: "33o6" }, "port", "Expected integer value for `port`"],
    [{ conn_type: "mysql", port: 3306.5 }, "port", "Expected integer value for `port`"],
    [{ conn_type: "mysql", port: 70000 }, "port", "range 0-65535"],
    [{ host: "h" }, "conn_type", "conn_type is required"],
    [{ conn_type: "mysql", host: 5 }, "host", "host must be a string"],
    [{ conn_type: "mysql", password: 1234 }, "password", "password must be a string"],
    [{ conn_type: "mysql", extra: "[1]" }, "extra", "extra must be a JSON object"],
    [{ conn_type: "mysql", extra: "{nope" }, "extra", "not valid JSON"],
    [{ conn_type: "mysql", extra: [1] }, "extra", "extra must be a JSON object"],
    [{ conn_type: "mysql", colour: "red" }, "colour", 'Unknown key(s) "colour"'],
  ])("rejects %j naming %s", (value, field, message) => {
    const error = fieldError(() => fromAirflowJson(value));
    expect(error.field).toBe(field);
    expect(error.message).toContain(message);
  });

  it("rejects what is not an object", () => {
    expect(fieldError(() => fromAirflowJson("postgres://h")).field).toBe("json");
  });

  it("round-trips every fixture connection", () => {
    for (const c of CONNECTIONS) {
      const back = fromAirflowJson(JSON.parse(JSON.stringify(toAirflowJson(c))));
      expect(back).toEqual({
        type: c.type,
        airflowType: toAirflowJson(c).conn_type,
        description: c.description,
        host: c.host,
        port: c.port,
        schema: c.schema,
        login: c.login,
        password: c.password,
        extra: c.extra,
      });
    }
  });
});
