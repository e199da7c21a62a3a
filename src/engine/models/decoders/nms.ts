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

export function iou(a: Candidate, b: Candidate): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

/**
 * Greedy NMS, best score first: a box is dropped when it overlaps a kept box of the same class (or of any
 * class when class-agnostic) by more than the IoU threshold. Stops once `maxDetections` are kept.
 */
export function nms(candidates: Candidate[], opts: NmsOptions): Candidate[] {
  const sorted = candidates.slice().sort((a, b) => b.score - a.score);
  const kept: Candidate[] = [];
  for (const c of sorted) {
    if (kept.length >= opts.maxDetections) break;
    let suppressed = false;
    for (const k of kept) {
      if ((opts.classAgnostic || k.classId === c.classId) && iou(k, c) > opts.iouThreshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) kept.push(c);
  }
  return kept;
}
