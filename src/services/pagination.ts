/** Opaque cursors for keyset pagination, and the page-size rule every list shares. */
import { BadUserInputError } from "../errors";

export const MAX_PAGE_SIZE = 200;

export function pageSize(first: number | null | undefined, fallback: number): number {
  const size = first ?? fallback;
  if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE_SIZE) {
    throw new BadUserInputError(`first must be from 1 to ${MAX_PAGE_SIZE}.`, "first");
  }
  return size;
}

export function encodeCursor(parts: readonly string[]): string {
  return Buffer.from(JSON.stringify(parts)).toString("base64url");
}

export function decodeCursor(cursor: string, length: number): string[] {
  try {
    const parts: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(parts) && parts.length === length && parts.every((p) => typeof p === "string")) return parts;
  } catch {
    // fall through
  }
  throw new BadUserInputError("This cursor is not one the server gave out.", "after");
}

export interface Page<T> {
  nodes: T[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/** Cuts the extra row fetched to learn whether another page follows. */
export function toPage<T>(rows: T[], size: number, cursorOf: (row: T) => string[]): Page<T> {
  const hasNextPage = rows.length > size;
  const nodes = hasNextPage ? rows.slice(0, size) : rows;
  const last = nodes[nodes.length - 1];
  return { nodes, pageInfo: { hasNextPage, endCursor: last ? encodeCursor(cursorOf(last)) : null } };
}
