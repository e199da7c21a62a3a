/**
 * PP-OCR text detection (a DB, "differentiable binarization", network): the image goes in at a size the
 * network's stride divides, the network answers a text-probability map of the same size, and the
 * post-process turns the map's connected regions into rotated rectangles around text lines.
 * Parameters are PaddleOCR's inference defaults, which the shipped models were tuned with.
 */
import sharp from "sharp";
import { convexHull, insideConvex, minAreaRect, rectCorners, type Point, type RotatedRect } from "./ppocr-geometry.ts";
import type { OcrImage, RunModel } from "./ppocr.ts";

/** The longer side is scaled down to this; smaller images keep their size. */
const LIMIT_SIDE = 960;
const STRIDE = 32;
/** ImageNet statistics, applied to the channels in B, G, R order as in PaddleOCR's training. */
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;
/** A map pixel is text above this probability. */
const BINARY_THRESHOLD = 0.3;
/** A region is kept when its mean probability reaches this. */
const BOX_THRESHOLD = 0.6;
/** The network predicts shrunk text kernels; regions grow back by area × ratio / perimeter. */
const UNCLIP_RATIO = 1.5;
/** Shorter side, in map pixels, below which a region is noise. */
const MIN_SIZE = 3;
const MAX_CANDIDATES = 1000;

/** A detected text line: a rectangle in the input image's pixels, with its width along the text. */
export interface TextRegion {
  rect: RotatedRect;
  /** The rectangle's corners, clockwise from the top-left (see rectCorners). */
  polygon: Point[];
  score: number;
}

interface ProbabilityMap {
  data: Float32Array;
  width: number;
  height: number;
}

export async function detectRegions(run: RunModel, image: OcrImage): Promise<TextRegion[]> {
  const [width, height] = networkSize(image.width, image.height);
  const input = await normalisedInput(image, width, height);
  const output = await run(input, [1, 3, height, width]);
  const map: ProbabilityMap = { data: output.data, width: output.dims[3] ?? width, height: output.dims[2] ?? height };
  return regionsOf(map).map((r) => toImage(r, image.width / map.width, image.height / map.height));
}

/** Both sides rounded to the stride, after scaling the longer side down to LIMIT_SIDE when over it. */
function networkSize(width: number, height: number): [number, number] {
  const ratio = Math.max(width, height) > LIMIT_SIDE ? LIMIT_SIDE / Math.max(width, height) : 1;
  const fit = (side: number) => Math.max(STRIDE, Math.round((side * ratio) / STRIDE) * STRIDE);
  return [fit(width), fit(height)];
}

async function normalisedInput(image: OcrImage, width: number, height: number): Promise<Float32Array> {
  const pixels = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(width, height, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const source = 2 - c; // tensor channel 0 is blue
    const [mean, std] = [MEAN[c]!, STD[c]!];
    for (let i = 0; i < plane; i++) out[c * plane + i] = (pixels[i * 3 + source]! / 255 - mean) / std;
  }
  return out;
}

/** The DB post-process on the map: binarise, take 8-connected regions, fit, score, grow, filter. */
function regionsOf(map: ProbabilityMap): TextRegion[] {
  const regions: TextRegion[] = [];
  for (const hull of regionHulls(map)) {
    const fitted = minAreaRect(hull);
    if (2 * Math.min(fitted.halfWidth, fitted.halfHeight) < MIN_SIZE) continue;
    const score = meanInside(map, rectCorners(fitted));
    if (score < BOX_THRESHOLD) continue;
    const rect = unclip(fitted);
    if (2 * Math.min(rect.halfWidth, rect.halfHeight) < MIN_SIZE + 2) continue;
    regions.push({ rect, polygon: rectCorners(rect), score });
  }
  return regions;
}

/**
 * Convex hulls of the binarised map's 8-connected regions, found by flood fill. A region's hull only
 * needs the leftmost and rightmost pixel of each of its rows.
 */
