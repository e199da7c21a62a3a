import { readFileSync } from "node:fs";
import { AppError } from "../../core/errors.ts";
import type { ApiClient } from "../client.ts";
import { ProgressBar } from "../progress.ts";
import { remoteSizes, type Rejected, type UploadReport } from "./upload.ts";

export interface Reference {
  name: string;
  url: string;
}

/** Reads a JSONL file of `{"name","url"}` lines; a bad line is an error naming the file and line. */
export function readReferences(path: string): Reference[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError("NOT_FOUND", `Cannot read references file '${path}': ${(e as Error).message}`, 404);
  }
  const refs: Reference[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    const where = `${path}:${i + 1}`;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch {
      throw new AppError("VALIDATION_FAILED", `${where}: not a JSON object`, 400, { line: i + 1 });
    }
    const r = row as Partial<Reference>;
    if (typeof r?.name !== "string" || r.name === "") throw new AppError("VALIDATION_FAILED", `${where}: field "name" must be a non-empty string`, 400);
    if (typeof r.url !== "string" || !/^https?:\/\//i.test(r.url))
      throw new AppError("VALIDATION_FAILED", `${where}: field "url" must be an http(s) URL`, 400);
    refs.push({ name: r.name, url: r.url });
  });
  const seen = new Set<string>();
  for (const r of refs) {
    if (seen.has(r.name)) throw new AppError("VALIDATION_FAILED", `${path}: name '${r.name}' appears more than once`, 400);
    seen.add(r.name);
  }
  return refs;
}

/** Asks the server to fetch the references not yet in the batch, in groups, with progress. */
export async function uploadReferences(client: ApiClient, batchId: string, refs: Reference[], overwrite: boolean): Promise<UploadReport> {
  const present = await remoteSizes(client, batchId);
  const todo = overwrite ? refs : refs.filter((r) => !present.has(r.name));
  const report: UploadReport = { batchId, found: refs.length, alreadyPresent: refs.length - todo.length, uploaded: 0, unchanged: 0, bytes: 0, rejected: [] };
  const bar = new ProgressBar(`Fetching into ${batchId}`, todo.length);
  for (let i = 0; i < todo.length; i += 100) {
    const group = todo.slice(i, i + 100);
    const s = await client.json<{ stored: number; replaced: number; unchanged: number; bytes: number; rejected: Rejected[] }>(
      "POST",
      `api/v1/batches/${batchId}/references`,
      { json: { references: group, overwrite } },
    );
    report.uploaded += s.stored + s.replaced;
    report.unchanged += s.unchanged;
    report.bytes += s.bytes;
    report.rejected.push(...s.rejected);
    bar.tick(group.length, s.bytes);
  }
  bar.finish();
  return report;
}
