import { DETECTIONS_OPERATIONS } from "./detections-ops.ts";
import { MEDIA_OPERATIONS } from "./media-ops.ts";
import { SCALAR_OPERATIONS } from "./scalar-ops.ts";
import { SEQUENCE_OPERATIONS } from "./sequence-ops.ts";
import type { OperationSpec } from "./types.ts";

/** Every operation the language has, by the `type` definitions use: its fields and how it runs. */
export const OPERATIONS: Record<string, OperationSpec> = {
  ...DETECTIONS_OPERATIONS,
  ...SEQUENCE_OPERATIONS,
  ...SCALAR_OPERATIONS,
  ...MEDIA_OPERATIONS,
};

export const OPERATION_NAMES = Object.keys(OPERATIONS).sort();
