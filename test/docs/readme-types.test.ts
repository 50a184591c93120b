/**
 * The README's table of connection types is the registry's: one row per registered type, in
 * registry order, saying what its test does in the adapter's own words (ConnectionAdapter.summary).
 * A new type that is not in the README, or a README row for a type that is gone, fails here.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { listAdapters } from "../../src/adapters/registry";

const README = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

function typesTable(): Array<[string, string]> {
  const start = README.indexOf("| type | what the test does |");
  expect(start, "README has a table of connection types").toBeGreaterThanOrEqual(0);
  const rows = README.slice(start).split("\n").slice(2);
  const table: Array<[string, string]> = [];
  for (const row of rows) {
    const match = /^\| `([^`]+)` \| (.*) \|$/.exec(row);
    if (!match) break;
    table.push([match[1], match[2]]);
  }
  return table;
}

describe("README connection types", () => {
  it("lists every registered type with its adapter's summary, and nothing else", () => {
    expect(typesTable()).toEqual(listAdapters().map((adapter) => [adapter.id, adapter.summary]));
  });
});
