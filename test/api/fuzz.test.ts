/**
 * Property-based fuzzing of every argument of every operation the server offers (issue 7).
 * Operations are read from the running server's own schema by introspection, so a new query,
 * mutation or argument is fuzzed without touching this file. Each argument in turn gets
 * hostile values while the others hold valid ones: wrong types, huge strings, NUL and lone
 * surrogates, prototype keys, deep nesting, impossible dates, forged cursors and ids, valid
 * input objects with one hostile field, sent both as variables and as literals; and whole
 * requests of too many aliases.
 *
 * For every request: never HTTP 5xx, never INTERNAL_SERVER_ERROR, never a stack trace, and a
 * request answered with errors wrote nothing (row counts of every table). The server still
 * answers after each argument. Fixed seed and bounded runs (about a minute on 2 cores);
 * PATCHBAY_FUZZ_SEED and PATCHBAY_FUZZ_RUNS override them, a failure names the seed to replay
 * it, and PATCHBAY_FUZZ_REPORT=1 prints what each argument's requests were answered.
 */
import fc from "fast-check";
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  getNullableType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLInputType,
  GraphQLInputObjectType,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  isEnumType,
  isInputObjectType,
  isLeafType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type IntrospectionQuery,
} from "graphql";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../src/net/free-port";
import { startTestApp, type TestApp } from "../support/app";
import { GraphQLClient } from "../support/client";
import { createConnection, createWorkspace, signUp, type SignedUp } from "../support/factories";
import { openRowCounter, type RowCounter } from "../support/row-counts";

const SEED = Number(process.env.PATCHBAY_FUZZ_SEED ?? 20261201);
/** Random runs per argument, after the fixed examples of every class (examplesFor). */
const RUNS = Number(process.env.PATCHBAY_FUZZ_RUNS ?? 10);
const REPORT = process.env.PATCHBAY_FUZZ_REPORT === "1";
const PASSWORD = "correct horse battery";

let app: TestApp;
let anonymous: GraphQLClient;
let owner: SignedUp;
let ownerPassword = PASSWORD;
let rows: RowCounter;
let schema: GraphQLSchema;
/** Valid values the arguments that are not being fuzzed take, by argument name. */
let fixtures: Record<string, unknown>;
/** A loopback port nothing listens on, for every connection the fuzzer describes. */
let closed: number;

beforeAll(async () => {
  app = await startTestApp({ PATCHBAY_TEST_TIMEOUT_MS: "1000" });
  anonymous = new GraphQLClient(app.url);
  owner = await signUp(anonymous, "fuzz-owner");
  const workspace = await createWorkspace(owner.client);
  // A closed loopback port: a test that gets through fails at once and dials nothing else.
  closed = await freePort();
  const connection = await createConnection(owner.client, workspace.id, { name: "victim", type: "postgres", host: "127.0.0.1", port: closed });
  // logIn and signUp are fuzzed against another account, so the owner's own log-in is never locked.
  const decoy = await signUp(anonymous, "fuzz-decoy");
  fixtures = {
    workspaceId: workspace.id,
    slug: workspace.slug,
    workspace: workspace.slug,
    confirmSlug: workspace.slug,
    id: connection.id,
    userId: owner.userId,
    name: connection.name,
    // renameConnection's other arguments are fuzzed with the victim keeping its name.
    newName: connection.name,
    email: decoy.email,
    password: PASSWORD,
    currentPassword: PASSWORD,
    newPassword: `${PASSWORD} two`,
    content: "{}",
    dryRun: true,
    force: false,
    first: 5,
  };
  // Rate-limit counters are bookkeeping: a refused log-in is meant to count.
  rows = await openRowCounter(app.databaseUrl, { ignore: ["RateLimit"] });
  const introspection = await owner.client.ok<IntrospectionQuery>(getIntrospectionQuery());
  schema = buildClientSchema(introspection);
});

