/** The side-by-side benchmark's command line: what to measure, how long, against which server. */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";

export const LOAD_IDS = ["p1", "p2", "resolve-gql", "typename", "typename-token"] as const;
export const OTHER_IDS = ["p3", "p4", "rss", "sql"] as const;
export type LoadId = (typeof LOAD_IDS)[number];
export type MeasurementId = LoadId | (typeof OTHER_IDS)[number];

/** What runs without --only; the typename pair is a diagnostic (how much of a request is auth and Apollo). */
const DEFAULT_IDS: MeasurementId[] = ["p1", "p2", "resolve-gql", "p3", "p4", "rss", "sql"];

export interface Scale {
  label: string;
  workspaces: number;
  connectionsPerWorkspace: number;
}

export const SCALES: Record<string, Scale> = {
  "1k": { label: "1,000 connections in 1 workspace", workspaces: 1, connectionsPerWorkspace: 1000 },
  "100k": { label: "100,000 connections in 1,000 workspaces", workspaces: 1000, connectionsPerWorkspace: 100 },
};

export interface Options {
  scale: Scale;
  scaleId: string;
  only: Set<MeasurementId>;
  rounds: number;
  durationSeconds: number;
  warmupSeconds: number;
  /**
   * Before each run, requests that reach every workspace of the measurement (about three per
   * workspace), so caches keyed by workspace (tokens, data keys) are in the steady state of a
   * service that keeps serving them, not filled during the measurement. Default: on when
   * there is more than one workspace.
   */
  warmAll: boolean;
  /** Rotate the first workspace's data key as each of Patchbay's measured runs starts. */
  duringRotation: boolean;
  connections: number;
  serverDir: string;
  serverCommand: string;
  /** The checkout's prestart script, run once (untimed) before the server is first started. */
  serverPrestart: string | null;
  serverEnv: Record<string, string>;
  dataDir: string | null;
  jsonPath: string | null;
  verbose: boolean;
  /** The whole run is killed after this long, whatever it is doing. */
  maxMinutes: number;
}

export const USAGE = `npm run bench:compare -- [options]

Loads a bare node:http + pg floor and Patchbay in turn on one embedded PostgreSQL and prints
Patchbay as a ratio of the floor. Everything listens on 127.0.0.1 only.

  --scale 1k|100k        1,000 connections in 1 workspace (default), or 100,000 in 1,000
  --only LIST            comma-separated: ${[...LOAD_IDS, ...OTHER_IDS].join(", ")}
                         (default: ${DEFAULT_IDS.join(",")})
  --rounds N             interleaved rounds per load measurement, floor then Patchbay (default 3)
  --duration S           seconds of each measured load run (default 5)
  --warmup S             seconds of unmeasured load before each run (default 1)
  --warm-all on|off      before each run, about 3 requests per workspace, unmeasured, so
                         per-workspace caches are warm (default: on with more than one workspace)
  --connections N        autocannon connections (default 16)
  --during-rotation      rotate the first workspace's data key (rotateWorkspaceKey) as each of
                         Patchbay's measured runs starts, so its connections are re-encrypted
                         while it serves; prints how long the re-encryption ran
  --server-dir DIR       the checkout whose server is measured (default: this one)
  --server-cmd CMD       how to start it (default: that checkout's "npm start" command,
                         run without npm), e.g. "node dist/main.js"
  --server-env K=V       extra environment for the server, repeatable (e.g. NODE_ENV=production)
  --data-dir DIR         keep the seeded database there and reuse it on the next run
                         (default: a temp directory, removed at the end)
  --json FILE            also write every number as JSON
  --verbose              print each server's SQL statements with their counts
  --max-minutes M        kill the run after M minutes (default 15, 40 for --scale 100k)
`;

export function parseOptions(argv: string[], repoRoot: string): Options {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      scale: { type: "string", default: "1k" },
      only: { type: "string" },
      rounds: { type: "string", default: "3" },
      duration: { type: "string", default: "5" },
      warmup: { type: "string", default: "1" },
      "warm-all": { type: "string" },
      "during-rotation": { type: "boolean", default: false },
      connections: { type: "string", default: "16" },
      "server-dir": { type: "string" },
      "server-cmd": { type: "string" },
      "server-env": { type: "string", multiple: true },
      "data-dir": { type: "string" },
      json: { type: "string" },
      verbose: { type: "boolean", default: false },
      "max-minutes": { type: "string" },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const scale = SCALES[values.scale!];
  if (!scale) throw new Error(`--scale is one of ${Object.keys(SCALES).join(", ")}.`);
  const known = new Set<string>([...LOAD_IDS, ...OTHER_IDS]);
  const only = new Set<MeasurementId>();
  for (const id of values.only ? values.only.split(",").map((s) => s.trim()).filter(Boolean) : DEFAULT_IDS) {
    if (!known.has(id)) throw new Error(`Unknown measurement "${id}"; known: ${[...known].join(", ")}.`);
    only.add(id as MeasurementId);
  }
  const serverDir = resolve(values["server-dir"] ?? repoRoot);
  const serverEnv: Record<string, string> = {};
  for (const pair of values["server-env"] ?? []) {
    const at = pair.indexOf("=");
    if (at < 1) throw new Error(`--server-env takes KEY=VALUE, not "${pair}".`);
    serverEnv[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return {
    scale,
    scaleId: values.scale!,
    only,
    rounds: bounded(values.rounds!, "--rounds", 1, 20),
    durationSeconds: bounded(values.duration!, "--duration", 1, 120),
    warmupSeconds: bounded(values.warmup!, "--warmup", 0, 30),
    warmAll: onOff(values["warm-all"], "--warm-all", scale.workspaces > 1),
    duringRotation: values["during-rotation"]!,
    connections: bounded(values.connections!, "--connections", 1, 256),
    serverDir,
    serverCommand: values["server-cmd"] ?? scriptOf(serverDir, "start"),
    serverPrestart: values["server-cmd"] ? null : prestartOf(serverDir),
    serverEnv,
    dataDir: values["data-dir"] ? resolve(values["data-dir"]) : null,
    jsonPath: values.json ? resolve(values.json) : null,
    verbose: values.verbose!,
    maxMinutes: bounded(values["max-minutes"] ?? (values.scale === "100k" ? "40" : "15"), "--max-minutes", 1, 240),
  };
}

function onOff(raw: string | undefined, name: string, fallback: boolean): boolean {
  if (raw === undefined) return fallback;
  if (raw !== "on" && raw !== "off") throw new Error(`${name} is on or off.`);
  return raw === "on";
}

function bounded(raw: string, name: string, min: number, max: number): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) throw new Error(`${name} must be a whole number from ${min} to ${max}.`);
  return value;
}

function scriptsOf(dir: string): Record<string, string> {
  const pkg = JSON.parse(readFileSync(resolve(dir, "package.json"), "utf8")) as { scripts?: Record<string, string> };
  return pkg.scripts ?? {};
}

/**
 * The checkout's `npm start` command, so a build step or a new entry point is picked up as it
 * lands. It runs without npm, whose own start-up would otherwise count in P4.
 */
function scriptOf(dir: string, name: string): string {
  const script = scriptsOf(dir)[name];
  if (!script) throw new Error(`${dir}/package.json has no ${name} script; pass --server-cmd.`);
  return script;
}

function prestartOf(dir: string): string | null {
  return scriptsOf(dir).prestart ?? null;
}