function regionHulls(map: ProbabilityMap): Point[][] {
  const { width, height, data } = map;
  const seen = new Uint8Array(width * height);
  const queue = new Int32Array(width * height);
  const hulls: Point[][] = [];
  let tail = 0;
  for (let start = 0; start < data.length && hulls.length < MAX_CANDIDATES; start++) {
    if (seen[start] || data[start]! <= BINARY_THRESHOLD) continue;
    const head = tail;
    seen[start] = 1;
    queue[tail++] = start;
    for (let q = head; q < tail; q++) {
      const x = queue[q]! % width;
      const y = (queue[q]! - x) / width;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(height - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(width - 1, x + 1); nx++) {
          const n = ny * width + nx;
          if (seen[n] || data[n]! <= BINARY_THRESHOLD) continue;
          seen[n] = 1;
          queue[tail++] = n;
        }
      }
    }
    const hull = rowExtremesHull(queue.subarray(head, tail), width);
    if (hull) hulls.push(hull);
  }
  return hulls;
}

/**
 * The hull of one region's pixels, or undefined when its bounding box is too thin to be text. The
 * flood fill starts at the region's first pixel in raster order, so that pixel is on its top row.
 */
function rowExtremesHull(pixels: Int32Array, width: number): Point[] | undefined {
  const top = Math.floor(pixels[0]! / width);
  let [bottom, minX, maxX] = [top, width, -1];
  for (const p of pixels) {
    const x = p % width;
    [bottom, minX, maxX] = [Math.max(bottom, (p - x) / width), Math.min(minX, x), Math.max(maxX, x)];
  }
  if (maxX - minX < MIN_SIZE || bottom - top < MIN_SIZE) return undefined;
  const left = new Int32Array(bottom - top + 1).fill(width);
  const right = new Int32Array(bottom - top + 1).fill(-1);
  for (const p of pixels) {
    const x = p % width;
    const row = (p - x) / width - top;
    left[row] = Math.min(left[row]!, x);
    right[row] = Math.max(right[row]!, x);
  }
  const points: Point[] = [];
  for (let row = 0; row < left.length; row++) points.push([left[row]!, top + row], [right[row]!, top + row]);
  return convexHull(points);
}

/** Mean probability over the map pixels inside a polygon ("fast" box score). */
function meanInside(map: ProbabilityMap, polygon: Point[]): number {
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  const clampX = (v: number) => Math.min(map.width - 1, Math.max(0, v));
  const clampY = (v: number) => Math.min(map.height - 1, Math.max(0, v));
  const [x0, x1] = [clampX(Math.floor(Math.min(...xs))), clampX(Math.ceil(Math.max(...xs)))];
  const [y0, y1] = [clampY(Math.floor(Math.min(...ys))), clampY(Math.ceil(Math.max(...ys)))];
  let [sum, count] = [0, 0];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      if (!insideConvex(polygon, x, y)) continue;
      sum += map.data[y * map.width + x]!;
      count++;
    }
  }
  return count ? sum / count : 0;
}

/**
 * Grows the rectangle by the DB offset distance. Offsetting a rectangle with rounded joins gives a
 * rounded rectangle whose minimum-area rectangle is the original grown by the distance on every side.
 */
function unclip(r: RotatedRect): RotatedRect {
  const [w, h] = [2 * r.halfWidth, 2 * r.halfHeight];
  const distance = (w * h * UNCLIP_RATIO) / (2 * (w + h));
  return { ...r, halfWidth: r.halfWidth + distance, halfHeight: r.halfHeight + distance };
}

/** From map pixels to image pixels (the two scales differ slightly after rounding to the stride). */
function toImage(region: TextRegion, sx: number, sy: number): TextRegion {
  const { rect } = region;
  const [wx, wy] = [rect.ux * rect.halfWidth * sx, rect.uy * rect.halfWidth * sy];
  const [hx, hy] = [-rect.uy * rect.halfHeight * sx, rect.ux * rect.halfHeight * sy];
  const [halfWidth, halfHeight] = [Math.hypot(wx, wy), Math.hypot(hx, hy)];
  return {
    rect: { cx: rect.cx * sx, cy: rect.cy * sy, ux: wx / halfWidth, uy: wy / halfWidth, halfWidth, halfHeight },
    polygon: region.polygon.map(([x, y]) => [x * sx, y * sy]),
    score: region.score,
  };
}