afterAll(async () => {
  await rows?.close();
  await app?.stop();
});

// ---------------------------------------------------------------------------------------
// Hostile values: a small tree that prints as JSON (variables) and, where GraphQL syntax can
// carry it, as a literal.

type Value =
  | { kind: "string"; value: string }
  | { kind: "number"; text: string }
  | { kind: "boolean"; value: boolean }
  | { kind: "null" }
  | { kind: "list"; items: Value[] }
  | { kind: "object"; entries: Array<[string, Value]> }
  | { kind: "deep"; shape: "list" | "object"; depth: number };

function toJson(value: Value): string {
  switch (value.kind) {
    case "string":
      return JSON.stringify(value.value);
    case "number":
      return value.text;
    case "boolean":
      return String(value.value);
    case "null":
      return "null";
    case "list":
      return `[${value.items.map(toJson).join(",")}]`;
    case "object":
      return `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`;
    case "deep":
      return value.shape === "list" ? "[".repeat(value.depth) + "]".repeat(value.depth) : '{"a":'.repeat(value.depth) + "1" + "}".repeat(value.depth);
  }
}

const GRAPHQL_NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;

/** The value as a GraphQL literal, or null where the syntax cannot say it (odd object keys). */
function toLiteral(value: Value): string | null {
  switch (value.kind) {
    case "list": {
      const items = value.items.map(toLiteral);
      return items.includes(null) ? null : `[${items.join(", ")}]`;
    }
    case "object": {
      const entries = value.entries.map(([k, v]) => [k, toLiteral(v)] as const);
      if (entries.some(([k, v]) => v === null || !GRAPHQL_NAME.test(k))) return null;
      return `{${entries.map(([k, v]) => `${k}: ${v}`).join(", ")}}`;
    }
    case "deep":
      return value.shape === "list" ? "[".repeat(value.depth) + "]".repeat(value.depth) : "{a: ".repeat(value.depth) + "1" + "}".repeat(value.depth);
    default:
      return toJson(value);
  }
}

const text = (value: string): Value => ({ kind: "string", value });
const base64url = (s: string) => Buffer.from(s).toString("base64url");

/** Code units that PostgreSQL or Unicode cannot take, mixed into ordinary text. */
const awkwardUnit = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: "grapheme", minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.constantFrom("\u0000", "\ud800", "\udbff", "\udc00", "\udfff", "\ufffe", "\u202e", "\n", "\\", '"') },
);

const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: awkwardUnit, maxLength: 40 }),
  fc.constantFrom(
    "",
    " ",
    "a\u0000b",
    "\ud800",
    "x\udfffy",
    "__proto__",
    "constructor",
    "prototype",
    ".",
    "..",
    "../../etc/passwd",
    "%00",
    "%E0%A4%A",
    "' OR 1=1 --",
    "2027-02-30T00:00:00Z",
    "2027-04-31T12:00:00Z",
    "2027-13-01T00:00:00Z",
    "2027-01-01T24:00:00Z",
    "0000-00-00T00:00:00Z",
    "+275760-09-13T00:00:00.001Z",
    "-1",
    "NaN",
    "Infinity",
    "null",
    "{}",
    "[]",
    "pbt_",
    "00000000-0000-0000-0000-000000000000",
  ),
  // Huge strings, within the 1 MiB body.
  fc.integer({ min: 1_000, max: 300_000 }).map((n) => "x".repeat(n)),
  // Forged cursors and ids: base64 of JSON that is not what the server hands out.
  fc.jsonValue({ maxDepth: 3 }).map((v) => base64url(JSON.stringify(v))),
  fc.array(fc.string({ maxLength: 8 }), { maxLength: 4 }).map((a) => base64url(JSON.stringify(a))),
  fc.uint8Array({ maxLength: 48 }).map((bytes) => Buffer.from(bytes).toString("base64url")),
);

