/** Help texts, built from the commands' own descriptions. */
import type { Command } from "./command.js";

const GLOBAL = [
  "Settings (flags win over the environment):",
  "  --url URL            PATCHBAY_URL          the server, e.g. https://patchbay.example.com",
  "  --token T            PATCHBAY_TOKEN        an API token, or a person's session token",
  "  -w, --workspace S    PATCHBAY_WORKSPACE    workspace slug (needed with a session token)",
  "  -e, --environment E  PATCHBAY_ENVIRONMENT  that environment's values (get --resolve, test, export)",
  "  -h, --help           help for any command",
  "",
  "Exit codes: 0 ok, 1 the API refused or failed (message and code on stderr), 2 usage error.",
].join("\n");

export function mainHelp(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.words.join(" ").length));
  const lines = commands.map((c) => `  ${c.words.join(" ").padEnd(width)}  ${c.summary}`);
  return ["Usage: patchbay <command> [options]", "", "Commands:", ...lines, "", GLOBAL, "", "Run `patchbay <command> --help` for a command's options.", ""].join("\n");
}

export function groupHelp(group: string, commands: Command[]): string {
  return mainHelp(commands.filter((c) => c.words[0] === group));
}

export function commandHelp(command: Command): string {
  return [`Usage: patchbay ${command.usage}`, "", command.summary, "", ...command.details.map((d) => `  ${d}`), "", GLOBAL, ""].join("\n");
}
