import { AppError } from "../../../core/errors.ts";
import type { Detections } from "../../detections.ts";
import { runOperations } from "../../uql/index.ts";
import { asDetections, DETECTION_KINDS, predictionsInput, typeIds } from "../common.ts";
import type { Block, StepInputs } from "../types.ts";
import { operationsInput, parametersInput } from "./uql-inputs.ts";

/**
 * `detections_filter@v1` and `detections_transformation@v1`: an operation list (DetectionsFilter,
 * SortDetections, DetectionsRename, ...) applied to each image's detections; the result must still be
 * detections. `operations_parameters` name values the operations can refer to.
 */
function run(inputs: StepInputs, step: string): { predictions: Detections } {
  const params = (inputs.operations_parameters ?? {}) as Record<string, unknown>;
  if ("_" in params) throw new AppError("STEP_FAILED", `operations_parameters may not be named '_' (it is the value under evaluation)`, 400);
  const result = runOperations(inputs.operations as unknown[], asDetections(inputs.predictions), params);
  if ((result as Detections)?.kind !== "detections")
    throw new AppError("UQL_ERROR", `The operations of step '${step}' turned the detections into something else; a detections step must give detections`, 422);
  return { predictions: result as Detections };
}

const manifest = (name: string, aliases: string[], description: string) => ({
  types: typeIds(name, "v1", ...aliases),
  description,
  inputs: { predictions: predictionsInput(), operations: operationsInput(), operations_parameters: parametersInput() },
  outputs: { predictions: { kinds: DETECTION_KINDS, sameKindAs: "predictions" } },
});

export const detectionsFilterV1: Block = {
  manifest: manifest("detections_filter", ["DetectionsFilter"], "Keeps the detections that meet a condition (class, confidence, size, zone, ...)."),
  run: async (inputs, ctx) => run(inputs, ctx.step),
};

export const detectionsTransformationV1: Block = {
  manifest: manifest("detections_transformation", ["DetectionsTransformation"], "Transforms detections with an operation list (filter, sort, rename, offset, ...)."),
  run: async (inputs, ctx) => run(inputs, ctx.step),
};
