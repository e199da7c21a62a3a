import { closeSync, openSync, writeSync } from "node:fs";

/**
 * A task's result file, written row by row as images finish: JSONL (one object per image) or CSV (a header
 * `image` + one column per workflow output; values that are not plain scalars are JSON text in the cell).
 */
export interface RowWriter {
  write(row: Record<string, unknown>): void;
  close(): void;
}

export function openRowWriter(path: string, format: "jsonl" | "csv", columns: string[]): RowWriter {
  const fd = openSync(path, "w");
  const put = (text: string) => {
    const bytes = Buffer.from(text);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
  };
  if (format === "csv") put(csvLine(columns) + "\r\n");
  return {
    write(row) {
      put(format === "jsonl" ? JSON.stringify(row) + "\n" : csvLine(columns.map((c) => cell(row[c]))) + "\r\n");
    },
    close: () => closeSync(fd),
  };
}

/** A CSV cell's text: strings as they are, other scalars as text, objects and lists as JSON; null is empty. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/** RFC 4180: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvLine(fields: string[]): string {
  return fields.map((f) => (/[",\r\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(",");
}