const hostileNumber = fc.constantFrom("0", "-1", "-0", "2147483648", "-2147483649", "9007199254740993", "1e308", "-1e308", "1.5", "1e-400", "123456789012345678901234567890");

const scalarValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 5, arbitrary: hostileString.map(text) },
  { weight: 2, arbitrary: hostileNumber.map((t): Value => ({ kind: "number", text: t })) },
  { weight: 1, arbitrary: fc.boolean().map((b): Value => ({ kind: "boolean", value: b })) },
  { weight: 1, arbitrary: fc.constant<Value>({ kind: "null" }) },
);

const prototypeKey = fc.constantFrom("__proto__", "constructor", "prototype");
// Not "host": a plausible host name in a test's patch would be looked up in DNS, off this machine.
const objectKey = fc.oneof(prototypeKey, fc.constantFrom("name", "type", "extra", "login", "a"), fc.string({ unit: awkwardUnit, maxLength: 8 }));

/** Any hostile value, whatever the argument's type. */
const hostileValue: fc.Arbitrary<Value> = fc.oneof(
  { weight: 6, arbitrary: scalarValue },
  { weight: 2, arbitrary: fc.array(scalarValue, { maxLength: 5 }).map((items): Value => ({ kind: "list", items })) },
  { weight: 1, arbitrary: fc.integer({ min: 500, max: 20_000 }).map((n): Value => ({ kind: "list", items: Array.from({ length: n }, () => ({ kind: "null" })) })) },
  { weight: 3, arbitrary: fc.array(fc.tuple(objectKey, scalarValue), { maxLength: 4 }).map((entries): Value => ({ kind: "object", entries })) },
  {
    weight: 2,
    arbitrary: fc.tuple(prototypeKey, scalarValue).map(([key, inner]): Value => ({ kind: "object", entries: [[key, { kind: "object", entries: [["endpoint_url", inner], ["tls", { kind: "boolean", value: false }]] }]] })),
  },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom<"list" | "object">("list", "object"), fc.integer({ min: 33, max: 5_000 })).map(([shape, depth]): Value => ({ kind: "deep", shape, depth })) },
);

// ---------------------------------------------------------------------------------------
// Valid values and documents, from the schema.

function validValue(name: string, type: GraphQLInputType): Value | undefined {
  const nullable = getNullableType(type);
  if (name in fixtures) return fromJs(fixtures[name]);
  if (isListType(nullable)) {
    const item = validValue(name, nullable.ofType);
    return item ? { kind: "list", items: [item] } : undefined;
  }
  if (isEnumType(nullable)) return { kind: "string", value: nullable.getValues()[0].name };
  if (isInputObjectType(nullable)) return validObject(nullable);
  if (isScalarType(nullable)) {
    switch (nullable.name) {
      case "Int":
        return { kind: "number", text: "1" };
      case "Float":
        return { kind: "number", text: "1.5" };
      case "Boolean":
        return { kind: "boolean", value: false };
      case "DateTime":
        return text(new Date(Date.now() + 86_400_000).toISOString());
      case "JSON":
        return { kind: "object", entries: [] };
      default:
        return text(`fuzz_${name}`);
    }
  }
  return undefined;
}

/** The required fields of an input object, with the few whose values matter chosen to pass. */
function validObject(type: GraphQLInputObjectType): Value {
  const entries: Array<[string, Value]> = [];
  for (const field of Object.values(type.getFields())) {
    if (!isNonNullType(field.type) || field.defaultValue !== undefined) continue;
    const value = field.name === "type" ? text("postgres") : field.name === "name" ? text("fuzz_made") : validValue(`${type.name}.${field.name}`, field.type);
    if (value) entries.push([field.name, value]);
  }
  // Where a connection is described, it points at a closed loopback port: a test dials nothing else.
  const fields = type.getFields();
  if (fields.host && fields.port) entries.push(["host", text("127.0.0.1")], ["port", { kind: "number", text: String(closed) }]);
  return { kind: "object", entries };
}

