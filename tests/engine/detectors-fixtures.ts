/**
 * Shared by the detector tests: the real COCO models from ../shared/models as resolved models, photos from
 * ../shared/media, and the reference detections of ../shared/models/README.md.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Detection } from "../../src/engine/detections.ts";
import { DEFAULT_MAX_PIXELS, WorkflowImage } from "../../src/engine/image/workflow-image.ts";
import type { DetectParams } from "../../src/engine/models/runtime.ts";
import type { ModelFamily, ResolvedModel } from "../../src/engine/models/types.ts";
import { shared } from "../helpers.ts";

/** False on a machine without ../shared (outside CI, where `shared()` fails instead): the tests skip. */
export const haveShared = existsSync(shared("models/coco80.txt"));

const coco = () => readFileSync(shared("models/coco80.txt"), "utf8").trim().split("\n");

export function sharedModel(file: string, family: ModelFamily, size: number): ResolvedModel {
  const path = shared(`models/${file}`);
  const bytes = readFileSync(path);
  return {
    path,
    info: {
      modelId: file.replace(/\.onnx$/, ""),
      sha256: new Bun.CryptoHasher("sha256").update(bytes).digest("hex"),
      sizeBytes: bytes.length,
      family,
      task: family === "yolov8-seg" ? "segmentation" : "detection",
      classNames: coco(),
      input: { name: "images", shape: [1, 3, size, size], type: "float32", width: size, height: size, dynamicBatch: false },
      outputs: [],
      metadata: {},
    },
  };
}

export const MODELS = () => ({
  yolov8n640: sharedModel("yolov8n-640-int8.onnx", "yolov8", 640),
  yolov8n320: sharedModel("yolov8n-320-int8.onnx", "yolov8", 320),
  seg320: sharedModel("yolov8n-seg-320-int8.onnx", "yolov8-seg", 320),
  yoloxNano: sharedModel("yolox-nano-416.onnx", "yolox", 416),
});

export type Box = [number, number, number, number];

/** Reference boxes (x1 y1 x2 y2, original pixels) from ../shared/models/README.md. */
export const REFERENCE: Record<string, { messiPerson: Box; messiBall: Box; basketball: [Box, Box] }> = {
  "yolov8n-640-int8": { messiPerson: [66, 61, 458, 337], messiBall: [338, 289, 389, 336], basketball: [[34, 80, 163, 477], [434, 22, 640, 460]] },
  "yolov8n-320-int8": { messiPerson: [68, 68, 461, 334], messiBall: [337, 288, 387, 335], basketball: [[39, 87, 161, 471], [434, 21, 637, 468]] },
  "yolov8n-seg-320-int8": { messiPerson: [66, 67, 456, 335], messiBall: [337, 289, 389, 337], basketball: [[37, 86, 167, 473], [435, 19, 640, 470]] },
  "yolox-nano-416": { messiPerson: [66, 60, 486, 337], messiBall: [338, 292, 386, 338], basketball: [[34, 83, 170, 478], [432, 20, 641, 481]] },
};

export const media = (file: string) => new Uint8Array(readFileSync(shared(`media/${file}`)));

export const imageOf = (bytes: Uint8Array, id: string) => WorkflowImage.fromEncoded(bytes, id, { maxPixels: DEFAULT_MAX_PIXELS });

export const boxOf = (d: Detection): Box => [d.x1, d.y1, d.x2, d.y2];

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

/** The detection of `className` that best matches `ref`, and its IoU (0 when there is none). */
export function bestMatch(items: Detection[], className: string, ref: Box): { detection: Detection | undefined; iou: number } {
  let detection: Detection | undefined;
  let best = 0;
  for (const d of items) {
    const v = d.className === className ? iou(boxOf(d), ref) : 0;
    if (v > best) [detection, best] = [d, v];
  }
  return { detection, iou: best };
}

export const DEFAULT_DETECT: DetectParams = { confidence: 0.3, iouThreshold: 0.45, maxDetections: 300, classAgnosticNms: false };
