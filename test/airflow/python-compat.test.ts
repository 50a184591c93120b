/**
 * The Python stdlib behaviour Airflow's formats rest on. Expected values are CPython 3.11's
 * own outputs for the same inputs (urllib.parse, json).
 */
import { describe, expect, it } from "vitest";
import { pyJsonDumps } from "../../src/airflow/py-json";
import { hostname, port, pyParseQsl, pyQuote, pyQuotePlus, pyUnquote, pyUrlsplit, userinfo } from "../../src/airflow/py-url";
import { AirflowFormatError } from "../../src/airflow/errors";

describe("urllib.parse", () => {
  it("quote(x, safe='') leaves only A-Za-z0-9 and _.-~", () => {
    // quote("a b/c?d=é😀~_.-!*'()", safe="")
    expect(pyQuote("a b/c?d=é😀~_.-!*'()")).toBe("a%20b%2Fc%3Fd%3D%C3%A9%F0%9F%98%80~_.-%21%2A%27%28%29");
  });

  it("quote_plus writes spaces as + and encodes +", () => {
    expect(pyQuotePlus("a b+c&d=é")).toBe("a+b%2Bc%26d%3D%C3%A9");
  });

  it("refuses a lone surrogate, as Python's strict UTF-8 encoder does", () => {
    expect(() => pyQuote("x\uD800")).toThrow(AirflowFormatError);
  });

  it("unquote decodes UTF-8 with replacement and keeps malformed escapes", () => {
    // unquote("%C3%A9%FF%zz%4%E2%82") == "é\ufffd%zz%4\ufffd"
    expect(pyUnquote("%C3%A9%FF%zz%4%E2%82")).toBe("é\uFFFD%zz%4\uFFFD");
  });

  it("parse_qsl(keep_blank_values=True)", () => {
    expect(pyParseQsl("a=1&b=&c&=x&a=2&d=%2B+x")).toEqual([
      ["a", "1"],
      ["b", ""],
      ["c", ""],
      ["", "x"],
      ["a", "2"],
      ["d", "+ x"],
    ]);
  });

  it("urlsplit: lower-cased scheme, netloc up to / ? #, userinfo split at the last @ and first :", () => {
    const parts = pyUrlsplit("Postgres://us:er:p@ss@Host.Example:5432/db?x=1#frag");
    expect(parts).toEqual({ scheme: "postgres", netloc: "us:er:p@ss@Host.Example:5432", path: "/db", query: "x=1", fragment: "frag" });
    expect(userinfo(parts)).toEqual({ username: "us", password: "er:p@ss" });
    expect(hostname(parts)).toBe("host.example");
    expect(port(parts)).toBe(5432);
  });

  it("SplitResult.port rejects what CPython rejects", () => {
    expect(() => port(pyUrlsplit("//h:12a"))).toThrow("Port could not be cast to integer value");
    expect(() => port(pyUrlsplit("//h:65536"))).toThrow("Port out of range 0-65535");
    expect(port(pyUrlsplit("//h:"))).toBeNull();
  });

  it("urlsplit checks brackets and NFKC look-alikes", () => {
    expect(() => pyUrlsplit("x://[::1")).toThrow("Invalid IPv6 URL");
    expect(() => pyUrlsplit("x://[1.2.3.4]/")).toThrow("An IPv4 address cannot be in brackets");
    expect(hostname(pyUrlsplit("x://u@[::1]:80/"))).toBe("::1");
    // U+FF03 FULLWIDTH NUMBER SIGN normalises to "#".
    expect(() => pyUrlsplit("x://host\uFF03evil/")).toThrow("NFKC");
  });
});

describe("json.dumps", () => {
  it("uses Python's separators, ensure_ascii escapes and float repr", () => {
    const value = { f: 1.5, tiny: 1e-7, big: 1.5e21, i: 10, u: 'é😀\x7f\n"\\', n: null, b: [true, false], e: {}, l: [] };
    expect(pyJsonDumps(value)).toBe(
      '{"f": 1.5, "tiny": 1e-07, "big": 1.5e+21, "i": 10, "u": "\\u00e9\\ud83d\\ude00\\u007f\\n\\"\\\\", "n": null, "b": [true, false], "e": {}, "l": []}',
    );
  });

  it("writes integral numbers as Python ints (JSON.parse cannot tell 1 from 1.0)", () => {
    // json.dumps({"n": 10000000000000000, "m": 123456789012345680000}) keeps the digits.
    expect(pyJsonDumps({ n: 1e16, m: 123456789012345680000 })).toBe('{"n": 10000000000000000, "m": 123456789012345680000}');
  });

  it("indents like json.dumps(indent=2)", () => {
    expect(pyJsonDumps({ a: { b: [1, { c: null }], e: {} } }, 2)).toBe(
      '{\n  "a": {\n    "b": [\n      1,\n      {\n        "c": null\n      }\n    ],\n    "e": {}\n  }\n}',
    );
  });
});
