import type { OutputView } from "../sessions.ts";
import type { Candidate, CandidateFilter } from "./nms.ts";

/** Ultralytics pre-processing: RGB scaled to 0..1, letterboxed centred with grey 114. */
export const YOLOV8_INPUT = { align: "center", order: "rgb", factor: 1 / 255 } as const;

/**
 * Candidates from a channel-major [4 + C + extra, A] output (YOLOv8/YOLO11): rows 0..3 are box centre and
 * size in input pixels, then C class probabilities (no objectness); `extra` trailing rows (segmentation
 * mask coefficients) are not read here. Score = best class probability; class filter applies to that class.
 */
export function yolov8Candidates(out: OutputView, extra: number, filter: CandidateFilter): Candidate[] {
  const [channels, anchors] = out.dims as [number, number];
  const classes = channels - 4 - extra;
  const data = out.data;
  const best = new Float32Array(anchors).fill(-Infinity);
  const bestClass = new Int32Array(anchors);
  // Class rows outer, anchors inner: reads the tensor in memory order.
  for (let c = 0; c < classes; c++) {
    const row = (4 + c) * anchors;
    for (let a = 0; a < anchors; a++) {
      const v = data[row + a]!;
      if (v > best[a]!) {
        best[a] = v;
        bestClass[a] = c;
      }
    }
  }
  const found: Candidate[] = [];
  const { confidence, allowed } = filter;
  for (let a = 0; a < anchors; a++) {
    const score = best[a]!;
    if (score < confidence || (allowed && !allowed[bestClass[a]!])) continue;
    const cx = data[a]!;
    const cy = data[anchors + a]!;
    const hw = data[2 * anchors + a]! / 2;
    const hh = data[3 * anchors + a]! / 2;
    found.push({ x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh, score, classId: bestClass[a]!, anchor: a });
  }
  return found;
}