function fromJs(value: unknown): Value {
  if (typeof value === "string") return text(value);
  if (typeof value === "number") return { kind: "number", text: String(value) };
  if (typeof value === "boolean") return { kind: "boolean", value };
  return { kind: "null" };
}

/** The input object an argument takes, alone or in a list. */
function inputObjectOf(arg: GraphQLArgument): GraphQLInputObjectType | null {
  const nullable = getNullableType(arg.type);
  if (isInputObjectType(nullable)) return nullable;
  const named = getNamedType(arg.type);
  return isListType(nullable) && isInputObjectType(named) ? named : null;
}

/** A valid value of the argument's input object with one field replaced. */
function withField(arg: GraphQLArgument, objectType: GraphQLInputObjectType, field: string, bad: Value): Value {
  const base = validObject(objectType);
  const object: Value = base.kind === "object" ? { kind: "object", entries: [...base.entries.filter(([k]) => k !== field), [field, bad]] } : base;
  return isListType(getNullableType(arg.type)) ? { kind: "list", items: [object] } : object;
}

/**
 * Hostile values for one argument: mostly hostile text where it takes text, any hostile value
 * otherwise, and for an input object a valid one with one hostile field.
 */
function hostileFor(arg: GraphQLArgument): fc.Arbitrary<Value> {
  const named = getNamedType(arg.type);
  // true and false are valid Booleans: sending them would only run the operation.
  const anyHostile = named.name === "Boolean" ? hostileValue.filter((v) => v.kind !== "boolean") : hostileValue;
  const objectType = inputObjectOf(arg);
  if (objectType) {
    // host stays on loopback (see objectKey).
    const fieldNames = Object.keys(objectType.getFields()).filter((name) => name !== "host");
    const oneHostileField = fc.tuple(fc.constantFrom(...fieldNames), hostileValue).map(([field, bad]) => withField(arg, objectType, field, bad));
    return fc.oneof({ weight: 1, arbitrary: anyHostile }, { weight: 2, arbitrary: oneHostileField });
  }
  if (isScalarType(named) && named.name !== "Int" && named.name !== "Float" && named.name !== "Boolean") {
    return fc.oneof({ weight: 2, arbitrary: hostileString.map(text) }, { weight: 1, arbitrary: anyHostile });
  }
  return anyHostile;
}

const NUL = "a\u0000b";
const LONE_SURROGATE = "a\ud800b";
const PROTOTYPE: Value = { kind: "object", entries: [["__proto__", { kind: "object", entries: [["endpoint_url", text("http://127.0.0.1:9")], ["tls", { kind: "boolean", value: false }]] }]] };

/**
 * Each class of hostile input once for every argument, before the random runs, so that every
 * argument meets every class whatever the seed.
 */
function examplesFor(arg: GraphQLArgument): Array<[Value, boolean]> {
  const values: Value[] = [
    text(NUL),
    text(LONE_SURROGATE),
    text("x".repeat(200_000)),
    text("2027-02-30T00:00:00Z"),
    text(base64url(JSON.stringify(["a", "b", "c"]))),
    { kind: "number", text: "9007199254740993" },
    PROTOTYPE,
    { kind: "deep", shape: "object", depth: 5_000 },
    { kind: "deep", shape: "list", depth: 5_000 },
  ];
  const objectType = inputObjectOf(arg);
  if (objectType) {
    for (const field of Object.keys(objectType.getFields()).filter((name) => name !== "host")) {
      const type = getNamedType(objectType.getFields()[field].type);
      values.push(withField(arg, objectType, field, type.name === "JSON" ? PROTOTYPE : text(NUL)));
    }
  }
  // Every other one inline, where GraphQL syntax can say it: both paths, without doubling the runs.
  return values.map((value, i): [Value, boolean] => [value, i % 2 === 1 && toLiteral(value) !== null]);
}

