import { suppress } from "../../geometry.ts";

/**
 * A scored box before non-maximum suppression, in model-input pixels (corner coordinates). `anchor` is the
 * output column it came from, so a segmentation decoder can find its mask coefficients after NMS.
 */
export interface Candidate {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  score: number;
  classId: number;
  anchor: number;
}

/** What every detector decoder filters on before NMS. */
export interface CandidateFilter {
  confidence: number;
  /** Allowed class ids (by index); undefined allows all. */
  allowed: Uint8Array | undefined;
}

export interface NmsOptions {
  iouThreshold: number;
  classAgnostic: boolean;
  maxDetections: number;
}


/**
 * Greedy NMS, best score first: a box is dropped when it overlaps a kept box of the same class (or of any
 * class when class-agnostic) by more than the IoU threshold. Stops once `maxDetections` are kept.
 */
export function nms(candidates: Candidate[], opts: NmsOptions): Candidate[] {
  return suppress(candidates, {
    score: (c) => c.score,
    classOf: (c) => c.classId,
    iouThreshold: opts.iouThreshold,
    classAgnostic: opts.classAgnostic,
    maxKept: opts.maxDetections,
  });
}
