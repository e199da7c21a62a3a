import type { Classification, Detection } from "../../detections.ts";
import { asDetections, DETECTION_KINDS, typeIds, withItems } from "../common.ts";
import type { Block } from "../types.ts";

/**
 * `detections_classes_replacement@v1`: the two-stage pattern — detect, crop, classify each crop, then give
 * each detection the class its crop was classified as (crops carry their detection's id). Detections whose
 * crop has no classification are dropped, unless a fallback class is given. Each kept box gets a new id.
 */
export const detectionsClassesReplacementV1: Block = {
  manifest: {
    types: typeIds("detections_classes_replacement", "v1", "DetectionsClassesReplacement"),
    description: "Replaces each detection's class with the classification of its crop.",
    inputs: {
      object_detection_predictions: { kinds: DETECTION_KINDS, static: "none", required: true, batch: true },
      classification_predictions: { kinds: ["classification_prediction", "list_of_values", "string"], static: "none", required: true },
      fallback_class_name: { kinds: ["string"], static: "string", default: null },
      fallback_class_id: { kinds: ["integer"], static: "integer", default: null },
    },
    outputs: { predictions: { kinds: DETECTION_KINDS, sameKindAs: "object_detection_predictions" } },
    dimensionality: { offset: -1, collapses: "classification_predictions" },
  },
  async run(inputs, ctx) {
    const d = asDetections(inputs.object_detection_predictions);
    const classified = ((inputs.classification_predictions as unknown[]) ?? []).filter((c) => c !== undefined && c !== null);
    const byParent = new Map<string, { name: string; id: number; confidence: number }>();
    classified.forEach((c, i) => {
      if ((c as Classification).kind === "classification") {
        const cls = c as Classification;
        const top = cls.predictions.find((p) => p.className === cls.top);
        byParent.set(cls.image.id, { name: cls.top, id: top?.classId ?? 0, confidence: top?.confidence ?? cls.confidence });
      } else if (typeof c === "string" && d.items[i]) byParent.set(d.items[i]!.detectionId, { name: c, id: 0, confidence: 1 });
    });
    const fallbackName = inputs.fallback_class_name as string | null;
    const fallbackId = inputs.fallback_class_id as number | null;
    const items: Detection[] = [];
    for (const det of d.items) {
      const found = byParent.get(det.detectionId);
      if (!found && fallbackName === null) continue;
      const cls = found ?? { name: fallbackName!, id: fallbackId !== null && fallbackId >= 0 ? fallbackId : Number.MAX_SAFE_INTEGER, confidence: 0 };
      items.push({ ...det, className: cls.name, classId: cls.id, confidence: cls.confidence, detectionId: ctx.newId() });
    }
    return { predictions: withItems(d, items) };
  },
};
