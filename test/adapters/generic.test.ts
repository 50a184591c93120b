/** The generic type: Airflow's common fields, all optional, any extra, and no test. */
import { describe, expect, it } from "vitest";
import { genericAdapter } from "../../src/adapters/generic";
import { getAdapter, isSecretField, validateSettings } from "../../src/adapters/registry";
import type { ConnectionSettings } from "../../src/adapters/types";

function settings(overrides: Partial<ConnectionSettings> = {}): ConnectionSettings {
  return { host: null, port: null, schema: null, login: null, password: null, extra: {}, ...overrides };
}

describe("generic adapter", () => {
  it("is registered, has the common fields, all optional, and cannot be tested", () => {
    expect(getAdapter("generic")).toBe(genericAdapter);
    expect(genericAdapter.fields.map((field) => field.name)).toEqual(["host", "port", "schema", "login", "password"]);
    expect(genericAdapter.fields.every((field) => !field.required)).toBe(true);
    expect(genericAdapter.test).toBeUndefined();
    expect(isSecretField(genericAdapter, "password")).toBe(true);
  });

  it("accepts an empty connection and any extra", () => {
    expect(validateSettings(genericAdapter, settings())).toEqual([]);
    const extra = { region: "eu-west-1", nested: { retries: 3, tags: ["a", "b"] }, enabled: true };
    expect(validateSettings(genericAdapter, settings({ host: "api.example.com", port: 8443, login: "me", password: "pw", extra }))).toEqual([]);
  });

  it("still puts the host through the shared host check", () => {
    for (const host of ["/var/run/docker.sock", "https://api.example.com", "user@api.example.com", "api.example.com:8443"]) {
      expect(validateSettings(genericAdapter, settings({ host }))).toEqual([expect.objectContaining({ field: "host" })]);
    }
    expect(validateSettings(genericAdapter, settings({ port: 70000 }))).toEqual([expect.objectContaining({ field: "port" })]);
  });
});
