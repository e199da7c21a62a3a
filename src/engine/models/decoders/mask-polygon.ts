/**
 * Binary mask → one outline: the outer boundary of the largest 8-connected region, traced along pixel edges
 * (so the polygon's area is the region's area, holes included) and simplified with Douglas-Peucker.
 * Coordinates are mask-grid corners: pixel (x, y) spans [x, x+1] × [y, y+1].
 */

/** Keeps only the largest 8-connected region of `mask` (1 = set); returns its first pixel in raster order, or -1. */
export function keepLargestRegion(mask: Uint8Array, width: number, height: number): number {
  const label = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let bestLabel = 0;
  let bestSize = 0;
  let bestStart = -1;
  let next = 0;
  for (let start = 0; start < mask.length; start++) {
    if (!mask[start] || label[start]) continue;
    const id = ++next;
    let size = 0;
    let top = 0;
    stack[top++] = start;
    label[start] = id;
    while (top > 0) {
      const p = stack[--top]!;
      size++;
      const x = p % width;
      const y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= width) continue;
          const q = ny * width + nx;
          if (mask[q] && !label[q]) {
            label[q] = id;
            stack[top++] = q;
          }
        }
      }
    }
    if (size > bestSize) [bestSize, bestLabel, bestStart] = [size, id, start];
  }
  for (let i = 0; i < mask.length; i++) mask[i] = label[i] === bestLabel && bestLabel > 0 ? 1 : 0;
  return bestStart;
}

// Directions clockwise on screen (y down): right, down, left, up.
const DX = [1, 0, -1, 0];
const DY = [0, 1, 0, -1];
// For a corner (cx, cy) and a direction: offsets of the pixel ahead-left and ahead-right of the walker.
const AHEAD_LEFT = [[0, -1], [0, 0], [-1, 0], [-1, -1]] as const;
const AHEAD_RIGHT = [[0, 0], [-1, 0], [-1, -1], [0, -1]] as const;

/**
 * Walks the outer boundary clockwise with the region on the right, starting at the top-left corner of its
 * first pixel in raster order (the only corner of that pixel reached from below, so the walk ends there).
 * A set pixel diagonally ahead is joined (8-connectivity). Returns flat [x0, y0, x1, y1, ...] at turns.
 */
export function traceOuter(mask: Uint8Array, width: number, height: number, start: number): number[] {
  const at = (x: number, y: number) => x >= 0 && y >= 0 && x < width && y < height && mask[y * width + x] === 1;
  const x0 = start % width;
  const y0 = (start - x0) / width;
  const points = [x0, y0];
  let cx = x0 + 1;
  let cy = y0;
  let d = 0;
  const limit = 4 * (width + 1) * (height + 1);
  for (let steps = 0; (cx !== x0 || cy !== y0) && steps < limit; steps++) {
    const [lx, ly] = AHEAD_LEFT[d]!;
    const [rx, ry] = AHEAD_RIGHT[d]!;
    const nd = at(cx + lx, cy + ly) ? (d + 3) % 4 : at(cx + rx, cy + ry) ? d : (d + 1) % 4;
    if (nd !== d) points.push(cx, cy);
    d = nd;
    cx += DX[d]!;
    cy += DY[d]!;
  }
  return points;
}

/** Douglas-Peucker on a closed ring (flat coordinates); keeps the original when fewer than 3 points would remain. */
export function simplifyRing(flat: number[], epsilon: number): number[] {
  const n = flat.length / 2;
  if (n <= 4) return flat;
  let far = 0;
  let farDist = -1;
  for (let i = 1; i < n; i++) {
    const d = (flat[2 * i]! - flat[0]!) ** 2 + (flat[2 * i + 1]! - flat[1]!) ** 2;
    if (d > farDist) [far, farDist] = [i, d];
  }
  const keep = new Uint8Array(n + 1);
  keep[0] = keep[far] = keep[n] = 1;
  const px = (i: number) => flat[2 * (i % n)]!;
  const py = (i: number) => flat[2 * (i % n) + 1]!;
  const spans: [number, number][] = [[0, far], [far, n]];
  const eps2 = epsilon * epsilon;
  while (spans.length > 0) {
    const [a, b] = spans.pop()!;
    const ax = px(a), ay = py(a), dx = px(b) - ax, dy = py(b) - ay;
    const len2 = dx * dx + dy * dy;
    let worst = -1;
    let worstDist = eps2;
    for (let i = a + 1; i < b; i++) {
      const ex = px(i) - ax, ey = py(i) - ay;
      const cross = dx * ey - dy * ex;
      const dist2 = len2 > 0 ? (cross * cross) / len2 : ex * ex + ey * ey;
      if (dist2 > worstDist) [worst, worstDist] = [i, dist2];
    }
    if (worst < 0) continue;
    keep[worst] = 1;
    spans.push([a, worst], [worst, b]);
  }
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (keep[i]) out.push(flat[2 * i]!, flat[2 * i + 1]!);
  return out.length >= 6 ? out : flat;
}

/** The simplified outer outline of the largest region, or undefined for an empty mask. */
export function maskOutline(mask: Uint8Array, width: number, height: number, epsilon: number): number[] | undefined {
  const start = keepLargestRegion(mask, width, height);
  if (start < 0) return undefined;
  return simplifyRing(traceOuter(mask, width, height, start), epsilon);
}
