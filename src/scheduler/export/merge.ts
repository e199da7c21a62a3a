import { AppError } from "../../core/errors.ts";
import { csvLine } from "../result-rows.ts";
import { csvValue, readCsv } from "./csv.ts";
import { readLines, writeTextFile, type FileWriter } from "./text-io.ts";

/** One result row as the detection exporters see it, whatever the file format. */
export interface ResultRow {
  image: string;
  /** Video rows: the frame's number; null for images. */
  frame: number | null;
  /** The row's workflow outputs (not `image` and the frame columns). */
  outputs: readonly string[];
  value(output: string): unknown;
}

export type RowVisitor = (row: ResultRow) => void;

export interface MergeCounts {
  rows: number;
  /** Distinct inputs: a video's frames are consecutive rows of one input. */
  images: number;
}

const NOT_OUTPUTS = new Set(["image", "frame_number", "frame_timestamp"]);

/**
 * Concatenates the processing result files (already in input order) into one file of the same format,
 * row by row, showing each row to `visit` on the way. Memory holds one row at a time.
 */
export async function mergeResults(format: "jsonl" | "csv", files: string[], outPath: string, visit: RowVisitor): Promise<MergeCounts & { bytes: number }> {
  const counts: MergeCounts = { rows: 0, images: 0 };
  let previous: string | undefined;
  const counted: RowVisitor = (row) => {
    counts.rows++;
    if (row.image !== previous) counts.images++;
    previous = row.image;
    visit(row);
  };
  const bytes = await writeTextFile(outPath, (out) => (format === "jsonl" ? mergeJsonl(files, out, counted) : mergeCsv(files, out, counted)));
  return { ...counts, bytes };
}

async function mergeJsonl(files: string[], out: FileWriter, visit: RowVisitor): Promise<void> {
  for (const file of files) {
    let lineNo = 0;
    for await (const line of readLines(file)) {
      lineNo++;
      if (line.trim() === "") continue;
      const row = parseJsonRow(line, file, lineNo);
      out.write(line);
      out.write("\n");
      visit(jsonRow(row));
    }
  }
}

export function parseJsonRow(line: string, file: string, lineNo: number): Record<string, unknown> {
  let row: unknown;
  try {
    row = JSON.parse(line);
  } catch {
    row = undefined;
  }
  if (typeof row !== "object" || row === null || Array.isArray(row))
    throw new AppError("INVALID_RESULT_FILE", `Line ${lineNo} of ${file} is not a JSON object`, 500, { file, line: lineNo });
  return row as Record<string, unknown>;
}

function jsonRow(row: Record<string, unknown>): ResultRow {
  return {
    image: String(row.image ?? ""),
    frame: frameNumber(row.frame_number),
    outputs: Object.keys(row).filter((k) => !NOT_OUTPUTS.has(k)),
    value: (output) => row[output],
  };
}

function frameNumber(value: unknown): number | null {
  if (value === null || value === undefined || value === "") return null;
  const n = Number(value);
  return Number.isFinite(n) ? n : null;
}

/**
 * CSV: the merged header is `image` then every other column in the order first met (all tasks run the
 * same workflow, so normally every file has the same columns); each file's cells are moved under it.
 */
async function mergeCsv(files: string[], out: FileWriter, visit: RowVisitor): Promise<void> {
  const columns = await mergedColumns(files);
  const at = new Map(columns.map((c, i) => [c, i]));
  const outputs = columns.filter((c) => !NOT_OUTPUTS.has(c));
  const frameAt = at.get("frame_number");
  out.write(csvLine(columns) + "\r\n");
  for (const file of files) {
    let positions: number[] | undefined;
    for await (const cells of readCsv(file)) {
      if (!positions) {
        positions = cells.map((c) => at.get(c)!);
        continue;
      }
      const row = new Array<string>(columns.length).fill("");
      for (let i = 0; i < cells.length && i < positions.length; i++) row[positions[i]!] = cells[i]!;
      out.write(csvLine(row));
      out.write("\r\n");
      visit({
        image: row[0]!,
        frame: frameAt === undefined ? null : frameNumber(row[frameAt]),
        outputs,
        value: (output) => csvValue(row[at.get(output) ?? -1] ?? ""),
      });
    }
  }
}

async function mergedColumns(files: string[]): Promise<string[]> {
  const columns = ["image"];
  const seen = new Set(columns);
  for (const file of files) {
    for await (const header of readCsv(file)) {
      for (const c of header) {
        if (seen.has(c)) continue;
        seen.add(c);
        columns.push(c);
      }
      break;
    }
  }
  return columns;
}

export interface ErrorCounts {
  failed: number;
  byCode: Record<string, number>;
  bytes: number;
}

/** Concatenates the per-task error files into errors.jsonl, counting failures by code. */
export async function mergeErrors(files: string[], outPath: string): Promise<ErrorCounts> {
  const counts = { failed: 0, byCode: {} as Record<string, number> };
  const bytes = await writeTextFile(outPath, async (out) => {
    for (const file of files) {
      let lineNo = 0;
      for await (const line of readLines(file)) {
        lineNo++;
        if (line.trim() === "") continue;
        const code = String(parseJsonRow(line, file, lineNo).code ?? "UNKNOWN");
        counts.failed++;
        counts.byCode[code] = (counts.byCode[code] ?? 0) + 1;
        out.write(line);
        out.write("\n");
      }
    }
  });
  return { ...counts, bytes };
}
