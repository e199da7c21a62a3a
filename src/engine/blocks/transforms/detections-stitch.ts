import type { Detection, Detections } from "../../detections.ts";
import { suppress } from "../../geometry.ts";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { enumInput, floatInput, imagesInput, typeIds } from "../common.ts";
import type { Block } from "../types.ts";

/**
 * `detections_stitch@v1`: brings the detections made on the slices (or crops) of an image back into that
 * image and merges the overlaps where tiles met: NMS keeps the best box, NMM merges boxes into one.
 */
export const detectionsStitchV1: Block = {
  manifest: {
    types: typeIds("detections_stitch", "v1"),
    description: "Merges detections made on slices or crops back into the image they came from.",
    inputs: {
      reference_image: imagesInput(),
      predictions: { kinds: ["object_detection_prediction", "instance_segmentation_prediction"], static: "none", required: true },
      overlap_filtering_strategy: enumInput(["none", "nms", "nmm"], "nms"),
      iou_threshold: floatInput(0.3),
    },
    outputs: { predictions: { kinds: ["object_detection_prediction", "instance_segmentation_prediction"] } },
    dimensionality: { offset: -1, collapses: "predictions" },
  },
  async run(inputs) {
    const reference = inputs.reference_image as WorkflowImage;
    const parts = ((inputs.predictions as (Detections | null | undefined)[]) ?? []).filter((d): d is Detections => !!d);
    const items = parts.flatMap((d) => d.items.map((det) => moveInto(det, d, reference)));
    const strategy = inputs.overlap_filtering_strategy ?? "nms";
    const opts = { score: (d: Detection) => d.confidence, classOf: (d: Detection) => d.classId, iouThreshold: Number(inputs.iou_threshold ?? 0.3), classAgnostic: false };
    const merged = strategy === "none" ? items : strategy === "nmm" ? suppress(items, opts, mergeBoxes) : suppress(items, opts);
    const result: Detections = { kind: "detections", image: reference, items: merged };
    return { predictions: result };
  },
};

/** A detection of a slice in the coordinates of the reference image (both know their place in the root). */
function moveInto(det: Detection, from: Detections, reference: WorkflowImage): Detection {
  const dx = from.image.root.offsetX - reference.root.offsetX;
  const dy = from.image.root.offsetY - reference.root.offsetY;
  return {
    ...det,
    x1: det.x1 + dx,
    y1: det.y1 + dy,
    x2: det.x2 + dx,
    y2: det.y2 + dy,
    parentId: reference.id,
    ...(det.polygon ? { polygon: det.polygon.map(([x, y]) => [x + dx, y + dy] as [number, number]) } : {}),
  };
}

function mergeBoxes(kept: Detection, dropped: Detection): Detection {
  return {
    ...kept,
    x1: Math.min(kept.x1, dropped.x1),
    y1: Math.min(kept.y1, dropped.y1),
    x2: Math.max(kept.x2, dropped.x2),
    y2: Math.max(kept.y2, dropped.y2),
  };
}
