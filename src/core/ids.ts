import { invalid } from "./errors.ts";

export const BATCH_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;

export function assertBatchId(id: unknown, field = "batchId"): string {
  if (typeof id !== "string" || !BATCH_ID_PATTERN.test(id))
    throw invalid(
      `Invalid ${field} ${JSON.stringify(id)}: use 1-64 lower-case letters, digits, '-' or '_'`,
      { field, pattern: BATCH_ID_PATTERN.source },
      "INVALID_BATCH_ID",
    );
  return id;
}

/** Model ids: the batch id alphabet plus '.', as in `yolo11n.v2`; no leading '.', so no hidden file names. */
export const MODEL_ID_PATTERN = /^[a-z0-9_-][a-z0-9._-]{0,99}$/;

export function assertModelId(id: unknown, field = "modelId"): string {
  if (typeof id !== "string" || !MODEL_ID_PATTERN.test(id))
    throw invalid(
      `Invalid ${field} ${JSON.stringify(id)}: use 1-100 lower-case letters, digits, '-', '_' or '.' (not first)`,
      { field, pattern: MODEL_ID_PATTERN.source },
      "INVALID_MODEL_ID",
    );
  return id;
}