function selectionFor(type: GraphQLNamedType): string {
  if (isLeafType(type)) return "";
  // AuthPayload's token keeps the fuzzing session going when changePassword succeeds.
  const token = isObjectType(type) && type.getFields().token ? " token" : "";
  return `{ __typename${token} }`;
}

interface Target {
  /** e.g. Mutation.updateConnection(patch) or Query.workspace > Workspace.connections(after) */
  label: string;
  operation: "query" | "mutation";
  /** Root-to-field path; the last field holds the fuzzed argument. */
  path: Array<GraphQLField<unknown, unknown>>;
  arg: GraphQLArgument;
}

/**
 * Every argument of every root field, and of fields one or two levels down reached through root
 * fields whose required arguments have valid values (workspace(slug:) { connections(after:) }).
 */
function fuzzTargets(): Target[] {
  const targets: Target[] = [];
  for (const [operation, root] of [["query", schema.getQueryType()], ["mutation", schema.getMutationType()]] as const) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      for (const arg of field.args) targets.push({ label: `${root.name}.${field.name}(${arg.name})`, operation, path: [field], arg });
    }
  }
  const query = schema.getQueryType()!;
  const reached = new Set<string>();
  // Entry points that select a real object first: a field with required arguments names one.
  const entries = Object.values(query.getFields()).sort((a, b) => requiredCount(b) - requiredCount(a));
  const walk = (path: Array<GraphQLField<unknown, unknown>>, depth: number) => {
    const type = getNamedType(path[path.length - 1].type);
    if (!isObjectType(type) || reached.has(type.name) || type.name.startsWith("__")) return;
    reached.add(type.name);
    const children = Object.values((type as GraphQLObjectType).getFields()).sort((a, b) => requiredCount(b) - requiredCount(a));
    for (const child of children) {
      for (const arg of child.args) targets.push({ label: `${path.map((f) => f.name).join(" > ")} > ${type.name}.${child.name}(${arg.name})`, operation: "query", path: [...path, child], arg });
    }
    if (depth < 2) for (const child of children) if (child.args.every((a) => !isNonNullType(a.type) || a.name in fixtures)) walk([...path, child], depth + 1);
  };
  for (const entry of entries) if (entry.args.every((a) => !isNonNullType(a.type) || a.name in fixtures)) walk([entry], 1);
  return targets;
}

function requiredCount(field: GraphQLField<unknown, unknown>): number {
  return field.args.filter((a) => isNonNullType(a.type)).length;
}

interface Built {
  query: string;
  variablesJson: string;
}

/** The document and variables for one target with one hostile value, as a variable or inline. */
function build(target: Target, hostile: Value, inline: boolean): Built {
  const variables: string[] = [];
  const declarations: string[] = [];
  let counter = 0;
  const argumentsOf = (field: GraphQLField<unknown, unknown>, fuzzed: GraphQLArgument | null): string => {
    const parts: string[] = [];
    for (const arg of field.args) {
      const value = arg === fuzzed ? hostile : isNonNullType(arg.type) && arg.defaultValue === undefined ? validValue(arg.name, arg.type) : undefined;
      if (!value) continue;
      const literal = arg === fuzzed && inline ? toLiteral(value) : null;
      if (literal !== null) {
        parts.push(`${arg.name}: ${literal}`);
      } else {
        const name = `v${counter++}`;
        declarations.push(`$${name}: ${String(arg.type)}`);
        variables.push(`${JSON.stringify(name)}:${toJson(value)}`);
        parts.push(`${arg.name}: $${name}`);
      }
    }
    return parts.length ? `(${parts.join(", ")})` : "";
  };
  const last = target.path.length - 1;
  let body = selectionFor(getNamedType(target.path[last].type));
  for (let i = last; i >= 0; i--) {
    const field = target.path[i];
    body = `${field.name}${argumentsOf(field, i === last ? target.arg : null)} ${i === last ? body : `{ ${body} }`}`;
  }
  const head = declarations.length ? `${target.operation}(${declarations.join(", ")})` : target.operation;
  return { query: `${head} { ${body} }`, variablesJson: `{${variables.join(",")}}` };
}

