import { rmSync, statSync } from "node:fs";
import { checkFileName, checkPartName } from "../storage/file-names.ts";
import type { Staging } from "../storage/staging.ts";
import type { BatchFileRecord } from "../storage/store.ts";
import type { TaskResult } from "./types.ts";

/** A result file ready to move: its row (size and hash read from the temp file) and both paths. */
export interface ResultFile {
  row: BatchFileRecord;
  tempPath: string;
  finalPath: string;
}

/**
 * Checks a task's result files and reads their size and sha256 (streamed: an export archive may be large).
 * Nothing is moved yet; this may take a while, so it runs before the fenced, synchronous part.
 */
export async function describeResultFiles(staging: Staging, batchId: string, files: TaskResult["files"], nowMs: number): Promise<ResultFile[]> {
  const out: ResultFile[] = [];
  for (const f of files) {
    const part = checkPartName(f.part);
    const name = checkFileName(f.name);
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of Bun.file(f.tempPath).stream()) hasher.update(chunk);
    out.push({
      row: { batchId, part, name, sizeBytes: statSync(f.tempPath).size, sha256: hasher.digest("hex"), contentType: f.contentType, createdAtMs: nowMs },
      tempPath: f.tempPath,
      finalPath: staging.filePath({ id: batchId, kind: "output" }, part, name),
    });
  }
  return out;
}

/**
 * Renames the files into the output batch, then runs `commit` (the transaction that makes them count). If
 * either fails, the files already moved are removed: results are visible exactly when the task succeeded.
 */
export function moveThenCommit<T>(staging: Staging, files: ResultFile[], commit: () => T): T {
  const moved: string[] = [];
  try {
    for (const f of files) {
      staging.commit(f.tempPath, f.finalPath);
      moved.push(f.finalPath);
    }
    return commit();
  } catch (e) {
    for (const path of moved) rmSync(path, { force: true });
    throw e;
  }
}
