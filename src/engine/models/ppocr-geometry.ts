/**
 * Plane geometry for the text detector's post-process: convex hull, minimum-area rectangle and
 * point-in-polygon. Coordinates are pixels with y pointing down.
 */
export type Point = [number, number];

/** A rectangle at any angle: its centre, the unit vector of its width side, and its half sides. */
export interface RotatedRect {
  cx: number;
  cy: number;
  ux: number;
  uy: number;
  halfWidth: number;
  halfHeight: number;
}

const cross = (o: Point, a: Point, b: Point) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

/** Andrew's monotone chain: the hull's corners, without collinear points. */
export function convexHull(points: readonly Point[]): Point[] {
  const sorted = [...points].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (sorted.length < 3) return sorted;
  const half = (pts: Point[]) => {
    const chain: Point[] = [];
    for (const p of pts) {
      while (chain.length >= 2 && cross(chain[chain.length - 2]!, chain[chain.length - 1]!, p) <= 0) chain.pop();
      chain.push(p);
    }
    chain.pop();
    return chain;
  };
  return [...half(sorted), ...half(sorted.reverse())];
}

/**
 * The smallest rectangle holding a convex hull: one of its sides lies on a hull edge, so each edge is
 * tried. The width side is the one nearest to horizontal, so that an upright text line has its
 * width along the text.
 */
export function minAreaRect(hull: readonly Point[]): RotatedRect {
  let best: RotatedRect = { cx: hull[0]?.[0] ?? 0, cy: hull[0]?.[1] ?? 0, ux: 1, uy: 0, halfWidth: 0, halfHeight: 0 };
  let bestArea = Infinity;
  for (let i = 0; i < hull.length; i++) {
    const a = hull[i]!;
    const b = hull[(i + 1) % hull.length]!;
    const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
    if (length === 0) continue;
    const rect = boundingRectAlong(hull, (b[0] - a[0]) / length, (b[1] - a[1]) / length);
    const area = rect.halfWidth * rect.halfHeight;
    if (area < bestArea) [best, bestArea] = [rect, area];
  }
  return nearestToHorizontal(best);
}

function boundingRectAlong(points: readonly Point[], ux: number, uy: number): RotatedRect {
  let [minU, maxU, minV, maxV] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [x, y] of points) {
    const u = x * ux + y * uy;
    const v = -x * uy + y * ux;
    [minU, maxU, minV, maxV] = [Math.min(minU, u), Math.max(maxU, u), Math.min(minV, v), Math.max(maxV, v)];
  }
  const [mu, mv] = [(minU + maxU) / 2, (minV + maxV) / 2];
  return { cx: mu * ux - mv * uy, cy: mu * uy + mv * ux, ux, uy, halfWidth: (maxU - minU) / 2, halfHeight: (maxV - minV) / 2 };
}

/** The same rectangle described with its width vector within 45° of the x axis, pointing right. */
function nearestToHorizontal(r: RotatedRect): RotatedRect {
  if (Math.abs(r.ux) >= Math.abs(r.uy)) return r.ux >= 0 ? r : { ...r, ux: -r.ux, uy: -r.uy };
  const [ux, uy] = r.uy > 0 ? [r.uy, -r.ux] : [-r.uy, r.ux];
  return { ...r, ux, uy, halfWidth: r.halfHeight, halfHeight: r.halfWidth };
}

/** Corners clockwise on screen from the top-left of the text: top-left, top-right, bottom-right, bottom-left. */
export function rectCorners(r: RotatedRect): Point[] {
  const [wx, wy] = [r.ux * r.halfWidth, r.uy * r.halfWidth];
  const [hx, hy] = [-r.uy * r.halfHeight, r.ux * r.halfHeight];
  return [
    [r.cx - wx - hx, r.cy - wy - hy],
    [r.cx + wx - hx, r.cy + wy - hy],
    [r.cx + wx + hx, r.cy + wy + hy],
    [r.cx - wx + hx, r.cy - wy + hy],
  ];
}

/** Whether (x, y) lies inside or on a convex polygon given in either winding. */
export function insideConvex(polygon: readonly Point[], x: number, y: number): boolean {
  let sign = 0;
  for (let i = 0; i < polygon.length; i++) {
    const [ax, ay] = polygon[i]!;
    const [bx, by] = polygon[(i + 1) % polygon.length]!;
    const c = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
    if (Math.abs(c) < 1e-9) continue;
    if (sign === 0) sign = Math.sign(c);
    else if (Math.sign(c) !== sign) return false;
  }
  return true;
}
