/** The bounds every parser of user JSON and YAML shares (src/input). */
import { describe, expect, it } from "vitest";
import { jsonTextNestsDeeperThan, MAX_JSON_DEPTH, parseUserJson, safeJsonCopy, textProblem, UnsafeJsonError } from "../../src/input/json";
import { yamlNestsDeeperThan } from "../../src/input/yaml";

const nested = (levels: number) => "[".repeat(levels) + "]".repeat(levels);

describe("jsonTextNestsDeeperThan", () => {
  it("counts arrays and objects, not brackets inside strings or after escapes", () => {
    expect(jsonTextNestsDeeperThan(nested(32), 32)).toBe(false);
    expect(jsonTextNestsDeeperThan(nested(33), 32)).toBe(true);
    expect(jsonTextNestsDeeperThan(JSON.stringify({ a: "[".repeat(100), b: '\\"[[[[' }), 2)).toBe(false);
    expect(jsonTextNestsDeeperThan('{"a": {"b": [1, {"c": 2}]}}', 3)).toBe(true);
    expect(jsonTextNestsDeeperThan('{"a": {"b": [1, {"c": 2}]}}', 4)).toBe(false);
  });

  it("answers on a million brackets without recursing", () => {
    expect(jsonTextNestsDeeperThan(nested(1_000_000), MAX_JSON_DEPTH)).toBe(true);
  });
});

describe("safeJsonCopy", () => {
  it("keeps values and key order, and gives the top object no prototype", () => {
    const copy = parseUserJson('{"zzzzzz": 1, "a": {"m": [true, null, "x"]}, "mm": 2.5}') as Record<string, unknown>;
    expect(Object.keys(copy)).toEqual(["zzzzzz", "a", "mm"]);
    expect(Object.getPrototypeOf(copy)).toBeNull();
    expect(JSON.stringify(copy)).toBe('{"zzzzzz":1,"a":{"m":[true,null,"x"]},"mm":2.5}');
  });

  it.each(["__proto__", "constructor", "prototype"])("refuses the key %s at any depth, naming where", (key) => {
    for (const [text, path] of [
      [`{"${key}": 1}`, [key]],
      [`{"a": {"b": {"${key}": {}}}}`, ["a", "b", key]],
      [`{"a": [0, {"${key}": 1}]}`, ["a", "1", key]],
    ] as const) {
      const error = (() => {
        try {
          parseUserJson(text);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(UnsafeJsonError);
      expect((error as UnsafeJsonError).path).toEqual(path);
    }
  });

  it("refuses objects built deeper than the limit without overflowing the stack", () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 100_000; i++) deep = { a: deep };
    expect(() => safeJsonCopy(deep)).toThrow(/at most 32 levels/);
    let ok: unknown = 1;
    for (let i = 0; i < 32; i++) ok = [ok];
    expect(safeJsonCopy(ok)).toEqual(ok);
  });

  it("refuses unstorable text in keys and values, and values that are not JSON", () => {
    for (const bad of [{ a: "x\u0000" }, { ["k\u0000"]: 1 }, { a: "\udc00" }, { a: ["ok", "\ud83d"] }, { a: NaN }, { a: new Date(0) }, { a: () => 1 }]) {
      expect(() => safeJsonCopy(bad), JSON.stringify(bad)).toThrow(UnsafeJsonError);
    }
    expect(safeJsonCopy({ emoji: "\ud83d\ude00" })).toEqual({ emoji: "😀" });
  });
});

describe("textProblem", () => {
  it("accepts text and names NUL and lone surrogates", () => {
    expect(textProblem("p@ss:w/rd %+?#&=ü 😀")).toBeNull();
    expect(textProblem("a\u0000")).toMatch(/NUL/);
    expect(textProblem("a\ud800")).toMatch(/surrogate/);
    expect(textProblem("\udfff")).toMatch(/surrogate/);
  });
});

describe("yamlNestsDeeperThan", () => {
  it("counts flow, block and compact nesting alike", () => {
    expect(yamlNestsDeeperThan("a: " + nested(5000), 32)).toBe(true);
    expect(yamlNestsDeeperThan("a: " + nested(31), 32)).toBe(false);
    const block = Array.from({ length: 40 }, (_, i) => " ".repeat(i * 2) + "k:").join("\n") + " v";
    expect(yamlNestsDeeperThan(block, 32)).toBe(true);
    expect(yamlNestsDeeperThan("a:\n" + "- ".repeat(40) + "x", 32)).toBe(true);
  });

  it("does not count brackets inside plain or quoted scalars", () => {
    expect(yamlNestsDeeperThan(`conn:\n  password: ab${"[".repeat(50)}\n  other: '${"{".repeat(50)}'\n`, 32)).toBe(false);
  });
});
