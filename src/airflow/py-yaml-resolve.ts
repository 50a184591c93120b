/**
 * PyYAML's implicit resolvers (resolver.py, YAML 1.1) and SafeConstructor's constructors
 * (constructor.py) for plain scalars: what `yaml.safe_load` makes of an unquoted value, and
 * what `yaml.dump` must therefore quote. `y`, `n`, `1e3` or `09` are strings for PyYAML,
 * unlike for YAML 1.1 parsers that follow the spec's wider patterns.
 */

export type PyYamlTag = "bool" | "float" | "int" | "merge" | "null" | "timestamp" | "value" | "yaml" | "str";

// Keyed by the first characters each resolver is registered for. Python's `$` also matches
// before a final "\n", hence the `\n?`.
const IMPLICIT: ReadonlyArray<readonly [PyYamlTag, string, RegExp]> = [
  ["bool", "yYnNtTfFoO", /^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)\n?$/],
  [
    "float",
    "-+0123456789.",
    /^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))\n?$/,
  ],
  [
    "int",
    "-+0123456789",
    /^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)\n?$/,
  ],
  ["merge", "<", /^(?:<<)\n?$/],
  ["null", "~nN", /^(?:~|null|Null|NULL|)\n?$/],
  [
    "timestamp",
    "0123456789",
    /^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)\n?$/,
  ],
  ["value", "=", /^(?:=)\n?$/],
  ["yaml", "!&*", /^(?:!|&|\*)\n?$/],
];

/** Resolver.resolve(ScalarNode, value, implicit=(True, False)), as a short tag name. */
export function pyYamlResolve(value: string): PyYamlTag {
  if (value === "") return "null";
  const first = value[0];
  for (const [tag, firsts, re] of IMPLICIT) if (firsts.includes(first) && re.test(value)) return tag;
  return "str";
}

/**
 * SafeConstructor's value for a plain scalar. Returns undefined for the tags SafeLoader
 * cannot construct in a value position (`=`, `<<` outside a mapping key, `!`).
 */
export function pyYamlConstruct(value: string): unknown {
  switch (pyYamlResolve(value)) {
    case "null":
      return null;
    case "bool":
      return /^(?:yes|true|on)$/i.test(value.trim());
    case "int":
      return constructInt(value.trim());
    case "float":
      return constructFloat(value.trim());
    case "timestamp":
      return new Date(value.trim().replace(/[ \t]+/, "T").replace(/[ \t]+/, ""));
    case "str":
      return value;
    default:
      return undefined;
  }
}

function constructInt(text: string): number {
  let value = text.replaceAll("_", "");
  let sign = 1;
  if (value[0] === "-" || value[0] === "+") {
    if (value[0] === "-") sign = -1;
    value = value.slice(1);
  }
  if (value === "0") return 0;
  if (value.startsWith("0b")) return sign * Number.parseInt(value.slice(2), 2);
  if (value.startsWith("0x")) return sign * Number.parseInt(value.slice(2), 16);
  if (value.startsWith("0")) return sign * Number.parseInt(value, 8);
  if (value.includes(":")) return sign * sexagesimal(value);
  return sign * Number.parseInt(value, 10);
}

function constructFloat(text: string): number {
  let value = text.replaceAll("_", "").toLowerCase();
  let sign = 1;
  if (value[0] === "-" || value[0] === "+") {
    if (value[0] === "-") sign = -1;
    value = value.slice(1);
  }
  if (value === ".inf") return sign * Infinity;
  if (value === ".nan") return Number.NaN;
  if (value.includes(":")) return sign * sexagesimal(value);
  return sign * Number.parseFloat(value);
}

function sexagesimal(value: string): number {
  return value.split(":").reduce((acc, part) => acc * 60 + Number.parseFloat(part), 0);
}
