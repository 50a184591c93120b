/** Where the CLI writes, and the small formatting helpers its commands share. */

export interface Io {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Record<string, string | undefined>;
  readStdin(): Promise<string>;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: Array<Array<string | number | null | undefined>>): string {
  const cells = [headers, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined || cell === "" ? "-" : String(cell))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => clean(row[i] ?? "").length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? clean(cell) : clean(cell).padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n")
    .concat("\n");
}

/** `key  value` lines, keys aligned. */
export function keyValues(pairs: Array<[string, string | number | null | undefined]>): string {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${k.padEnd(width)}  ${v === null || v === undefined || v === "" ? "-" : clean(String(v))}`).join("\n") + "\n";
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

/** Control characters from the server (a name, a message) must not drive the terminal. */
function clean(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, "?").replace(/\n/g, " ");
}

/**
 * YAML for plain JSON data (as `-o yaml` prints it): block mappings and lists, every string
 * double-quoted as JSON writes it (valid YAML, so nothing reads as a number or a boolean by
 * accident), key order kept.
 */
export function yaml(value: unknown, indent = 0): string {
  const pad = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return `${pad}[]\n`;
    return value.map((item) => (isBlock(item) ? `${pad}-\n${yaml(item, indent + 2)}` : `${pad}- ${scalar(item)}\n`)).join("");
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length === 0) return `${pad}{}\n`;
    return entries.map(([k, v]) => (isBlock(v) ? `${pad}${JSON.stringify(k)}:\n${yaml(v, indent + 2)}` : `${pad}${JSON.stringify(k)}: ${scalar(v)}\n`)).join("");
  }
  return `${pad}${scalar(value)}\n`;
}

function isBlock(value: unknown): boolean {
  return value !== null && typeof value === "object" && Object.keys(value).length > 0;
}

function scalar(value: unknown): string {
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "[]";
  if (typeof value === "object") return "{}";
  return JSON.stringify(value);
}
