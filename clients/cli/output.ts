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
