import type { Detections } from "../../detections.ts";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { imagesInput, typeIds } from "../common.ts";
import type { Block } from "../types.ts";

/**
 * `ocr_model@v1`: the built-in PP-OCR engine (no model to register). `result` is the text, line by line
 * in reading order; `predictions` has one detection per text line whose class is the line's text.
 */
export const ocrV1: Block = {
  manifest: {
    types: typeIds("ocr_model", "v1", "OCRModel"),
    description: "Reads the text in each image (built-in PP-OCR text detection and recognition).",
    inputs: { images: imagesInput() },
    outputs: {
      result: { kinds: ["string"] },
      predictions: { kinds: ["object_detection_prediction"] },
      parent_id: { kinds: ["parent_id"] },
      root_parent_id: { kinds: ["parent_id"] },
      prediction_type: { kinds: ["prediction_type"] },
    },
  },
  async run(inputs, ctx) {
    const image = inputs.images as WorkflowImage;
    const engine = await ctx.ocr();
    const lines = await engine.recognize(await image.rgb());
    const predictions: Detections = {
      kind: "detections",
      image,
      items: lines.map((line) => ({
        x1: line.box[0],
        y1: line.box[1],
        x2: line.box[2],
        y2: line.box[3],
        confidence: line.confidence,
        classId: 0,
        className: line.text,
        detectionId: ctx.newId(),
        parentId: image.id,
        polygon: line.polygon,
        data: { text: line.text },
      })),
    };
    return {
      result: lines.map((l) => l.text).join("\n"),
      predictions,
      parent_id: image.id,
      root_parent_id: image.root.id,
      prediction_type: "ocr",
    };
  },
};
