/**
 * An environment's override as a form (web/src/connection-form/override-model.ts): the same
 * checks as the connection form, but an empty field falls back to the connection's value
 * (sent as null), an empty secret is kept (left out), Clear drops the override's secret, a
 * checkbox is a choice of three, and an override that would replace nothing is refused before
 * the server is asked. The browser test covers the page; these pin down each rule.
 */
import { describe, expect, it } from "vitest";
import type { TypeSpec } from "../../web/src/connection-form/model";
import { environmentProblem, overrideForm, toOverridePatch } from "../../web/src/connection-form/override-model";

const field = (spec: Partial<TypeSpec["fields"][number]> & { name: string; kind: TypeSpec["fields"][number]["kind"] }) => ({
  label: spec.name,
  required: false,
  secret: false,
  default: null,
  placeholder: null,
  description: null,
  options: null,
  ...spec,
});

// A made-up type: the model must not know any real one.
const WIDGET: TypeSpec = {
  id: "widget",
  label: "Widget",
  defaultPort: 7000,
  testable: true,
  fields: [
    field({ name: "host", label: "Host", kind: "STRING", required: true }),
    field({ name: "port", label: "Port", kind: "INTEGER" }),
    field({ name: "password", label: "Password", kind: "PASSWORD", secret: true }),
    field({ name: "extra.verify", label: "Verify", kind: "BOOLEAN", default: true }),
    field({ name: "extra.api_key", label: "API key", kind: "PASSWORD", secret: true }),
    field({ name: "extra.headers", label: "Headers", kind: "JSON" }),
  ],
};

const prod = {
  environment: "prod",
  host: null,
  port: 7443,
  schema: null,
  login: null,
  extra: { verify: false, custom: 1 },
  secretFields: ["password"],
  lastTest: null,
};

describe("an override's form", () => {
  it("starts from the override's own values only: empty where it falls back, secrets never filled in", () => {
    const state = overrideForm(prod, WIDGET);
    expect(state.values).toEqual({ host: "", port: "7443", password: "", "extra.verify": "false", "extra.api_key": "", "extra.headers": "" });
    expect(JSON.parse(state.otherExtra)).toEqual({ custom: 1 });
  });

  it("sends empty fields as null (the connection's value shows through) and leaves empty secrets out (kept)", () => {
    const state = overrideForm(prod, WIDGET);
    state.values.host = "prod.example.com";
    const { patch, errors } = toOverridePatch(state, WIDGET, prod);
    expect(errors).toEqual({});
    expect(patch).toEqual({ host: "prod.example.com", port: 7443, extra: { verify: false, custom: 1 } });
  });

  it("replaces a typed secret, drops a cleared one, and a checkbox left on the connection's value is not sent", () => {
    const state = overrideForm(prod, WIDGET);
    state.values["extra.verify"] = "";
    state.values["extra.api_key"] = "key-1";
    state.secrets.password = "clear";
    state.otherExtra = "";
    const { patch, errors } = toOverridePatch(state, WIDGET, prod);
    expect(errors).toEqual({});
    expect(patch).toEqual({ host: null, port: 7443, password: null, extra: { api_key: "key-1" } });
  });

  it("checks values as the connection form does, but requires none of them", () => {
    const state = overrideForm(null, WIDGET);
    state.values.port = "70x";
    state.values["extra.headers"] = "{nope";
    const { errors } = toOverridePatch(state, WIDGET, null);
    expect(errors).toEqual({ port: "Port must be a whole number.", "extra.headers": "Headers is not valid JSON." });
  });

  it("refuses an override that would replace nothing, before asking the server", () => {
    expect(toOverridePatch(overrideForm(null, WIDGET), WIDGET, null).errors.form).toMatch(/at least one field/);
    const cleared = overrideForm({ ...prod, port: null, extra: {} }, WIDGET);
    cleared.secrets.password = "clear";
    expect(toOverridePatch(cleared, WIDGET, prod).errors.form).toMatch(/Remove/);
  });

  it("checks environment names as the server does", () => {
    expect(environmentProblem("prod")).toBeNull();
    expect(environmentProblem("eu-west.1_b")).toBeNull();
    expect(environmentProblem("")).toMatch(/Name the environment/);
    for (const bad of ["not a name", "-dev", "x".repeat(65), "prod/1"]) expect(environmentProblem(bad), bad).not.toBeNull();
  });
});
