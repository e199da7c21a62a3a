/**
 * The blocks the engine supports: the list of block files. A workflow step's `type` is looked up here
 * (with or without the `roboflow_core/` prefix, or by an older alias).
 */
import type { Block } from "./types.ts";
import { classificationV1, classificationV2, classificationV3 } from "./models/classification.ts";
import { instanceSegmentationV1, instanceSegmentationV2, instanceSegmentationV3 } from "./models/instance-segmentation.ts";
import { objectDetectionV1, objectDetectionV2, objectDetectionV3 } from "./models/object-detection.ts";
import { ocrV1 } from "./models/ocr.ts";
import { detectionOffsetV1 } from "./transforms/detection-offset.ts";
import { detectionsStitchV1 } from "./transforms/detections-stitch.ts";
import { dynamicCropV1 } from "./transforms/dynamic-crop.ts";
import { imageSlicerV1, imageSlicerV2 } from "./transforms/image-slicer.ts";
import { absoluteStaticCropV1, relativeStaticCropV1 } from "./transforms/static-crop.ts";
import { blurVisualizationV1 } from "./visualizations/blur.ts";
import { labelVisualizationV1, labelVisualizationV2 } from "./visualizations/label.ts";
import { boundingBoxVisualizationV1, maskVisualizationV1, polygonVisualizationV1 } from "./visualizations/shapes.ts";
import { lineCounterVisualizationV1, traceVisualizationV1 } from "./visualizations/video.ts";
import { continueIfV1 } from "./logic/continue-if.ts";
import { detectionsClassesReplacementV1 } from "./logic/detections-classes-replacement.ts";
import { detectionsConsensusV1 } from "./logic/detections-consensus.ts";
import { detectionsFilterV1, detectionsTransformationV1 } from "./logic/detections-filter.ts";
import { dimensionCollapseV1, expressionV1, firstNonEmptyOrDefaultV1, propertyDefinitionV1 } from "./logic/formatters.ts";
import { perClassConfidenceFilterV1 } from "./logic/per-class-confidence-filter.ts";
import { byteTrackerV1, byteTrackerV2, byteTrackerV3 } from "./video/byte-tracker.ts";
import { lineCounterV1, lineCounterV2 } from "./video/line-counter.ts";
import { timeInZoneV1, timeInZoneV2, timeInZoneV3 } from "./video/time-in-zone.ts";

export const BLOCKS: readonly Block[] = [
  objectDetectionV1,
  objectDetectionV2,
  objectDetectionV3,
  instanceSegmentationV1,
  instanceSegmentationV2,
  instanceSegmentationV3,
  classificationV1,
  classificationV2,
  classificationV3,
  ocrV1,
  dynamicCropV1,
  absoluteStaticCropV1,
  relativeStaticCropV1,
  detectionOffsetV1,
  imageSlicerV1,
  imageSlicerV2,
  detectionsStitchV1,
  boundingBoxVisualizationV1,
  labelVisualizationV1,
  labelVisualizationV2,
  polygonVisualizationV1,
  maskVisualizationV1,
  blurVisualizationV1,
  traceVisualizationV1,
  lineCounterVisualizationV1,
  detectionsFilterV1,
  detectionsTransformationV1,
  perClassConfidenceFilterV1,
  detectionsClassesReplacementV1,
  detectionsConsensusV1,
  propertyDefinitionV1,
  expressionV1,
  continueIfV1,
  dimensionCollapseV1,
  firstNonEmptyOrDefaultV1,
  byteTrackerV1,
  byteTrackerV2,
  byteTrackerV3,
  lineCounterV1,
  lineCounterV2,
  timeInZoneV1,
  timeInZoneV2,
  timeInZoneV3,
];
