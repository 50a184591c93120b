import { describe, expect, it } from "vitest";
import { listAdapters } from "../../src/adapters/registry";
import { normalizeAirflowConnType, toAirflowType, toPatchbayType } from "../../src/airflow/conn-types";

describe("conn types", () => {
  it.each([
    ["postgres", "postgres"],
    ["postgresql", "postgres"],
    ["mysql", "mysql"],
    ["http", "http"],
    ["https", "http"],
    ["smtp", "smtp"],
    ["email", "smtp"],
    ["imap", "imap"],
    ["sqlite", "sqlite"],
    ["aws", "s3"],
    ["s3", "s3"],
    ["mssql", "mssql"],
    ["mongo", "mongodb"],
    ["mongodb", "mongodb"],
    ["redis", "redis"],
    ["generic", "generic"],
    ["package_index", "package_index"],
    // A URI scheme cannot hold "_": get_uri writes it as "-", _normalize_conn_type undoes that.
    ["package-index", "package_index"],
    ["google_cloud_platform", "gcs"],
    ["wasb", "azure_blob"],
  ])("Airflow %s is Patchbay %s", (airflow, patchbay) => {
    expect(toPatchbayType(airflow)).toBe(patchbay);
  });

  it("has no Patchbay type for other conn types, and does not fold case (Airflow does not)", () => {
    expect(toPatchbayType("snowflake")).toBeNull();
    expect(toPatchbayType("Postgres")).toBeNull();
    expect(toPatchbayType("toString")).toBeNull();
  });

  it("writes Airflow's conn types", () => {
    expect(toAirflowType("s3")).toBe("aws");
    expect(toAirflowType("mongodb")).toBe("mongo");
    for (const same of ["postgres", "mysql", "http", "smtp", "imap", "sqlite", "mssql", "redis", "generic", "package_index"]) {
      expect(toAirflowType(same)).toBe(same);
    }
  });

  it("reads every registered type back from the conn_type it writes, and from its own id", () => {
    for (const { id } of listAdapters()) {
      expect(toPatchbayType(toAirflowType(id))).toBe(id);
      expect(toPatchbayType(id)).toBe(id);
    }
  });

  it("normalises as Connection._normalize_conn_type", () => {
    expect(normalizeAirflowConnType("postgresql")).toBe("postgres");
    expect(normalizeAirflowConnType("google-cloud-platform")).toBe("google_cloud_platform");
    // Only the exact string "postgresql" is renamed.
    expect(normalizeAirflowConnType("postgresql-x")).toBe("postgresql_x");
  });
});
