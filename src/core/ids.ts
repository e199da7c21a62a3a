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
