/**
 * PP-OCR text recognition (an SVTR/CTC network): each detected line is cut out upright, scaled to the
 * network's height of 48 pixels keeping its aspect ratio, and read in batches; the per-column class
 * probabilities are decoded greedily (CTC: repeated classes merge, the blank class separates them).
 */
import sharp, { type Sharp } from "sharp";
import type { TextRegion } from "./ppocr-det.ts";
import type { OcrImage, RunModel } from "./ppocr.ts";

const HEIGHT = 48;
/** Lines are padded to at least the width the network was trained at (320 × 48). */
const MIN_WIDTH = 320;
/** Lines per network run; lines of similar aspect ratio share a run so little of it is padding. */
const BATCH = 6;
/** A line at least this much taller than wide is vertical text, read after turning it a quarter left. */
const VERTICAL_RATIO = 1.5;
/** Below this tilt (degrees) a line is cut by its axis-aligned box, with no resampling for rotation. */
const TILT_TOLERANCE = 1;
/** Fills what a rotated cut takes from outside the image. */
const BACKGROUND = { r: 255, g: 255, b: 255 };

export interface LineRead {
  text: string;
  /** Mean of the kept characters' probabilities; 0 when nothing was read. */
  confidence: number;
}

/** A line scaled to the network's height: RGB bytes, `width` × 48. */
interface LineImage {
  pixels: Uint8Array;
  width: number;
}

/**
 * The recognition classes from the dictionary file: the CTC blank first, then one character per line
 * of the file, then a space, which the shipped models were trained with as their last class.
 */
export function recognitionClasses(dictionary: string): string[] {
  const lines = dictionary.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  return ["", ...lines, " "];
}

export async function readRegions(run: RunModel, classes: readonly string[], image: OcrImage, regions: readonly TextRegion[]): Promise<LineRead[]> {
  const lines = await Promise.all(regions.map((r) => uprightLine(image, r)));
  const order = lines.map((_, i) => i).sort((a, b) => lines[a]!.width - lines[b]!.width);
  const reads: LineRead[] = new Array(lines.length);
  for (let start = 0; start < order.length; start += BATCH) {
    const batch = order.slice(start, start + BATCH);
    const results = await readBatch(run, classes, batch.map((i) => lines[i]!));
    batch.forEach((index, k) => (reads[index] = results[k]!));
  }
  return reads;
}

/** Cuts a region out of the image, turned so its text runs left to right, at the network's height. */
async function uprightLine(image: OcrImage, region: TextRegion): Promise<LineImage> {
  const { rect } = region;
  const tilt = (Math.atan2(rect.uy, rect.ux) * 180) / Math.PI;
  const cut = Math.abs(tilt) < TILT_TOLERANCE ? await axisAlignedCut(image, region) : await rotatedCut(image, region, tilt);
  const vertical = rect.halfHeight >= VERTICAL_RATIO * rect.halfWidth;
  const [w, h] = vertical ? [cut.height, cut.width] : [cut.width, cut.height];
  const scaledWidth = Math.max(1, Math.ceil((HEIGHT * w) / h));
  // A separate pipeline: sharp would apply an extract in the same pipeline after a quarter turn.
  const pixels = await rawImage(cut)
    .rotate(vertical ? 270 : 0)
    .resize(scaledWidth, HEIGHT, { fit: "fill", kernel: "linear" })
    .raw()
    .toBuffer();
  return { pixels, width: scaledWidth };
}

/** RGB bytes, row-major. */
interface Pixels {
  data: Uint8Array;
  width: number;
  height: number;
}

function rawImage({ data, width, height }: Pixels): Sharp {
  return sharp(data, { raw: { width, height, channels: 3 } });
}

async function extract(pipeline: Sharp, box: Box): Promise<Pixels> {
  const { data, info } = await pipeline.extract(box).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** The axis-aligned box of the region, inside the image. */
function axisAlignedCut(image: OcrImage, region: TextRegion): Promise<Pixels> {
  return extract(rawImage(image), clippedBox(region.polygon, image.width, image.height));
}

/**
 * A tilted region: its bounding box is cut out and turned back by the tilt (sharp rotates about the
 * centre and grows the canvas), then the rectangle is cut around where its centre landed.
 */
async function rotatedCut(image: OcrImage, region: TextRegion, tilt: number): Promise<Pixels> {
  const { rect } = region;
  const box = clippedBox(region.polygon, image.width, image.height);
  const { data, info } = await rawImage(image)
    .extract(box)
    .rotate(-tilt, { background: BACKGROUND })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const [dx, dy] = [rect.cx - (box.left + box.width / 2), rect.cy - (box.top + box.height / 2)];
  const cx = info.width / 2 + dx * rect.ux + dy * rect.uy;
  const cy = info.height / 2 - dx * rect.uy + dy * rect.ux;
  const corners: [number, number][] = [
    [cx - rect.halfWidth, cy - rect.halfHeight],
    [cx + rect.halfWidth, cy + rect.halfHeight],
  ];
  return extract(rawImage({ data, width: info.width, height: info.height }), clippedBox(corners, info.width, info.height));
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Whole-pixel bounds of some points, clipped to an image and at least one pixel wide and high. */
function clippedBox(points: readonly [number, number][], width: number, height: number): Box {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const left = Math.min(width - 1, Math.max(0, Math.floor(Math.min(...xs))));
  const top = Math.min(height - 1, Math.max(0, Math.floor(Math.min(...ys))));
  const right = Math.max(left + 1, Math.min(width, Math.ceil(Math.max(...xs))));
  const bottom = Math.max(top + 1, Math.min(height, Math.ceil(Math.max(...ys))));
  return { left, top, width: right - left, height: bottom - top };
}

/** One network run over lines of similar width, each padded on the right to the widest. */
async function readBatch(run: RunModel, classes: readonly string[], lines: readonly LineImage[]): Promise<LineRead[]> {
  const width = Math.max(MIN_WIDTH, ...lines.map((l) => l.width));
  const plane = HEIGHT * width;
  const input = new Float32Array(lines.length * 3 * plane);
  lines.forEach((line, n) => {
    for (let c = 0; c < 3; c++) {
      const source = 2 - c; // tensor channel 0 is blue
      const offset = (n * 3 + c) * plane;
      for (let y = 0; y < HEIGHT; y++) {
        for (let x = 0; x < line.width; x++) input[offset + y * width + x] = line.pixels[(y * line.width + x) * 3 + source]! / 127.5 - 1;
      }
    }
  });
  const output = await run(input, [lines.length, 3, HEIGHT, width]);
  const [steps, classCount] = [output.dims[1]!, output.dims[2]!];
  return lines.map((_, n) => decodeCtc(output.data.subarray(n * steps * classCount, (n + 1) * steps * classCount), classCount, classes));
}

/** Greedy CTC: the best class per column; repeats merge, blanks drop. */
function decodeCtc(probabilities: Float32Array, classCount: number, classes: readonly string[]): LineRead {
  let text = "";
  let [sum, kept, previous] = [0, 0, -1];
  for (let offset = 0; offset < probabilities.length; offset += classCount) {
    let [best, bestP] = [0, -Infinity];
    for (let k = 0; k < classCount; k++) {
      if (probabilities[offset + k]! > bestP) [best, bestP] = [k, probabilities[offset + k]!];
    }
    if (best !== 0 && best !== previous) {
      text += classes[best] ?? "";
      sum += bestP;
      kept++;
    }
    previous = best;
  }
  return { text, confidence: kept ? sum / kept : 0 };
}
