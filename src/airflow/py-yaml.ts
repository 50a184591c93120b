/**
 * `yaml.dump(data, Dumper=CSafeDumper)` with PyYAML's defaults (sort_keys, block style, width
 * 80, indent 2, allow_unicode False), for what `airflow connections export --file-format yaml`
 * dumps: nested mappings whose leaves are str, int or None.
 *
 * Airflow's `airflow.utils.yaml.dump` uses the libyaml-backed CSafeDumper whenever PyYAML has
 * it (the PyPI wheels do), so the emitter here follows libyaml's src/emitter.c
 * (yaml_emitter_analyze_scalar, select_scalar_style, check_simple_key and the plain / single /
 * double quoted writers), with the scalar tags decided by PyYAML's resolver.py. The output is
 * byte-for-byte what Airflow writes; the `yaml` package would write equivalent YAML that quotes
 * and folds differently.
 */

export type YamlScalar = string | number | null;
export interface YamlMapping {
  readonly entries: ReadonlyArray<readonly [string, YamlScalar | YamlMapping]>;
}

import { pyStrCompare } from "./py-builtins";
import { pyYamlResolve } from "./py-yaml-resolve";

const BEST_WIDTH = 80;
const BEST_INDENT = 2;
const BREAKS = "\r\n\x85\u2028\u2029";
/** IS_BLANKZ: space, tab, a break, or the end of the string. */
const isBlankz = (ch: string | undefined) => ch === undefined || ch === " " || ch === "\t" || ch === "\0" || BREAKS.includes(ch);
const isBreak = (ch: string) => BREAKS.includes(ch);
const utf8 = new TextEncoder();

/** yaml.dump(mapping, Dumper=CSafeDumper). Keys are sorted as Python sorts str (by code point). */
export function pyYamlDump(root: YamlMapping): string {
  const e = new Emitter();
  if (root.entries.length === 0) {
    e.writeIndicator("{", true, true, false);
    e.writeIndicator("}", false, false, false);
  } else {
    e.blockMapping(root);
  }
  e.writeIndent();
  return e.out;
}

type Style = "plain" | "single" | "double";

class Emitter {
  out = "";
  private column = 0;
  private whitespace = true;
  private indention = true;
  private indent = -1;

  private put(data: string): void {
    this.out += data;
    this.column += Array.from(data).length;
  }

  private putBreak(): void {
    this.out += "\n";
    this.column = 0;
  }

  /** A block mapping (emit_block_mapping_key / _value), keys sorted. */
  blockMapping(map: YamlMapping): void {
    const saved = this.indent;
    this.indent = this.indent < 0 ? 0 : this.indent + BEST_INDENT;
    const entries = [...map.entries].sort(([a], [b]) => pyStrCompare(a, b));
    for (const [key, value] of entries) {
      this.writeIndent();
      const keyAnalysis = analyze(key);
      // check_simple_key: single-line and at most 128 bytes (no tag is written for a str).
      const simple = !keyAnalysis.multiline && utf8.encode(key).length <= 128;
      if (simple) {
        this.scalar(key, keyAnalysis, true, false);
        this.writeIndicator(":", false, false, false);
      } else {
        this.writeIndicator("?", true, false, true);
        this.scalar(key, keyAnalysis, false, false);
        this.writeIndent();
        this.writeIndicator(":", true, false, true);
      }
      if (value !== null && typeof value === "object") {
        if (value.entries.length === 0) {
          this.writeIndicator("{", true, true, false);
          this.writeIndicator("}", false, false, false);
        } else {
          this.blockMapping(value);
        }
      } else if (typeof value === "string") {
        this.scalar(value, analyze(value), false, false);
      } else {
        // int and None are written plain, as their own tag resolves them.
        const text = value === null ? "null" : String(value);
        this.scalar(text, analyze(text), false, true);
      }
    }
    this.indent = saved;
  }

  /** emit_scalar: select_scalar_style, then the writer, one indent level deeper. */
  private scalar(text: string, a: Analysis, simpleKey: boolean, nonString: boolean): void {
    const plainImplicit = nonString || resolvesToStr(text);
    let style: Style = "plain";
    if (simpleKey && a.multiline) style = "double";
    if (style === "plain" && (!a.blockPlainAllowed || (text === "" && simpleKey) || !plainImplicit)) style = "single";
    if (style === "single" && !a.singleQuotedAllowed) style = "double";
    const saved = this.indent;
    this.indent = this.indent < 0 ? BEST_INDENT : this.indent + BEST_INDENT;
    const allowBreaks = !simpleKey;
    if (style === "plain") this.writePlain(text, allowBreaks);
    else if (style === "single") this.writeSingleQuoted(text, allowBreaks);
    else this.writeDoubleQuoted(text, allowBreaks);
    this.indent = saved;
  }

