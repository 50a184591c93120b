/** The shape of one CLI command: its words, what it takes, its help, and what it does. */
import type { OptionName, ParsedArgs } from "./args";
import type { Context } from "./context";

export interface Command {
  /** e.g. ["connections", "list"] */
  words: [string, string];
  /** Positional arguments, e.g. ["NAME"]; all required. */
  args: string[];
  options: OptionName[];
  usage: string;
  summary: string;
  /** Extra help: one line per option or note. */
  details: string[];
  /** Returns the exit code. */
  run(ctx: Context, args: string[], values: ParsedArgs["values"]): Promise<number>;
}
