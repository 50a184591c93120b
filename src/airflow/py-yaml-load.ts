/**
 * `yaml.safe_load` (PyYAML, as Airflow's local-filesystem backend reads YAML) for the top
 * mapping of a connections file: the `yaml` package parses the syntax with every scalar kept
 * as text, and PyYAML's resolver decides what each plain scalar is (py-yaml-resolve.ts).
 * Quoted and block scalars are strings; anchors, aliases and `<<` merges work as in PyYAML.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, Scalar, type Document, type Node } from "yaml";
import { isPrototypeKey, MAX_JSON_DEPTH, textProblem } from "../input/json";
import { yamlNestsDeeperThan } from "../input/yaml";
import { AirflowFormatError } from "./errors";
import { pyYamlConstruct } from "./py-yaml-resolve";

const STR_TAG = "tag:yaml.org,2002:str";

/**
 * Values built per file, aliases expanded included: a few hundred bytes of nested aliases
 * would otherwise expand to billions of nodes and stall the process for every tenant.
 */
export const MAX_YAML_NODES = 100_000;
let nodesLeft = MAX_YAML_NODES;

/** The top-level mapping as ordered key/value pairs (repeated keys kept). Throws on bad YAML. */
export function pyYamlLoadPairs(content: string): Array<[unknown, unknown]> {
  nodesLeft = MAX_YAML_NODES;
  // Building values recurses once per level (in the yaml package and in toJs): measure first.
  if (yamlNestsDeeperThan(content, MAX_JSON_DEPTH)) {
    throw new AirflowFormatError(`The file nests mappings and lists more than ${MAX_JSON_DEPTH} levels deep.`, "content");
  }
  const doc = parseDocument(content, { schema: "failsafe", version: "1.1", uniqueKeys: false, merge: false });
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    const line = error.linePos?.[0].line;
    throw new AirflowFormatError(`The file is not valid YAML: ${error.message.split("\n")[0]}`, line ? `line ${line}` : "content");
  }
  if (!isMap(doc.contents)) throw new AirflowFormatError("The file should contain the object.", "content");
  const pairs: Array<[unknown, unknown]> = [];
  const merged: Array<[unknown, unknown]> = [];
  for (const pair of doc.contents.items) {
    const value = toJs(pair.value as Node | null, doc);
    if (isScalar(pair.key) && pair.key.type === Scalar.PLAIN && pair.key.value === "<<") merged.push(...mergeSource(value));
    else pairs.push([toJs(pair.key as Node | null, doc), value]);
  }
  // SafeLoader's flatten_mapping: merged keys come first, explicit keys win.
  const explicit = new Set(pairs.map(([k]) => k));
  const seen = new Set<unknown>();
  const fromMerge = merged.filter(([k]) => !explicit.has(k) && !seen.has(k) && (seen.add(k), true));
  return [...fromMerge, ...pairs];
}

function toJs(node: Node | null, doc: Document, depth = 0): unknown {
  // Aliases can nest what the syntax does not show, so depth is counted here as well.
  if (depth > MAX_JSON_DEPTH) throw new AirflowFormatError(`The file nests more than ${MAX_JSON_DEPTH} levels deep (aliases included).`, "content");
  if (--nodesLeft < 0) {
    throw new AirflowFormatError(`The YAML expands to more than ${MAX_YAML_NODES} values (aliases included).`, "content");
  }
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toJs(node.resolve(doc) as Node, doc, depth + 1);
  if (isScalar(node)) return scalar(node);
  if (isSeq(node)) return node.items.map((item) => toJs(item as Node, doc, depth + 1));
  if (isMap(node)) {
    // Maps, not objects, so that a "__proto__" key is a key like any other.
    const out = new Map<string, unknown>();
    const merged = new Map<string, unknown>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const value = toJs(pair.value as Node, doc, depth + 1);
      if (isScalar(pair.key) && pair.key.type === Scalar.PLAIN && pair.key.value === "<<") {
        for (const [k, v] of mergeSource(value)) if (!merged.has(k)) merged.set(k, v);
        continue;
      }
      const key = String(toJs(pair.key as Node, doc, depth + 1));
      if (isPrototypeKey(key)) throw new AirflowFormatError(`The key "${key}" is not allowed in a connections file.`, "content");
      out.set(key, value);
    }
    // SafeLoader's flatten_mapping: merged keys come first, explicit keys win.
    const result = new Map(merged);
    for (const [k, v] of out) result.set(k, v);
    return Object.fromEntries(result);
  }
  return null;
}

/** The mapping a `<<` merges in: one mapping, or a list of them (the first one wins). */
function mergeSource(value: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const source of Array.isArray(value) ? value : [value]) {
    if (typeof source !== "object" || source === null || Array.isArray(source) || source instanceof Date) {
      throw new AirflowFormatError("A << merge must name a mapping or a list of mappings.", "content");
    }
    for (const [k, v] of Object.entries(source)) if (!out.has(k)) out.set(k, v);
  }
  return out;
}

function scalar(node: Scalar): unknown {
  const text = String(node.value ?? "");
  const problem = textProblem(text);
  if (problem) throw new AirflowFormatError(`Every value in the file ${problem}.`, "content");
  if (node.type !== Scalar.PLAIN || node.tag === STR_TAG) return text;
  const value = pyYamlConstruct(text);
  if (value === undefined) {
    throw new AirflowFormatError(`could not determine a constructor for the plain value ${JSON.stringify(text)}`, "content");
  }
  return value;
}
