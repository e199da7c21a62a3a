import { randomInt } from "node:crypto";
import { invalid } from "../core/errors.ts";
import type { Stage } from "./types.ts";

/** Job ids: the batch id alphabet, 1-20 chars, so that `<jobId>-processing` is a valid batch id too. */
export const JOB_ID_PATTERN = /^[a-z0-9_-]{1,20}$/;

export function assertJobId(id: unknown, field = "jobId"): string {
  if (typeof id !== "string" || !JOB_ID_PATTERN.test(id))
    throw invalid(`Invalid ${field} ${JSON.stringify(id)}: use 1-20 lower-case letters, digits, '-' or '_'`, { field, pattern: JOB_ID_PATTERN.source }, "INVALID_JOB_ID");
  return id;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
/** `job-` and 12 random letters and digits (62 bits: collisions are not a concern). */
export const newJobId = () => "job-" + Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");

/** The output batches of a job, one per stage. */
export const processingBatchId = (jobId: string) => `${jobId}-processing`;
export const exportBatchId = (jobId: string) => `${jobId}-export`;
export const stageBatchId = (jobId: string, stage: Stage) => (stage === "processing" ? processingBatchId(jobId) : exportBatchId(jobId));

/** Task ids carry the job and the 1-based position, like the result files (`task-000001.jsonl`). */
export const taskIdOf = (jobId: string, stage: Stage, index: number) =>
  stage === "export" ? `${jobId}-export` : `${jobId}-t${String(index + 1).padStart(6, "0")}`;
