/**
 * Both Airflow URI dialects against CPython: generated connections with hostile fields and
 * extras (URL metacharacters, `://` in hosts, percent signs, non-ASCII, nested values,
 * numbers Python prints its own way) are written by airflowUri in each dialect and by
 * Airflow's rules run in python3 (test/airflow/python/uri_dialects.py), and each URI is read
 * back by fromAirflowUri and by Airflow's _parse_from_uri. Seeded: a failure names an input
 * that reproduces.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AirflowFormatError } from "../../src/airflow/errors";
import { AIRFLOW_URI_DIALECTS, airflowUri, fromAirflowUri } from "../../src/airflow/uri";
import { serviceAvailable } from "../servers/availability";

const SCRIPT = fileURLToPath(new URL("./python/uri_dialects.py", import.meta.url));
const CASES = 500;

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

const rnd = random(0xd1a1ec7);
const pick = <T,>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)];
const int = (max: number) => Math.floor(rnd() * max);
const PIECES = [..."abcXYZ019", " ", "%", "+", "&", "=", "?", "#", "/", ":", "@", "[", "]", ";", "~", "_", ".", "-", "'", "\"", "\\", "é", "😀", "%2B", "%25", "\t", "{", "}"];
const text = (max: number) => Array.from({ length: int(max) }, () => pick(PIECES)).join("");
const maybe = <T,>(p: number, make: () => T): T | null => (rnd() < p ? make() : null);

function value(depth = 0): unknown {
  const roll = rnd();
  if (depth > 1 || roll < 0.55) {
    return pick<() => unknown>([
      () => text(10),
      () => text(10),
      () => int(100000) - 50000,
      () => pick([1.5, -0.25, 1e-7, 2.5e21, 0.1, 1e16, 123456.789]),
      () => pick([true, false, null]),
      () => "",
    ])();
  }
  if (roll < 0.75) return Array.from({ length: int(3) }, () => value(depth + 1));
  return Object.fromEntries(Array.from({ length: int(3) }, () => [`k${text(4)}`, value(depth + 1)]));
}

function connection() {
  // Keys are never integer-like: a JS object would move those first, a Python dict does not.
  const extra = rnd() < 0.2 ? {} : Object.fromEntries(Array.from({ length: 1 + int(4) }, (_, i) => [`${pick(["", "x", "ssl", "__"])}${text(5)}_${i}`, value()]));
  return {
    conn_type: pick(["postgres", "http", "my_type", "generic", "google_cloud_platform", "mysql"]),
    host: maybe(0.85, () => pick(["db.example.com", "h", "HOST.Example", `${pick(["http", "https", "postgres"])}://${text(6)}h`, `${text(8)}`, "10.0.0.1"])),
    port: maybe(0.5, () => 1 + int(65535)),
    schema: maybe(0.6, () => text(8) || "db"),
    login: maybe(0.7, () => text(8)),
    password: maybe(0.6, () => text(10)),
    extra,
  };
}

function read(uri: string) {
  try {
    const parsed = fromAirflowUri(uri);
    return {
      conn_type: parsed.airflowType,
      host: parsed.host,
      port: parsed.port,
      schema: parsed.schema,
      login: parsed.login,
      password: parsed.password,
      extra_entries: Object.entries(parsed.extra),
    };
  } catch (error) {
    if (error instanceof AirflowFormatError) return { error: true };
    throw error;
  }
}

const pythonReady = serviceAvailable("python3", "the URI dialect differential test runs Airflow's rules in CPython");

describe.skipIf(!pythonReady)("both URI dialects agree with Airflow's rules in CPython", () => {
  const conns = Array.from({ length: CASES }, connection);
  const run = spawnSync("python3", [SCRIPT], { input: JSON.stringify(conns), encoding: "utf8", maxBuffer: 64 * 1024 * 1024, timeout: 60_000 });
  const python = run.status === 0 ? (JSON.parse(run.stdout) as Array<Record<string, { uri: string; parsed: unknown }>>) : [];

  it("ran python3", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
  });

  it.each(AIRFLOW_URI_DIALECTS)("%s: get_uri writes the same URI, and both read it back alike", (dialect) => {
    let readable = 0;
    conns.forEach((c, i) => {
      const ours = airflowUri(c.conn_type, c, dialect);
      const theirs = python[i][dialect];
      expect(ours, JSON.stringify(c)).toBe(theirs.uri);
      const back = read(ours);
      expect(back, ours).toEqual(theirs.parsed);
      if (!("error" in back)) readable++;
    });
    expect(readable).toBeGreaterThan(CASES / 2);
  });

  it("QUERY_PARAMS writes every extra as its own parameter; EXTRA_JSON keeps non-strings in __extra__", () => {
    const c = { host: "h", port: null, schema: "d", login: null, password: null, extra: { zz: true, a: 1, mm: { x: [1] } } };
    expect(airflowUri("postgres", c, "QUERY_PARAMS")).toBe("postgres://h/d?zz=true&a=1&mm=%7B%22x%22%3A+%5B1%5D%7D");
    expect(airflowUri("postgres", c, "EXTRA_JSON")).toBe(
      "postgres://h/d?__extra__=%7B%22zz%22%3A+true%2C+%22a%22%3A+1%2C+%22mm%22%3A+%7B%22x%22%3A+%5B1%5D%7D%7D",
    );
  });
});
