import { clampBox } from "../../geometry.ts";
import { asDetections, DETECTION_KINDS, intInput, predictionsInput, typeIds, withItems } from "../common.ts";
import type { Block } from "../types.ts";

/**
 * `detection_offset@v1`: grows every box symmetrically — by pixels, or by a percentage of the image size —
 * clipped to the image. Each box gets a new id; its parent becomes the box it came from.
 */
export const detectionOffsetV1: Block = {
  manifest: {
    types: typeIds("detection_offset", "v1", "DetectionOffset"),
    description: "Enlarges detection boxes by a margin in pixels or percent of the image.",
    inputs: {
      predictions: predictionsInput(),
      offset_width: { ...intInput(null, 0), required: true, aliases: ["offset_x"] },
      offset_height: { ...intInput(null, 0), required: true, aliases: ["offset_y"] },
      units: { kinds: [], static: "enum", values: ["Percent (%)", "Pixels"], default: "Pixels" },
    },
    outputs: { predictions: { kinds: DETECTION_KINDS, sameKindAs: "predictions" } },
  },
  async run(inputs, ctx) {
    const d = asDetections(inputs.predictions);
    const ow = Number(inputs.offset_width);
    const oh = Number(inputs.offset_height);
    const percent = inputs.units === "Percent (%)";
    const dx = percent ? Math.floor((d.image.width * ow) / 200) : Math.floor(ow / 2);
    const dy = percent ? Math.floor((d.image.height * oh) / 200) : Math.floor(oh / 2);
    return {
      predictions: withItems(
        d,
        d.items.map((det) => ({
          ...clampBox({ ...det, x1: det.x1 - dx, y1: det.y1 - dy, x2: det.x2 + dx, y2: det.y2 + dy }, d.image.width, d.image.height),
          detectionId: ctx.newId(),
          parentId: det.detectionId,
        })),
      ),
    };
  },
};
