/**
 * Reads Prometheus' text exposition format strictly enough for the tests: every sample line
 * must be `name{label="value",…} number`, and each metric family declared by # TYPE before
 * its samples. promtool (Debian's prometheus package), when present, checks it too.
 */
import { spawnSync } from "node:child_process";

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// Values as Go's ParseFloat reads them, which Prometheus uses: NaN and Inf in any case.
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([-+]?(?:[0-9.]+(?:[eE][-+]?\d+)?|[Nn][Aa][Nn]|[Ii][Nn][Ff]))(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

export function parsePrometheusText(text: string): Sample[] {
  const samples: Sample[] = [];
  const typed = new Set<string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("# TYPE ")) {
      const [, , name, type] = line.split(" ");
      if (!["counter", "gauge", "histogram", "summary", "untyped"].includes(type)) throw new Error(`bad TYPE line: ${line}`);
      typed.add(name);
      continue;
    }
    if (line.startsWith("# HELP ") || line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not a Prometheus sample line: ${line}`);
    const [, name, rawLabels = "", rawValue] = match;
    const family = name.replace(/_(bucket|sum|count|total|created)$/, "");
    if (!typed.has(name) && !typed.has(family)) throw new Error(`sample before its # TYPE: ${line}`);
    const labels: Record<string, string> = {};
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < rawLabels.length) {
      const at = LABEL.lastIndex;
      const label = LABEL.exec(rawLabels);
      if (!label || label.index !== at) throw new Error(`bad labels in: ${line}`);
      labels[label[1]] = label[2].replace(/\\(["\\n])/g, (_m, c: string) => (c === "n" ? "\n" : c));
    }
    samples.push({ name, labels, value: /nan/i.test(rawValue) ? NaN : Number(rawValue.replace(/inf/i, "Infinity")) });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
export function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

/** promtool's own lint of the text, or null when promtool is not installed. */
export function promtoolCheckMetrics(text: string): { ok: boolean; output: string } | null {
  const run = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
  if (run.error) return null;
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
}