// ---------------------------------------------------------------------------------------
// Sending and checking.

interface Answer {
  status: number;
  raw: string;
  body: any;
}

async function send(query: string, variablesJson: string): Promise<Answer> {
  const response = await fetch(`${app.url}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${owner.token}` },
    body: `{"query": ${JSON.stringify(query)}, "variables": ${variablesJson}}`,
  });
  const raw = await response.text();
  let body: any = null;
  try {
    body = JSON.parse(raw);
  } catch {
    // asserted below
  }
  return { status: response.status, raw, body };
}

const STACK = /\n\s+at |stacktrace|node_modules|\.[cm]?[jt]s:\d+:\d+/;

/** The properties every answer keeps; returns a description of the first one broken. */
function broken(answer: Answer): string | null {
  if (answer.status >= 500) return `HTTP ${answer.status}`;
  if (!answer.body || typeof answer.body !== "object") return "the answer is not JSON";
  const errors: any[] = answer.body.errors ?? [];
  if (errors.some((e) => e?.extensions?.code === "INTERNAL_SERVER_ERROR")) return "INTERNAL_SERVER_ERROR";
  if (errors.some((e) => !e?.extensions?.code)) return "an error without a code";
  if (STACK.test(answer.raw)) return "a stack trace in the answer";
  return null;
}

/** Row counts after the last request: the next one's "before" (nothing else writes meanwhile). */
let counted: Record<string, number> | null = null;

/** Sends, checks the answer, and for an answer with errors that no row changed. */
async function check(target: Target, hostile: Value, built: Built): Promise<void> {
  const before = counted ?? (await rows.counts());
  const answer = await send(built.query, built.variablesJson);
  const problem = broken(answer);
  record(target, answer);
  const shown = `${built.query.slice(0, 400)}\nvariables: ${built.variablesJson.slice(0, 400)}\nanswer: HTTP ${answer.status} ${answer.raw.slice(0, 600)}`;
  if (problem) throw new Error(`${problem}\n${shown}`);
  // Refused: errors and no root field answered. (A field that ran may write, e.g. a resolve's audit.)
  const refused = answer.body.errors?.length && Object.values(answer.body.data ?? {}).every((v) => v === null);
  counted = await rows.counts();
  if (refused && JSON.stringify(counted) !== JSON.stringify(before)) {
    throw new Error(`a refused request changed rows: ${JSON.stringify(before)} -> ${JSON.stringify(counted)}\n${shown}`);
  }
  // A fuzzed new password that the policy accepts ends the old session: follow it.
  const changed = answer.body.data?.changePassword;
  if (changed?.token) {
    owner = { ...owner, token: changed.token, client: anonymous.as(changed.token) };
    if (target.arg.name === "newPassword" && hostile.kind === "string") ownerPassword = hostile.value;
  }
}

/** With PATCHBAY_FUZZ_REPORT=1: per argument, how often each status and error codes came back. */
const outcomes = new Map<string, Map<string, number>>();

function record(target: Target, answer: Answer): void {
  if (!REPORT) return;
  const codes = (answer.body?.errors ?? []).map((e: any) => e?.extensions?.code).join(",") || "data";
  const counts = outcomes.get(target.label) ?? new Map<string, number>();
  counts.set(`${answer.status} ${codes}`, (counts.get(`${answer.status} ${codes}`) ?? 0) + 1);
  outcomes.set(target.label, counts);
}

