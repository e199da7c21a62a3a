import type { Block, InputSpec, StepInputs } from "../types.ts";
import { ACTIVE_LEARNING_INPUTS, boolInput, floatInput, imagesInput, intInput, typeIds } from "../common.ts";
import { batchedBlock, confidenceModeInputs, confidenceOf, modelOutputs, runGrouped } from "./model-block.ts";

/** `roboflow_object_detection_model` v1-v3: a detector (YOLOv8/YOLO11 or YOLOX) over each image. */
// A segmentation model also answers a detection step (its outlines come along), as the reference allows.
export const DETECTOR_FAMILIES = ["yolov8", "yolox", "yolov8-seg"] as const;

export const detectorInputs = (families: readonly ("yolov8" | "yolov8-seg" | "yolox")[]): Record<string, InputSpec> => ({
  images: imagesInput(),
  model_id: { kinds: ["roboflow_model_id", "string"], static: "string", required: true, model: { families } },
  class_filter: { kinds: ["list_of_values"], static: "string[]", default: null },
  iou_threshold: floatInput(0.3),
  max_detections: intInput(300, 1),
  class_agnostic_nms: boolInput(false),
  max_candidates: intInput(3000, 1),
  ...ACTIVE_LEARNING_INPUTS,
});

export const detectParams = (i: StepInputs) => ({
  confidence: confidenceOf(i),
  iouThreshold: (i.iou_threshold as number | null) ?? 0.3,
  classFilter: (i.class_filter as string[] | null) ?? undefined,
  maxDetections: (i.max_detections as number | null) ?? 300,
  classAgnosticNms: (i.class_agnostic_nms as boolean | null) ?? false,
});

/** Detectors and segmenters run the same way; the model's family decides whether polygons come too. */
export const runDetector = (withModelId: boolean) => (inputs: StepInputs[], ctx: Parameters<typeof runGrouped>[1]) =>
  runGrouped(inputs, ctx, detectParams, async (modelId, images, first) => {
    const results = await ctx.runtime.detect(await ctx.model(modelId), images, detectParams(first));
    return results.map((d) => modelOutputs(first, d, withModelId));
  });

const NAME = "roboflow_object_detection_model";
const DESCRIPTION = "Object detection: boxes with class and confidence for each image (YOLOv8/YOLO11 or YOLOX ONNX models).";
const outputsV1 = { inference_id: { kinds: ["string"] }, predictions: { kinds: ["object_detection_prediction"] } } as const;
const outputsV2 = { inference_id: { kinds: ["inference_id"] }, predictions: { kinds: ["object_detection_prediction"] }, model_id: { kinds: ["roboflow_model_id"] } } as const;

export const objectDetectionV1 = batchedBlock(
  { types: typeIds(NAME, "v1", "RoboflowObjectDetectionModel", "ObjectDetectionModel"), description: DESCRIPTION, inputs: { ...detectorInputs(DETECTOR_FAMILIES), confidence: floatInput(0.4) }, outputs: outputsV1 },
  runDetector(false),
);
export const objectDetectionV2 = batchedBlock(
  { types: typeIds(NAME, "v2"), description: DESCRIPTION, inputs: { ...detectorInputs(DETECTOR_FAMILIES), confidence: floatInput(0.4) }, outputs: outputsV2 },
  runDetector(true),
);
export const objectDetectionV3 = batchedBlock(
  { types: typeIds(NAME, "v3"), description: DESCRIPTION, inputs: { ...detectorInputs(DETECTOR_FAMILIES), ...confidenceModeInputs(["best", "default", "custom"], "best") }, outputs: outputsV2 },
  runDetector(true),
);
