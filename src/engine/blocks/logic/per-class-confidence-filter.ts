import { asDetections, DETECTION_KINDS, floatInput, predictionsInput, typeIds, withItems } from "../common.ts";
import type { Block } from "../types.ts";

/** `per_class_confidence_filter@v1`: a confidence threshold per class name, and one for the other classes. */
export const perClassConfidenceFilterV1: Block = {
  manifest: {
    types: typeIds("per_class_confidence_filter", "v1"),
    description: "Keeps detections whose confidence reaches their class's threshold.",
    inputs: {
      predictions: predictionsInput(),
      class_thresholds: { kinds: ["dictionary"], static: "object", required: true },
      default_threshold: floatInput(0.3),
    },
    outputs: { predictions: { kinds: DETECTION_KINDS, sameKindAs: "predictions" } },
  },
  async run(inputs) {
    const d = asDetections(inputs.predictions);
    const thresholds = (inputs.class_thresholds ?? {}) as Record<string, number>;
    const fallback = Number(inputs.default_threshold ?? 0.3);
    return { predictions: withItems(d, d.items.filter((det) => det.confidence >= Number(thresholds[det.className] ?? fallback))) };
  },
};
