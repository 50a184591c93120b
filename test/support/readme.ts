/** Facts the README states, for tests that check other files agree with it. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const README = fileURLToPath(new URL("../../README.md", import.meta.url));

/** The environment variables in the README's configuration table. */
export function configurationVariables(): string[] {
  const readme = readFileSync(README, "utf8");
  const table = readme.slice(readme.indexOf("## Configuration"));
  const end = table.indexOf("\n\n", table.indexOf("|"));
  return [...table.slice(0, end).matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
}
