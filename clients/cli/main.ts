/**
 * `patchbay`: the command line over Patchbay's API (bin/patchbay.mjs runs it).
 *
 *   patchbay connections add | delete | get | list | export FILE | import FILE | test
 *   patchbay tokens create NAME --scope S | list | revoke ID
 *   patchbay login | logout | workspaces | members | invite EMAIL | audit | --version
 *
 * Exit codes: 0 ok, 1 an API error (its message and code on stderr), 2 a usage error.
 * Nothing printed carries a secret unless asked for (--resolve, --include-secrets, and the
 * new token of `tokens create`).
 */
import { PatchbayError } from "../typescript/errors.js";
import { checkOptions, parse, UsageError } from "./args.js";
import type { Command } from "./command.js";
import { connectionCommands } from "./connections.js";
import { createContext } from "./context.js";
import { commandHelp, groupHelp, mainHelp } from "./help.js";
import type { Io } from "./output.js";
import { tokenCommands } from "./tokens.js";
import { accountCommands } from "./account.js";
import { localContext } from "./context.js";
import { VERSION } from "./version.js";

export const COMMANDS: Command[] = [...connectionCommands, ...tokenCommands, ...accountCommands];
const GROUPS = new Set(COMMANDS.filter((c) => c.words.length === 2).map((c) => c.words[0]));

export async function main(argv: string[], io: Io = processIo()): Promise<number> {
  let command: Command | undefined;
  try {
    const parsed = parse(argv);
    const [first, second] = parsed.positionals;
    if (parsed.values.version && !first) {
      io.stdout.write(`patchbay ${VERSION}\n`);
      return 0;
    }
    if (first === "help" || (!first && parsed.values.help)) {
      io.stdout.write(mainHelp(COMMANDS));
      return 0;
    }
    if (!first) throw new UsageError("Name a command.");
    command = COMMANDS.find((c) => c.words.length === 1 && c.words[0] === first);
    if (!command) {
      if (!GROUPS.has(first)) throw new UsageError(`Unknown command "${first}".`);
      if (!second) {
        if (parsed.values.help) {
          io.stdout.write(groupHelp(first, COMMANDS));
          return 0;
        }
        throw new UsageError(`Name a ${first} command.`, first);
      }
      command = COMMANDS.find((c) => c.words[0] === first && c.words[1] === second);
      if (!command) throw new UsageError(`Unknown command "${first} ${second}".`, first);
    }
    if (parsed.values.help) {
      io.stdout.write(commandHelp(command));
      return 0;
    }
    const args = parsed.positionals.slice(command.words.length);
    const label = command.words.join(" ");
    checkOptions(parsed, command.options, label);
    const required = command.args.filter((a) => !a.startsWith("["));
    if (args.length < required.length) throw new UsageError(`${label} needs ${required.slice(args.length).join(" ")}.`, label);
    if (args.length > command.args.length) {
      throw new UsageError(
        `${label} takes ${command.args.length || "no"} argument${command.args.length === 1 ? "" : "s"}; got ${JSON.stringify(args.slice(command.args.length).join(" "))} too.`,
        label,
      );
    }
    const ctx = command.local ? localContext(io, parsed) : await createContext(io, parsed);
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

/**
 * The process's streams. A reader that goes away (`patchbay connections list | head -1`) is not
 * an error: EPIPE ends the program quietly with the exit code so far, as other Unix tools do.
 */
export function processIo(): Io {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw error;
    });
  }
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
