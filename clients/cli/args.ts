/**
 * Command-line parsing on node:util's parseArgs. All options are parsed together (their
 * names do not clash between commands), then checked against what the chosen command takes,
 * so `--url` and friends may come anywhere on the line.
 */
import { parseArgs } from "node:util";

/** A mistake on the command line or in the local setup: exit code 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
  constructor(
    message: string,
    /** The command whose usage to show, e.g. "connections list". */
    readonly command?: string,
  ) {
    super(message);
  }
}

export const OPTIONS = {
  url: { type: "string" },
  token: { type: "string" },
  workspace: { type: "string", short: "w" },
  environment: { type: "string", short: "e" },
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  type: { type: "string" },
  search: { type: "string" },
  resolve: { type: "boolean" },
  format: { type: "string", short: "f" },
  "on-conflict": { type: "string" },
  "dry-run": { type: "boolean" },
  generic: { type: "boolean" },
  "include-secrets": { type: "boolean" },
  output: { type: "string", short: "o" },
  scope: { type: "string", multiple: true },
  expires: { type: "string" },
  version: { type: "boolean", short: "V" },
  "conn-uri": { type: "string" },
  "conn-json": { type: "string" },
  "conn-type": { type: "string" },
  "conn-host": { type: "string" },
  "conn-login": { type: "string" },
  "conn-password": { type: "string" },
  "conn-schema": { type: "string" },
  "conn-port": { type: "string" },
  "conn-extra": { type: "string" },
  "conn-description": { type: "string" },
  force: { type: "boolean" },
  overwrite: { type: "boolean" },
  "file-format": { type: "string" },
  "serialization-format": { type: "string" },
  dialect: { type: "string" },
  "postgres-driver": { type: "string" },
  "clear-missing-secrets": { type: "boolean" },
  "batch-size": { type: "string" },
  email: { type: "string" },
  "password-stdin": { type: "boolean" },
  role: { type: "string" },
  first: { type: "string" },
} as const;

export type OptionName = keyof typeof OPTIONS;
export const GLOBAL_OPTIONS: OptionName[] = ["url", "token", "workspace", "environment", "help", "version"];

export interface ParsedArgs {
  positionals: string[];
  values: { [K in OptionName]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]["type"] extends "boolean" ? boolean : string };
  /** The options that were given, by long name. */
  given: Set<OptionName>;
}

export function parse(argv: string[]): ParsedArgs {
  try {
    const { values, positionals, tokens } = parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: true, tokens: true });
    const given = new Set<OptionName>();
    for (const token of tokens ?? []) if (token.kind === "option") given.add(token.name as OptionName);
    return { positionals, values: values as ParsedArgs["values"], given };
  } catch (error) {
    // parseArgs' own messages are clear ("Unknown option '--x'", "Option '--type <value>' argument missing").
    throw new UsageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, "."));
  }
}

/** Refuses options the command does not take. */
export function checkOptions(parsed: ParsedArgs, allowed: readonly OptionName[], command: string): void {
  for (const name of parsed.given) {
    if (!GLOBAL_OPTIONS.includes(name) && !allowed.includes(name)) {
      throw new UsageError(`${command} does not take --${name}.`, command);
    }
  }
}

/** One of the allowed words, case-insensitively, or a usage error naming them. */
export function oneOf<T extends string>(value: string, allowed: readonly T[], option: string, command: string): T {
  const found = allowed.find((a) => a.toLowerCase() === value.toLowerCase());
  if (!found) throw new UsageError(`--${option} must be one of ${allowed.join(", ")}; got ${JSON.stringify(value)}.`, command);
  return found;
}
