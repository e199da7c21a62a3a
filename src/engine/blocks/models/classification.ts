import { ACTIVE_LEARNING_INPUTS, floatInput, imagesInput, typeIds } from "../common.ts";
import type { InputSpec, StepInputs } from "../types.ts";
import { batchedBlock, confidenceModeInputs, confidenceOf, modelOutputs, runGrouped } from "./model-block.ts";

/** `roboflow_classification_model` v1-v3: a single-label classifier over each image (or crop). */
const NAME = "roboflow_classification_model";
const DESCRIPTION = "Single-label classification of each image or crop (ONNX classifiers with [N, C] output).";

const baseInputs: Record<string, InputSpec> = {
  images: imagesInput(),
  model_id: { kinds: ["roboflow_model_id", "string"], static: "string", required: true, model: { families: ["classifier"] } },
  ...ACTIVE_LEARNING_INPUTS,
};
const outputsV1 = { predictions: { kinds: ["classification_prediction"] }, inference_id: { kinds: ["string"] } } as const;
const outputsV2 = { predictions: { kinds: ["classification_prediction"] }, inference_id: { kinds: ["inference_id"] }, model_id: { kinds: ["roboflow_model_id"] } } as const;

const classify = (withModelId: boolean) => (inputs: StepInputs[], ctx: Parameters<typeof runGrouped>[1]) =>
  runGrouped(inputs, ctx, confidenceOf, async (modelId, images, first) => {
    const results = await ctx.runtime.classify(await ctx.model(modelId), images, { confidence: confidenceOf(first) });
    return results.map((c) => modelOutputs(first, c, withModelId));
  });

export const classificationV1 = batchedBlock(
  { types: typeIds(NAME, "v1", "RoboflowClassificationModel", "ClassificationModel"), description: DESCRIPTION, inputs: { ...baseInputs, confidence: floatInput(0.4) }, outputs: outputsV1 },
  classify(false),
);
export const classificationV2 = batchedBlock(
  { types: typeIds(NAME, "v2"), description: DESCRIPTION, inputs: { ...baseInputs, confidence: floatInput(0.4) }, outputs: outputsV2 },
  classify(true),
);
export const classificationV3 = batchedBlock(
  { types: typeIds(NAME, "v3"), description: DESCRIPTION, inputs: { ...baseInputs, ...confidenceModeInputs(["default", "custom"], "default") }, outputs: outputsV2 },
  classify(true),
);
