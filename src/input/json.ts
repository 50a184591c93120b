/**
 * JSON that users send (`extra`, import files, GraphQL variables), made safe to use before
 * anything recurses over it or copies its keys:
 *
 * - nesting is measured without recursion and bounded (MAX_JSON_DEPTH), so a 10 KB document
 *   of brackets cannot exhaust the stack or the heap;
 * - the keys `__proto__`, `constructor` and `prototype` are refused at every depth, so no
 *   later `target[key] = value` can reach an object's prototype;
 * - strings and keys must be storable text: no NUL (PostgreSQL text and jsonb refuse it) and
 *   no lone UTF-16 surrogates (not Unicode at all);
 * - copies are built without a prototype at the top level, the map that code fills key by key.
 */

/** Levels of arrays and objects a user's JSON may nest; real connection extras use 2 or 3. */
export const MAX_JSON_DEPTH = 32;

const PROTOTYPE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** A problem with user JSON; `path` leads from the top value to the offending one. */
export class UnsafeJsonError extends Error {
  constructor(
    message: string,
    readonly path: readonly string[],
  ) {
    super(message);
  }
}

export type JsonObject = Record<string, unknown>;

export function isPrototypeKey(key: string): boolean {
  return PROTOTYPE_KEYS.has(key);
}

/** Why a string cannot be stored as text, or null when it can. */
export function textProblem(value: string): string | null {
  if (value.includes("\u0000")) return "must not contain NUL characters";
  if (hasLoneSurrogate(value)) return "must be valid Unicode text (it holds a lone surrogate)";
  return null;
}

export function hasLoneSurrogate(value: string): boolean {
  // isWellFormed() is Node 20+; the regex is the fallback for older V8s.
  const wellFormed = (value as { isWellFormed?: () => boolean }).isWellFormed;
  if (wellFormed) return !wellFormed.call(value);
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(value);
}

/**
 * Whether JSON text nests arrays and objects more than `limit` levels deep. One pass over the
 * characters, no recursion, no allocation: safe to run on any text before JSON.parse. Text
 * that is not JSON gets an answer too (brackets outside strings are counted); the parser
 * reports what is wrong with it afterwards.
 */
export function jsonTextNestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c /* \ */) i++;
      else if (ch === 0x22 /* " */) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x5b /* [ */ || ch === 0x7b /* { */) {
      if (++depth > limit) return true;
    } else if (ch === 0x5d /* ] */ || ch === 0x7d /* } */) depth = Math.max(0, depth - 1);
  }
  return false;
}

/**
 * JSON.parse for user text, bounded first. Throws UnsafeJsonError for a document that nests
 * too deeply or holds a prototype key or unstorable text, and SyntaxError for one that is not
 * JSON (whose message may quote the text: callers say where, not what).
 */
export function parseUserJson(text: string, maxDepth = MAX_JSON_DEPTH): unknown {
  if (jsonTextNestsDeeperThan(text, maxDepth)) throw tooDeep(maxDepth, []);
  return safeJsonCopy(JSON.parse(text), maxDepth);
}

/**
 * A copy of a JSON value (as JSON.parse or a GraphQL JSON scalar gives it) that is safe to
 * use, or UnsafeJsonError naming the first problem. Walks with an explicit stack, so depth is
 * checked before it is used. The top-level object of the copy has no prototype; nested
 * objects are plain objects, safe because no prototype key survives at any depth.
 */
export function safeJsonCopy(value: unknown, maxDepth = MAX_JSON_DEPTH): unknown {
  const root: { value: unknown } = { value: undefined };
  const stack: Array<{ source: unknown; assign: (copy: unknown) => void; depth: number; path: string[] }> = [
    { source: value, assign: (copy) => (root.value = copy), depth: 0, path: [] },
  ];
  while (stack.length > 0) {
    const { source, assign, depth, path } = stack.pop()!;
    if (source === null || typeof source === "boolean") {
      assign(source);
    } else if (typeof source === "number") {
      if (!Number.isFinite(source)) throw new UnsafeJsonError("numbers must be finite", path);
      assign(source);
    } else if (typeof source === "string") {
      const problem = textProblem(source);
      if (problem) throw new UnsafeJsonError(`text ${problem}`, path);
      assign(source);
    } else if (Array.isArray(source)) {
      if (depth + 1 > maxDepth) throw tooDeep(maxDepth, path);
      const copy: unknown[] = new Array(source.length);
      assign(copy);
      source.forEach((item, index) => {
        stack.push({ source: item, assign: (c) => (copy[index] = c), depth: depth + 1, path: [...path, String(index)] });
      });
    } else if (typeof source === "object" && isPlainObject(source)) {
      if (depth + 1 > maxDepth) throw tooDeep(maxDepth, path);
      const copy: JsonObject = depth === 0 ? Object.create(null) : {};
      assign(copy);
      const keys = Object.keys(source);
      for (const key of keys) {
        if (isPrototypeKey(key)) throw new UnsafeJsonError(`the key "${key}" is not allowed`, [...path, key]);
        const problem = textProblem(key);
        if (problem) throw new UnsafeJsonError(`keys ${problem}`, path);
        copy[key] = null; // created now, in the source's order; filled when its turn comes
      }
      for (const key of keys) {
        stack.push({ source: (source as JsonObject)[key], assign: (c) => (copy[key] = c), depth: depth + 1, path: [...path, key] });
      }
    } else {
      throw new UnsafeJsonError("only JSON values are allowed", path);
    }
  }
  return root.value;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function tooDeep(maxDepth: number, path: string[]): UnsafeJsonError {
  return new UnsafeJsonError(`JSON may nest at most ${maxDepth} levels of arrays and objects`, path);
}

/** A map filled key by key from user keys: no prototype, so no key can reach one. */
export function emptyObject<T = unknown>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Object.fromEntries into an object without a prototype. */
export function objectFromEntries<T>(entries: Iterable<readonly [string, T]>): Record<string, T> {
  const out = emptyObject<T>();
  for (const [key, value] of entries) {
    if (isPrototypeKey(key)) throw new UnsafeJsonError(`the key "${key}" is not allowed`, [key]);
    out[key] = value;
  }
  return out;
}
