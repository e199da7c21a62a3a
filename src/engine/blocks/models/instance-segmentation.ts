import { enumInput, floatInput, typeIds } from "../common.ts";
import { batchedBlock, confidenceModeInputs } from "./model-block.ts";
import { detectorInputs, runDetector } from "./object-detection.ts";

/** `roboflow_instance_segmentation_model` v1-v3: YOLOv8-seg boxes with an outline polygon per instance. */
const NAME = "roboflow_instance_segmentation_model";
const DESCRIPTION = "Instance segmentation: boxes plus the outline of each object (YOLOv8/YOLO11-seg ONNX models).";
const FAMILIES = ["yolov8-seg"] as const;

/** Mask decoding is always exact here; the reference's speed trade-off fields are accepted for compatibility. */
const maskInputs = { mask_decode_mode: enumInput(["accurate", "tradeoff", "fast"], "accurate"), tradeoff_factor: floatInput(0) };
const outputsV1 = { inference_id: { kinds: ["string"] }, predictions: { kinds: ["instance_segmentation_prediction"] } } as const;
const outputsV2 = { inference_id: { kinds: ["inference_id"] }, predictions: { kinds: ["instance_segmentation_prediction"] }, model_id: { kinds: ["roboflow_model_id"] } } as const;

export const instanceSegmentationV1 = batchedBlock(
  { types: typeIds(NAME, "v1", "RoboflowInstanceSegmentationModel", "InstanceSegmentationModel"), description: DESCRIPTION, inputs: { ...detectorInputs(FAMILIES), ...maskInputs, confidence: floatInput(0.4) }, outputs: outputsV1 },
  runDetector(false),
);
export const instanceSegmentationV2 = batchedBlock(
  { types: typeIds(NAME, "v2"), description: DESCRIPTION, inputs: { ...detectorInputs(FAMILIES), ...maskInputs, confidence: floatInput(0.4) }, outputs: outputsV2 },
  runDetector(true),
);
export const instanceSegmentationV3 = batchedBlock(
  {
    types: typeIds(NAME, "v3"),
    description: DESCRIPTION,
    inputs: { ...detectorInputs(FAMILIES), ...maskInputs, ...confidenceModeInputs(["best", "default", "custom"], "best"), enforce_dense_masks_in_inference_models: { kinds: ["boolean"], static: "boolean", default: true } },
    outputs: outputsV2,
  },
  runDetector(true),
);
