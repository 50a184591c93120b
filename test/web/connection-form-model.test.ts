/**
 * The New/Edit form's model, built from connection type specs alone: what it sends for a new
 * connection, and the minimal patch for an edit (secrets kept, replaced or cleared; extras sent
 * whole when any changed; an untouched checkbox is not a change). The browser tests cover the
 * same through the page; these pin down each rule on its own.
 */
import { describe, expect, it } from "vitest";
import { editForm, firstSecretLabel, hintFor, newForm, retypeEditForm, toInput, toPatch, type TypeSpec } from "../../web/src/connection-form/model";

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
    field({ name: "login", label: "User", kind: "STRING" }),
    field({ name: "password", label: "Password", kind: "PASSWORD", secret: true }),
    field({ name: "extra.mode", label: "Mode", kind: "SELECT", options: ["a", "b"], default: "a" }),
    field({ name: "extra.verify", label: "Verify", kind: "BOOLEAN", default: true }),
    field({ name: "extra.api_key", label: "API key", kind: "PASSWORD", secret: true }),
    field({ name: "extra.headers", label: "Headers", kind: "JSON" }),
  ],
};

const GADGET: TypeSpec = {
  id: "gadget",
  label: "Gadget",
  defaultPort: 9000,
  testable: false,
  fields: [field({ name: "host", label: "Host", kind: "STRING" }), field({ name: "port", label: "Port", kind: "INTEGER" })],
};

const stored = {
  id: "c1",
  name: "w1",
  type: "widget",
  description: null,
  host: "w.example.com",
  port: 7000,
  schema: null,
  login: "bot",
  extra: { mode: "b", imported_key: "kept" },
  secretFields: ["password", "extra.api_key"],
  version: 3,
  updatedAt: "2026-01-01T00:00:00Z",
  lastUsedAt: null,
  lastTest: null,
};

describe("a new connection", () => {
  it("starts from the type's defaults and sends typed values, secrets only when typed", () => {
    const state = newForm(WIDGET);
    expect(state.values).toMatchObject({ port: "7000", "extra.mode": "a", "extra.verify": true, password: "" });
    state.name = "w1";
    state.values = { ...state.values, host: " w.example.com ", login: "", "extra.headers": '{"A": "1"}' };
    const { input, errors } = toInput(state, WIDGET);
    expect(errors).toEqual({});
    expect(input).toEqual({
      name: "w1",
      type: "widget",
      description: null,
      host: "w.example.com",
      port: 7000,
      login: null,
      extra: { mode: "a", verify: true, headers: { A: "1" } },
    });
  });

  it("collects every problem it can see before asking the server", () => {
    const state = newForm(WIDGET);
    state.values = { ...state.values, host: "", port: "70.5", "extra.headers": "{not json" };
    expect(toInput(state, WIDGET).errors).toEqual({
      name: "Give the connection a name.",
      host: "Host is required.",
      port: "Port must be a whole number.",
      "extra.headers": "Headers is not valid JSON.",
    });
  });

  it("keeps what was typed into a field of the same name when the type changes", () => {
    const state = newForm(WIDGET);
    state.values = { ...state.values, host: "typed.example.com" };
    const switched = newForm(GADGET, { state, type: WIDGET });
    // The host was typed; the port was the old type's default, so it takes the new one.
    expect(switched.values).toEqual({ host: "typed.example.com", port: "9000" });
  });
});

describe("an edit", () => {
  it("never puts a stored secret in the form and sends nothing when nothing changed", () => {
    const state = editForm(stored, WIDGET);
    expect(state.values.password).toBe("");
    expect(state.values["extra.api_key"]).toBe("");
    expect(state.secrets).toEqual({ password: "keep", "extra.api_key": "keep" });
    // verify was never stored: the checkbox shows the type's default, and leaving it is no change.
    expect(state.values["extra.verify"]).toBe(true);
    expect(toPatch(state, WIDGET, stored)).toEqual({ patch: {}, errors: {} });
  });

  it("sends only the changed fields, and extras whole (undeclared ones included) when any changed", () => {
    const state = editForm(stored, WIDGET);
    state.values = { ...state.values, port: "7001", "extra.mode": "a" };
    expect(toPatch(state, WIDGET, stored).patch).toEqual({ port: 7001, extra: { mode: "a", imported_key: "kept" } });
  });

  it("replaces or clears a secret only when asked, and asks for the new value", () => {
    const state = editForm(stored, WIDGET);
    state.secrets = { password: "replace", "extra.api_key": "clear" };
    expect(toPatch(state, WIDGET, stored).errors).toEqual({ password: "Type the new password, or choose Keep." });
    state.values = { ...state.values, password: "n3w" };
    expect(toPatch(state, WIDGET, stored).patch).toEqual({
      password: "n3w",
      extra: { mode: "b", imported_key: "kept", api_key: null },
    });
  });

  it("clears a field emptied by the person, and carries a type change", () => {
    const state = editForm(stored, WIDGET);
    state.values = { ...state.values, login: "" };
    expect(toPatch(state, WIDGET, stored).patch).toEqual({ login: null });
    const retyped = retypeEditForm(state, stored, GADGET);
    expect(retyped.type).toBe("gadget");
    const { patch } = toPatch(retyped, GADGET, stored);
    // Gadget has no login field and no Mode: what only Widget declared goes; undeclared extras stay.
    expect(patch).toEqual({ type: "gadget", login: null, extra: { imported_key: "kept" } });
  });

  it("refuses Other extra settings that are not a JSON object", () => {
    const state = editForm(stored, WIDGET);
    expect(state.otherExtra).toBe(JSON.stringify({ imported_key: "kept" }, null, 2));
    state.otherExtra = "[1, 2]";
    expect(toPatch(state, WIDGET, stored).errors).toEqual({ otherExtra: 'Enter a JSON object, e.g. {"key": "value"}.' });
  });
});

/**
 * SECRET_REQUIRED cannot reach the page from a real server: every role that may edit may also
 * resolve secrets, so the repointing rule never refuses a signed-in person. What the form says
 * when it does (a token-driven front end copying this one) is pinned here.
 */
describe("the SECRET_REQUIRED hint", () => {
  it("asks for the type's first secret again, by its label", () => {
    expect(hintFor({ errorCode: "SECRET_REQUIRED" }, firstSecretLabel(WIDGET))).toBe(`Re-enter the ${firstSecretLabel(WIDGET).toLowerCase()} to test against a new host.`);
    expect(hintFor({ errorCode: "SECRET_REQUIRED" })).toBe("Re-enter the password to test against a new host.");
    expect(hintFor({ errorCode: "AUTH_FAILED" })).toBeNull();
    expect(hintFor({ errorCode: null })).toBeNull();
  });
});
