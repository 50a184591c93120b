/** The shape of one CLI command: its words, what it takes, its help, and what it does. */
import type { OptionName, ParsedArgs } from "./args.js";
import type { Context } from "./context.js";

export interface Command {
  /** e.g. ["connections", "list"], or ["login"] */
  words: [string] | [string, string];
  /** Positional arguments, e.g. ["NAME"]; required unless in brackets ("[FILE]"). */
  args: string[];
  options: OptionName[];
  usage: string;
  summary: string;
  /** Extra help: one line per option or note. */
  details: string[];
  /** Runs without a server or token (login reads its own settings). */
  local?: boolean;
  /** Returns the exit code. */
  run(ctx: Context, args: string[], values: ParsedArgs["values"]): Promise<number>;
}