async function stillServing(label: string): Promise<void> {
  counted = null;
  const health = await fetch(`${app.url}/healthz`);
  expect(health.status, label).toBe(200);
  const viewer = await send(`{ viewer { __typename } }`, "{}");
  if (viewer.status === 401) {
    // changePassword with a fuzzed new password succeeded: sign in with it again.
    const session = await anonymous.ok(`mutation($e: String!, $p: String!) { logIn(email: $e, password: $p) { token } }`, { e: owner.email, p: ownerPassword });
    owner = { ...owner, token: session.logIn.token, client: anonymous.as(session.logIn.token) };
    return;
  }
  expect(viewer.body?.data?.viewer?.__typename, `${label}: ${viewer.raw}`).toBe("Viewer");
}

async function assertProperty<T>(label: string, seed: number, property: fc.IAsyncProperty<T>, examples: T[] = []): Promise<void> {
  try {
    await fc.assert(property, { seed, numRuns: RUNS + examples.length, examples, endOnFailure: true });
  } catch (error) {
    // fast-check keeps the property's own error as the cause; its counterexample can be huge.
    const cause = (error as Error).cause instanceof Error ? ((error as Error).cause as Error).message : "";
    const message = (error as Error).message.replace(/(Counterexample: .{0,500}).*/, "$1…");
    throw new Error(`${label} (replay with PATCHBAY_FUZZ_SEED=${SEED}; property seed ${seed})\n${cause}\n${message}`);
  }
}

describe("fuzzing every argument of every operation", () => {
  it("never answers 5xx, INTERNAL_SERVER_ERROR or a stack, and writes nothing when it refuses", async () => {
    const targets = fuzzTargets();
    const roots = new Set(targets.filter((t) => t.path.length === 1).map((t) => t.path[0].name));
    // Every root field with arguments of the contract the server has is among the targets.
    for (const name of ["signUp", "logIn", "createWorkspace", "updateConnection", "testConnection", "resolveConnection", "importConnections", "upsertConnections", "workspace"]) {
      expect(roots, name).toContain(name);
    }
    expect(targets.some((t) => t.label.endsWith("Workspace.connections(after)"))).toBe(true);
    expect(targets.some((t) => t.label.endsWith("Connection.testResults(first)"))).toBe(true);

    for (const [index, target] of targets.entries()) {
      await assertProperty(
        target.label,
        SEED + index,
        fc.asyncProperty(hostileFor(target.arg), fc.boolean(), async (hostile, inline) => {
          await check(target, hostile, build(target, hostile, inline));
        }),
        examplesFor(target.arg),
      );
      await stillServing(target.label);
    }
    if (REPORT) for (const [label, counts] of outcomes) console.log(label, Object.fromEntries(counts));
    console.log(`fuzzed ${targets.length} arguments of ${roots.size} root fields, ${RUNS} random runs and the fixed examples each (PATCHBAY_FUZZ_SEED=${SEED})`);
  }, 300_000);

  it("refuses too many aliases of any root field without running one", async () => {
    const targets = fuzzTargets().filter((t) => t.path.length === 1);
    const fields = [...new Map(targets.map((t) => [t.path[0].name, t])).values()];
    await assertProperty(
      "aliases",
      SEED - 1,
      fc.asyncProperty(fc.constantFrom(...fields), fc.integer({ min: 16, max: 120 }), async (target, count) => {
        const one = build(target, validValue(target.arg.name, target.arg.type) ?? { kind: "null" }, true);
        const field = one.query.slice(one.query.indexOf("{") + 1, one.query.lastIndexOf("}"));
        const query = one.query.slice(0, one.query.indexOf("{")) + `{ ${Array.from({ length: count }, (_, i) => `a${i}: ${field}`).join(" ")} }`;
        const before = await rows.counts();
        const answer = await send(query, one.variablesJson);
        expect(broken(answer), answer.raw.slice(0, 300)).toBeNull();
        expect(answer.status).toBe(400);
        expect(answer.body.errors[0].extensions.code).toBe("QUERY_LIMIT_EXCEEDED");
        expect(await rows.counts()).toEqual(before);
      }),
    );
    await stillServing("aliases");
  }, 120_000);
});
