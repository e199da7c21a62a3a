import { AppError } from "../../../core/errors.ts";
import type { LetterboxGeometry } from "../../image/letterbox.ts";
import type { ImageOutputs, OutputView } from "../sessions.ts";
import { maskOutline } from "./mask-polygon.ts";
import type { Candidate } from "./nms.ts";

/** Largest mask grid per instance; bigger boxes are sampled every few pixels (the prototypes are coarse anyway). */
const MAX_MASK_CELLS = 1_000_000;
/** Douglas-Peucker tolerance, in mask-grid cells (image pixels unless the box is huge). */
const SIMPLIFY_EPSILON = 1;

/** The two outputs of an Ultralytics segmentation model: boxes [4 + C + M, A] and prototypes [M, H/4, W/4]. */
export interface SegOutputs {
  boxes: OutputView;
  protos: OutputView;
}

export function segOutputs(outputs: ImageOutputs, modelId: string): SegOutputs {
  const views = Object.values(outputs);
  const boxes = views.find((v) => v.dims.length === 2);
  const protos = views.find((v) => v.dims.length === 3);
  if (!boxes || !protos)
    throw new AppError("MODEL_OUTPUT_MISMATCH", `Model '${modelId}' is not a YOLOv8 segmentation model: it needs a box output and a prototype output`, 422, {
      modelId,
    });
  return { boxes, protos };
}

export interface Frame {
  geometry: LetterboxGeometry;
  inputWidth: number;
  inputHeight: number;
  imageWidth: number;
  imageHeight: number;
}

/**
 * The instance's outline in image pixels. mask = sigmoid(coefficients · prototypes) > 0.5, i.e. the logit
 * > 0; logits are computed over the prototype cells under the box only, bilinearly sampled at the centre of
 * each image pixel inside the box (upsampling and undoing the letterbox in one step), then traced.
 */
export function instancePolygon(seg: SegOutputs, c: Candidate, frame: Frame): [number, number][] | undefined {
  const { scale, padX, padY } = frame.geometry;
  const bx1 = clamp((c.x1 - padX) / scale, 0, frame.imageWidth);
  const by1 = clamp((c.y1 - padY) / scale, 0, frame.imageHeight);
  const bx2 = clamp((c.x2 - padX) / scale, 0, frame.imageWidth);
  const by2 = clamp((c.y2 - padY) / scale, 0, frame.imageHeight);
  if (bx2 - bx1 < 1 || by2 - by1 < 1) return undefined;

  const [, ph, pw] = seg.protos.dims as [number, number, number];
  const rx = pw / frame.inputWidth;
  const ry = ph / frame.inputHeight;
  const u0 = clamp(Math.floor(c.x1 * rx - 1), 0, pw - 1);
  const v0 = clamp(Math.floor(c.y1 * ry - 1), 0, ph - 1);
  const region = {
    u0,
    v0,
    w: clamp(Math.ceil(c.x2 * rx), u0, pw - 1) - u0 + 1,
    h: clamp(Math.ceil(c.y2 * ry), v0, ph - 1) - v0 + 1,
  };
  const logits = regionLogits(seg, c.anchor, region);

  const gx0 = Math.floor(bx1);
  const gy0 = Math.floor(by1);
  const step = Math.max(1, Math.ceil(Math.sqrt(((Math.ceil(bx2) - gx0) * (Math.ceil(by2) - gy0)) / MAX_MASK_CELLS)));
  const cols = samples(gx0, Math.ceil((Math.ceil(bx2) - gx0) / step), step, bx1, bx2, (x) => (x * scale + padX) * rx - 0.5 - u0, region.w);
  const rows = samples(gy0, Math.ceil((Math.ceil(by2) - gy0) / step), step, by1, by2, (y) => (y * scale + padY) * ry - 0.5 - v0, region.h);
  const mask = threshold(logits, region.w, cols, rows);
  const flat = maskOutline(mask, cols.n, rows.n, SIMPLIFY_EPSILON);
  if (!flat) return undefined;
  const points: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2)
    points.push([Math.min(frame.imageWidth, gx0 + flat[i]! * step), Math.min(frame.imageHeight, gy0 + flat[i + 1]! * step)]);
  return points;
}

/** coefficients · prototypes over a rectangle of prototype cells. */
function regionLogits(seg: SegOutputs, anchor: number, r: { u0: number; v0: number; w: number; h: number }): Float32Array {
  const [masks, ph, pw] = seg.protos.dims as [number, number, number];
  const [channels, anchors] = seg.boxes.dims as [number, number];
  const firstCoef = channels - masks;
  const protos = seg.protos.data;
  const logits = new Float32Array(r.w * r.h);
  for (let k = 0; k < masks; k++) {
    const coef = seg.boxes.data[(firstCoef + k) * anchors + anchor]!;
    const plane = k * ph * pw;
    for (let v = 0; v < r.h; v++) {
      const src = plane + (r.v0 + v) * pw + r.u0;
      const dst = v * r.w;
      for (let u = 0; u < r.w; u++) logits[dst + u]! += coef * protos[src + u]!;
    }
  }
  return logits;
}

/** Per grid line: whether it lies in the box, and its two neighbouring prototype cells with the weight between. */
interface Samples {
  n: number;
  inside: Uint8Array;
  lo: Int32Array;
  hi: Int32Array;
  frac: Float32Array;
}

function samples(origin: number, n: number, step: number, min: number, max: number, toProto: (v: number) => number, size: number): Samples {
  const s: Samples = { n, inside: new Uint8Array(n), lo: new Int32Array(n), hi: new Int32Array(n), frac: new Float32Array(n) };
  for (let i = 0; i < n; i++) {
    const centre = origin + (i + 0.5) * step;
    s.inside[i] = centre >= min && centre <= max ? 1 : 0;
    const p = clamp(toProto(centre), 0, size - 1);
    const lo = Math.floor(p);
    s.lo[i] = lo;
    s.hi[i] = Math.min(lo + 1, size - 1);
    s.frac[i] = p - lo;
  }
  return s;
}

function threshold(logits: Float32Array, width: number, cols: Samples, rows: Samples): Uint8Array {
  const mask = new Uint8Array(cols.n * rows.n);
  for (let j = 0; j < rows.n; j++) {
    if (!rows.inside[j]) continue;
    const top = rows.lo[j]! * width;
    const bottom = rows.hi[j]! * width;
    const fy = rows.frac[j]!;
    for (let i = 0; i < cols.n; i++) {
      if (!cols.inside[i]) continue;
      const l = cols.lo[i]!;
      const h = cols.hi[i]!;
      const fx = cols.frac[i]!;
      const t = logits[top + l]! + (logits[top + h]! - logits[top + l]!) * fx;
      const b = logits[bottom + l]! + (logits[bottom + h]! - logits[bottom + l]!) * fx;
      if (t + (b - t) * fy > 0) mask[j * cols.n + i] = 1;
    }
  }
  return mask;
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
