import type { AppError } from "../core/errors.ts";

/** How a task that failed with a retryable error is tried again. */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Wait after the first failure, doubled after each further one… */
  baseMs: number;
  /** …up to this. */
  maxMs: number;
}

export const retryPolicy = (maxAttempts: number): RetryPolicy => ({ maxAttempts, baseMs: 5_000, maxMs: 5 * 60_000 });

/**
 * When a task that has failed `attempt` times (1 after its first failure) may run again: exponential
 * back-off, capped, with "equal jitter" — a random wait in [step/2, step) — so that tasks failing together
 * (a model server restarting, a full disk) do not come back together. `rand` is a number in [0, 1).
 */
export function nextAttemptAt(attempt: number, policy: RetryPolicy, now: number, rand: number): number {
  const step = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return now + Math.round(step / 2 + (step / 2) * rand);
}

/**
 * Errors that would fail the same way on any machine and at any time: the workflow or a model is wrong, or
 * the task's own images are too often bad. Retrying them only wastes machine time, so they fail for good at
 * once (BullMQ's UnrecoverableError).
 */
const UNRECOVERABLE = new Set([
  "WORKFLOW_INVALID",
  "WORKFLOW_NOT_FOUND",
  "INVALID_PARAMETERS",
  "UQL_ERROR",
  "MODEL_NOT_FOUND",
  "MODEL_FILE_MISSING",
  "MODEL_LOAD_FAILED",
  "MODEL_INVALID",
  "MODEL_METADATA_INVALID",
  "MODEL_TASK_MISMATCH",
  "MODEL_WRONG_FAMILY",
  "MODEL_OUTPUT_MISMATCH",
  "MODEL_OUTPUT_UNSUPPORTED",
  "MODEL_LAYOUT_UNSUPPORTED",
  "MODEL_INPUT_SIZE_UNKNOWN",
  "MODEL_CLASSES_INVALID",
  "MODEL_CLASSES_MISSING",
  "MODEL_CLASSES_MISMATCH",
  "MODEL_OVERRIDES_INVALID",
  "OCR_MODEL_MISSING",
  "OCR_MODEL_LOAD_FAILED",
  "OCR_DICTIONARY_MISMATCH",
  "IMAGE_FAILURE_RATE",
  "BATCH_NOT_FOUND",
  "JOB_NOT_FOUND",
]);

export const isRetryable = (error: Pick<AppError, "code">) => !UNRECOVERABLE.has(error.code);