  writeIndicator(indicator: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(" ");
    this.put(indicator);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  writeIndent(): void {
    const indent = Math.max(this.indent, 0);
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.putBreak();
    while (this.column < indent) this.put(" ");
    this.whitespace = true;
    this.indention = true;
  }

  private writePlain(text: string, allowBreaks: boolean): void {
    const chars = Array.from(text);
    if (!this.whitespace && chars.length > 0) this.put(" ");
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i];
      if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && chars[i + 1] !== " ") this.writeIndent();
        else this.put(ch);
        spaces = true;
      } else {
        // A plain scalar never holds a break (analyze_scalar forbids it).
        this.put(ch);
        this.indention = false;
        spaces = false;
      }
    }
    this.whitespace = false;
    this.indention = false;
  }

  private writeSingleQuoted(text: string, allowBreaks: boolean): void {
    this.writeIndicator("'", true, false, false);
    const chars = Array.from(text);
    let spaces = false;
    let breaks = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i];
      if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1 && chars[i + 1] !== " ") {
          this.writeIndent();
        } else {
          this.put(ch);
        }
        spaces = true;
      } else if (isBreak(ch)) {
        if (!breaks && ch === "\n") this.putBreak();
        // WRITE_BREAK: a "\n" is written as a line break, any other break as itself.
        if (ch === "\n") this.putBreak();
        else {
          this.out += ch;
          this.column = 0;
        }
        this.indention = true;
        breaks = true;
      } else {
        if (breaks) this.writeIndent();
        if (ch === "'") this.put("'");
        this.put(ch);
        this.indention = false;
        spaces = false;
        breaks = false;
      }
    }
    if (breaks) this.writeIndent();
    this.writeIndicator("'", false, false, false);
    this.whitespace = false;
    this.indention = false;
  }

  private writeDoubleQuoted(text: string, allowBreaks: boolean): void {
    this.writeIndicator('"', true, false, false);
    const chars = Array.from(text);
    let spaces = false;
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i];
      if (!(ch >= "\x20" && ch <= "\x7E") || ch === '"' || ch === "\\") {
        this.put(escape(ch));
        spaces = false;
      } else if (ch === " ") {
        if (allowBreaks && !spaces && this.column > BEST_WIDTH && i !== 0 && i !== chars.length - 1) {
          this.writeIndent();
          if (chars[i + 1] === " ") this.put("\\");
        } else {
          this.put(ch);
        }
        spaces = true;
      } else {
        this.put(ch);
        spaces = false;
      }
    }
    this.writeIndicator('"', false, false, false);
    this.whitespace = false;
    this.indention = false;
  }
}

const ESCAPE_REPLACEMENTS: Readonly<Record<string, string>> = {
  "\0": "0",
  "\x07": "a",
  "\x08": "b",
  "\x09": "t",
  "\x0A": "n",
  "\x0B": "v",
  "\x0C": "f",
  "\x0D": "r",
  "\x1B": "e",
  '"': '"',
  "\\": "\\",
  "\x85": "N",
  "\xA0": "_",
  "\u2028": "L",
  "\u2029": "P",
};

function escape(ch: string): string {
  if (ESCAPE_REPLACEMENTS[ch] !== undefined) return "\\" + ESCAPE_REPLACEMENTS[ch];
  const code = ch.codePointAt(0)!;
  const hex = code.toString(16).toUpperCase();
  if (code <= 0xff) return "\\x" + hex.padStart(2, "0");
  if (code <= 0xffff) return "\\u" + hex.padStart(4, "0");
  return "\\U" + hex.padStart(8, "0");
}

interface Analysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
}

/** yaml_emitter_analyze_scalar, reduced to what block context needs (unicode off). */
function analyze(scalar: string): Analysis {
  if (!scalar) return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true };
  const chars = Array.from(scalar);
  let blockIndicators = scalar.startsWith("---") || scalar.startsWith("...");
  let lineBreaks = false;
  let specialCharacters = false;
  let leadingSpace = false;
  let leadingBreak = false;
  let trailingSpace = false;
  let trailingBreak = false;
  let breakSpace = false;
  let spaceBreak = false;
  let precededByWhitespace = true;
  let followedByWhitespace = isBlankz(chars[1]);
  let previousSpace = false;
  let previousBreak = false;
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i];
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) blockIndicators = true;
      if ((ch === "?" || ch === ":") && followedByWhitespace) blockIndicators = true;
      if (ch === "-" && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ":" && followedByWhitespace) blockIndicators = true;
      if (ch === "#" && precededByWhitespace) blockIndicators = true;
    }
    // Not printable, or not ASCII while unicode output is off.
    if (!(ch === "\n" || (ch >= "\x20" && ch <= "\x7E"))) specialCharacters = true;
    if (isBreak(ch)) lineBreaks = true;
    if (ch === " ") {
      if (i === 0) leadingSpace = true;
      if (i === chars.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreak(ch)) {
      if (i === 0) leadingBreak = true;
      if (i === chars.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = isBlankz(ch);
    if (i + 1 < chars.length) followedByWhitespace = isBlankz(chars[i + 2]);
  }
  let blockPlainAllowed = true;
  let singleQuotedAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (breakSpace || spaceBreak || specialCharacters) blockPlainAllowed = singleQuotedAllowed = false;
  if (lineBreaks || blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed };
}

/** The plain scalar would be read back as a str (no implicit resolver claims it). */
function resolvesToStr(value: string): boolean {
  return pyYamlResolve(value) === "str";
}
