/**
 * `patchbay`: the command line over Patchbay's API (bin/patchbay.mjs runs it).
 *
 *   patchbay connections list | get NAME | test NAME | import FILE | export --format F
 *   patchbay tokens create NAME --scope S | list | revoke ID
 *
 * Exit codes: 0 ok, 1 an API error (its message and code on stderr), 2 a usage error.
 * Nothing printed carries a secret unless asked for (--resolve, --include-secrets, and the
 * new token of `tokens create`).
 */
import { PatchbayError } from "../typescript/errors";
import { checkOptions, parse, UsageError } from "./args";
import type { Command } from "./command";
import { connectionCommands } from "./connections";
import { createContext } from "./context";
import { commandHelp, groupHelp, mainHelp } from "./help";
import type { Io } from "./output";
import { tokenCommands } from "./tokens";

export const COMMANDS: Command[] = [...connectionCommands, ...tokenCommands];
const GROUPS = new Set(COMMANDS.map((c) => c.words[0]));

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let command: Command | undefined;
  try {
    const parsed = parse(argv);
    const [group, name, ...args] = parsed.positionals;
    if (group === "help" || (!group && parsed.values.help)) {
      io.stdout.write(mainHelp(COMMANDS));
      return 0;
    }
    if (!group) throw new UsageError("Name a command.");
    if (!GROUPS.has(group)) throw new UsageError(`Unknown command "${group}".`);
    if (!name) {
      if (parsed.values.help) {
        io.stdout.write(groupHelp(group, COMMANDS));
        return 0;
      }
      throw new UsageError(`Name a ${group} command.`, group);
    }
    command = COMMANDS.find((c) => c.words[0] === group && c.words[1] === name);
    if (!command) throw new UsageError(`Unknown command "${group} ${name}".`, group);
    if (parsed.values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const label = command.words.join(" ");
    checkOptions(parsed, command.options, label);
    if (args.length < command.args.length) throw new UsageError(`${label} needs ${command.args.slice(args.length).join(" ")}.`, label);
    if (args.length > command.args.length) throw new UsageError(`${label} takes ${command.args.length || "no"} argument${command.args.length === 1 ? "" : "s"}; got ${JSON.stringify(args.slice(command.args.length).join(" "))} too.`, label);
    const ctx = createContext(io, parsed);
    return await command.run(ctx, args, parsed.values);
  } catch (error) {
    return report(error, io);
  }
}

function report(error: unknown, io: Io): number {
  if (error instanceof UsageError) {
    const command = error.command && COMMANDS.find((c) => c.words.join(" ") === error.command);
    const hint = command ? `Usage: patchbay ${command.usage}` : `Run \`patchbay ${error.command ?? ""}${error.command ? " " : ""}--help\` for usage.`;
    io.stderr.write(`patchbay: ${error.message}\n${hint}\n`);
    return 2;
  }
  if (error instanceof PatchbayError) {
    const field = error.field ? ` (field: ${error.field})` : "";
    io.stderr.write(`patchbay: ${error.message}${field} [${error.code}]\n`);
    return 1;
  }
  // A bug here, not the API's: say so without a stack full of internals.
  io.stderr.write(`patchbay: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  return 1;
}

function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks).toString("utf8");
    },
  };
}
