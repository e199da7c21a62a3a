import { invalid } from "../../core/errors.ts";
import type { Page } from "../store.ts";

/** Cursors are opaque to clients: base64url of a JSON array of the last row's sort key. */
export const encodeCursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString("base64url");
export function decodeCursor(cursor: string, arity: number): unknown[] {
  try {
    const key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(key) && key.length === arity) return key;
  } catch {}
  throw invalid("Invalid pageToken: pass back the nextPageToken of the previous page", { field: "pageToken" });
}

/** A page from `pageSize + 1` rows: the extra row only says that there is a next page. */
export function page<T>(rows: T[], pageSize: number, key: (row: T) => unknown[]): Page<T> {
  if (rows.length <= pageSize) return { items: rows, next: undefined };
  const items = rows.slice(0, pageSize);
  return { items, next: encodeCursor(key(items[items.length - 1]!)) };
}
