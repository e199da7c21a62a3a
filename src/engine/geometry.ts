/** Box arithmetic shared by decoders and blocks. Boxes are corner coordinates. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = (a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter;
  return union > 0 ? inter / union : 0;
}

export interface SuppressOptions<T> {
  score(item: T): number;
  classOf(item: T): number;
  iouThreshold: number;
  classAgnostic: boolean;
  maxKept?: number;
}

/**
 * Greedy non-maximum suppression, best score first: an item is dropped when it overlaps a kept one of the
 * same class (or any class when class-agnostic) by more than the threshold. `merge` instead folds each
 * dropped item into the kept one it overlaps (non-maximum merging).
 */
export function suppress<T extends Box>(items: T[], opts: SuppressOptions<T>, merge?: (kept: T, dropped: T) => T): T[] {
  const sorted = items.slice().sort((a, b) => opts.score(b) - opts.score(a));
  const kept: T[] = [];
  for (const item of sorted) {
    if (opts.maxKept !== undefined && kept.length >= opts.maxKept) break;
    const at = kept.findIndex((k) => (opts.classAgnostic || opts.classOf(k) === opts.classOf(item)) && iou(k, item) > opts.iouThreshold);
    if (at === -1) kept.push(item);
    else if (merge) kept[at] = merge(kept[at]!, item);
  }
  return kept;
}

export const clampBox = <T extends Box>(b: T, width: number, height: number): T => ({
  ...b,
  x1: Math.min(width, Math.max(0, b.x1)),
  y1: Math.min(height, Math.max(0, b.y1)),
  x2: Math.min(width, Math.max(0, b.x2)),
  y2: Math.min(height, Math.max(0, b.y2)),
});
