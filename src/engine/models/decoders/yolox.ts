import { AppError } from "../../../core/errors.ts";
import type { OutputView } from "../sessions.ts";
import type { Candidate, CandidateFilter } from "./nms.ts";

/** YOLOX pre-processing: BGR, raw 0..255, letterboxed at the top-left with grey 114. */
export const YOLOX_INPUT = { align: "top-left", order: "bgr", factor: 1 } as const;

const STRIDES = [8, 16, 32];

/**
 * Candidates from the official YOLOX export without in-graph decode: [A, 5 + C], anchors walking the
 * stride-8, 16 and 32 grids row by row; objectness and class scores are already sigmoided.
 * cx = (tx + gx)·s, cy = (ty + gy)·s, w = exp(tw)·s, h = exp(th)·s; score = obj · best class.
 */
export function yoloxCandidates(out: OutputView, inputWidth: number, inputHeight: number, filter: CandidateFilter, modelId: string): Candidate[] {
  const [anchors, channels] = out.dims as [number, number];
  const grids = STRIDES.map((s) => ({ s, w: Math.floor(inputWidth / s), h: Math.floor(inputHeight / s) }));
  const expected = grids.reduce((n, g) => n + g.w * g.h, 0);
  if (expected !== anchors)
    throw new AppError("MODEL_OUTPUT_MISMATCH", `Model '${modelId}' has ${anchors} anchors; a YOLOX grid over ${inputWidth}x${inputHeight} has ${expected}`, 422, {
      modelId,
    });
  const data = out.data;
  const classes = channels - 5;
  const { confidence, allowed } = filter;
  const found: Candidate[] = [];
  let a = 0;
  for (const { s, w, h } of grids) {
    for (let gy = 0; gy < h; gy++) {
      for (let gx = 0; gx < w; gx++, a++) {
        const base = a * channels;
        const obj = data[base + 4]!;
        // Class scores are at most 1, so a low objectness rules the anchor out before the class scan.
        if (obj < confidence) continue;
        let cls = 0;
        let best = -Infinity;
        for (let c = 0; c < classes; c++) {
          const v = data[base + 5 + c]!;
          if (v > best) {
            best = v;
            cls = c;
          }
        }
        const score = obj * best;
        if (score < confidence || (allowed && !allowed[cls])) continue;
        const cx = (data[base]! + gx) * s;
        const cy = (data[base + 1]! + gy) * s;
        const hw = (Math.exp(data[base + 2]!) * s) / 2;
        const hh = (Math.exp(data[base + 3]!) * s) / 2;
        found.push({ x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh, score, classId: cls, anchor: a });
      }
    }
  }
  return found;
}
