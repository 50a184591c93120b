/**
 * The Python-exact emulators against Python itself: generated inputs go through CPython's
 * urllib.parse and json and through PyYAML (libyaml's CSafeDumper, safe_load) in one python3
 * run (test/airflow/python/differential.py), and every answer must match the emulator's,
 * errors included. python-compat.test.ts keeps the hand-picked cases; this finds the ones
 * nobody thought of. The generator is seeded, so a failure names an input that reproduces.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AirflowFormatError } from "../../src/airflow/errors";
import { pyJsonDumps } from "../../src/airflow/py-json";
import { hostname, port, pyParseQsl, pyQuote, pyQuotePlus, pyUnquote, pyUrlsplit, userinfo } from "../../src/airflow/py-url";
import { pyYamlDump, type YamlMapping, type YamlScalar } from "../../src/airflow/py-yaml";
import { pyYamlLoadPairs } from "../../src/airflow/py-yaml-load";
import { serviceAvailable } from "../servers/availability";

const SCRIPT = fileURLToPath(new URL("./python/differential.py", import.meta.url));
const CASES = 400;

/** mulberry32: small, seeded, good enough to spread inputs. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rnd = random(0x5eed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const int = (max: number) => Math.floor(rnd() * max);
const many = (n: number, make: () => string) => Array.from({ length: n }, make).join("");

const URL_PIECES = [
  ..."abcxyzABCXYZ0189",
  " ", "%", "+", "&", "=", "?", "#", "/", ":", "@", "[", "]", ";", "~", "_", ".", "-", ",", "!", "*", "'", "(", ")", "\\", "\"",
  "\t", "\n", "\r", "\u0000", "é", "ü", "😀", "\u2028", "%2B", "%20", "%zz", "%4", "%C3%A9", "%FF", "%E2%82", "%25",
];
const text = (max: number) => many(int(max), () => pick(URL_PIECES));

function urlInput(): string {
  if (rnd() < 0.4) return text(24);
  const scheme = pick(["postgres", "http", "HTTPS", "my-type", "x+y", "1bad", "", "generic"]);
  const user = rnd() < 0.6 ? `${text(6)}${rnd() < 0.7 ? `:${text(8)}` : ""}@` : "";
  const host = pick(["host", "db.example.com", "[::1]", "[fe80::1%25eth0]", "10.0.0.1", "", "HOST.Example", "a:b", "[bad"]);
  const portPart = rnd() < 0.5 ? `:${pick(["5432", "0", "65535", "65536", "-1", "x", "", "00080"])}` : "";
  const rest = `${rnd() < 0.6 ? `/${text(8)}` : ""}${rnd() < 0.5 ? `?${text(10)}` : ""}${rnd() < 0.3 ? `#${text(5)}` : ""}`;
  return `${pick(["", " ", "\t"])}${scheme}${scheme ? ":" : ""}${rnd() < 0.85 ? "//" : ""}${user}${host}${portPart}${rest}`;
}

function jsonValue(depth = 0): unknown {
  const roll = rnd();
  if (depth > 2 || roll < 0.45) {
    return pick<() => unknown>([
      () => text(12),
      () => int(1_000_000) - 500_000,
      () => pick([1.5, -0.25, 3.14159, 1e-7, 1.5e-7, 2.5e21, 123456.789, 0.1, 1e16 + 0.5, 5e-324]),
      () => pick([true, false, null]),
    ])();
  }
  if (roll < 0.7) return Array.from({ length: int(4) }, () => jsonValue(depth + 1));
  // Keys that are not integer-like: a JS object would move those first, a Python dict does not.
  return Object.fromEntries(Array.from({ length: int(4) }, () => [`k${text(5)}`, jsonValue(depth + 1)]));
}

const YAML_TEXTS = [
  "", " lead", "trail ", "yes", "No", "null", "~", "123", "0x1F", "1.5", "-", "- x", ": x", "a: b", "#x", "x #y", "'q'", "\"dq\"",
  "é", "😀", "line\nbreak", "tab\there", "@at", "`tick", "%pct", "&amp", "*star", "!bang", "|pipe", ">gt", "{brace}", "[brack]",
  ",comma", "?q", "2001-12-14", "1_000", ".inf", "bell\u0007", "x".repeat(90), "word ".repeat(25).trim(), "a\u0085b", "ends:",
  "postgres://u:p@h:5432/db?sslmode=require", "{\"json\": [1, 2]}", "back\\slash",
];
const yamlScalar = (): YamlScalar => (rnd() < 0.15 ? null : rnd() < 0.2 ? int(70000) : rnd() < 0.5 ? pick(YAML_TEXTS) : text(10));

function yamlDumpInput(): Record<string, Record<string, YamlScalar>> {
  const conns: Record<string, Record<string, YamlScalar>> = {};
  for (let i = 0; i < 1 + int(3); i++) {
    const fields: Record<string, YamlScalar> = {};
    for (const key of ["conn_type", "host", "login", "password", "schema", "port", "extra", "description"]) if (rnd() < 0.7) fields[key] = yamlScalar();
    conns[`c${i}_${pick(["prod", "x y", "é", "yes", "a-b"])}`] = fields;
  }
  return conns;
}

const YAML_PLAIN = [
  "yes", "No", "on", "OFF", "y", "n", "true", "False", "~", "null", "NULL", "0x1F", "0o17", "017", "0b101", "1_000", "+12", "-0", "1e3",
  "1.5e-3", ".5", "1.", "+.inf", "-.Inf", ".NaN", "190:20:30", "1:30.5", "2001-12-14", "2001-12-14t21:59:43.10-05:00", "12:30",
  "hello world", "'yes'", "\"1\"", "0x_1F", "1__0", "0.", "-.5", "+1.5e+3", "08", "0b2", "Null", "TRUE", "tRUE",
];

// Keys that cannot collide: a Python dict keeps one of equal keys (1 == True == 1.0), while
// pyYamlLoadPairs keeps repeats for its caller to report.
const YAML_KEYS = ["yes", "null", "1.5", "'q'", "2", "~x"];

function yamlLoadInput(): string {
  const special = [...YAML_KEYS].sort(() => rnd() - 0.5);
  const lines = Array.from({ length: 1 + int(5) }, (_, i) => `${rnd() < 0.5 && special.length ? special.pop() : `k${i}`}: ${pick(YAML_PLAIN)}`);
  return `${lines.join("\n")}\n`;
}

/** A "[" or "]" before the netloc's last "@", where CPython versions disagree about checking it. */
function bracketInUserinfo(input: string): boolean {
  const netloc = /\/\/([^/?#]*)/.exec(input)?.[1] ?? "";
  const at = netloc.lastIndexOf("@");
  return at >= 0 && /[[\]]/.test(netloc.slice(0, at));
}

function attempt(fn: () => unknown): { ok: unknown } | { error: true } {
  try {
    return { ok: fn() };
  } catch (error) {
    if (error instanceof AirflowFormatError) return { error: true };
    throw error;
  }
}

function urlAnswers(input: string) {
  return {
    quote: attempt(() => pyQuote(input)),
    quote_safe: attempt(() => pyQuote(input, " +")),
    quote_plus: attempt(() => pyQuotePlus(input)),
    unquote: attempt(() => pyUnquote(input)),
    parse_qsl: attempt(() => pyParseQsl(input)),
    urlsplit: attempt(() => {
      const parts = pyUrlsplit(input);
      const { username, password } = userinfo(parts);
      return { ...parts, username, password, hostname: hostname(parts) };
    }),
    port: attempt(() => port(pyUrlsplit(input))),
  };
}

function mappingOf(value: Record<string, unknown>): YamlMapping {
  return {
    entries: Object.entries(value).map(([key, v]) => [key, v !== null && typeof v === "object" ? mappingOf(v as Record<string, unknown>) : (v as YamlScalar)]),
  };
}

function plain(value: unknown): unknown {
  if (typeof value === "number") return { num: Number.isNaN(value) ? "nan" : value === Infinity ? "inf" : value === -Infinity ? "-inf" : value };
  if (value instanceof Date) return { timestamp: true };
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") return { map: Object.entries(value).map(([k, v]) => [plain(k), plain(v)]) };
  return value;
}

const pythonReady = serviceAvailable("python3", "the differential tests run CPython and PyYAML (python3-yaml)");

describe.skipIf(!pythonReady)("the emulators agree with CPython and PyYAML on generated inputs", () => {
  const inputs = {
    urls: Array.from({ length: CASES }, urlInput),
    json: Array.from({ length: CASES / 2 }, () => jsonValue()),
    yaml_dump: Array.from({ length: CASES / 4 }, yamlDumpInput),
    yaml_load: Array.from({ length: CASES / 4 }, yamlLoadInput),
  };
  const run = spawnSync("python3", [SCRIPT], { input: JSON.stringify(inputs), encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const python = run.status === 0 ? JSON.parse(run.stdout) : null;

  it("ran python3 with PyYAML", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it("urllib.parse: quote, quote_plus, unquote, parse_qsl, urlsplit and its parts", () => {
    let compared = 0;
    inputs.urls.forEach((input, i) => {
      const ours = urlAnswers(input);
      const theirs = python.urls[i];
      if (!python.checks_host_after_userinfo && bracketInUserinfo(input)) {
        // An older CPython than the one the emulator follows: only the parts that do not
        // depend on urlsplit's bracket check are compared.
        const { urlsplit: _a, port: _b, ...rest } = ours;
        const { urlsplit: _c, port: _d, ...theirRest } = theirs;
        expect(rest, JSON.stringify(input)).toEqual(theirRest);
      } else {
        expect(ours, JSON.stringify(input)).toEqual(theirs);
        compared++;
      }
    });
    expect(compared).toBeGreaterThan(CASES / 2);
  });

  it("json.dumps, compact and indented", () => {
    inputs.json.forEach((value, i) => expect([pyJsonDumps(value), pyJsonDumps(value, 2)], JSON.stringify(value)).toEqual(python.json[i]));
  });

  it("yaml.dump with CSafeDumper", () => {
    inputs.yaml_dump.forEach((value, i) => expect(pyYamlDump(mappingOf(value)), JSON.stringify(value)).toBe(python.yaml_dump[i]));
  });

  it("yaml.safe_load of a mapping of plain scalars", () => {
    inputs.yaml_load.forEach((text, i) => {
      const answer = attempt(() => pyYamlLoadPairs(text).map(([k, v]) => [plain(k), plain(v)]));
      expect(answer, text).toEqual(python.yaml_load[i]);
    });
  });
});
