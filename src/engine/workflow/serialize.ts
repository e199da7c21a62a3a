import type { Classification, Detection, Detections, ImageRef } from "../detections.ts";
import { WorkflowImage } from "../image/workflow-image.ts";
import type { IndexPath, Nested } from "./nested.ts";
import type { CompiledWorkflow } from "./types.ts";

export interface SerializeOptions {
  /** Stores an image output (a file, never inline) and returns what the result shows in its place. */
  image(image: WorkflowImage, output: string, path: IndexPath): Promise<unknown>;
}

/**
 * Turns a run's outputs into the reference's JSON: detections as `{image:{width,height}, predictions:[…]}`
 * with box centre and size in pixels, classifications as `{predictions, top, confidence}`. Detections on
 * crops are mapped to the input image unless the output asks for `"own"` coordinates.
 */
export async function serializeOutputs(wf: CompiledWorkflow, outputs: Record<string, Nested>, opts: SerializeOptions): Promise<Record<string, unknown>> {
  const result: Record<string, unknown> = {};
  for (const out of wf.outputs) result[out.name] = await toJson(outputs[out.name], out.coordinatesSystem, (img, path) => opts.image(img, out.name, path), []);
  return result;
}

type ImageSink = (image: WorkflowImage, path: IndexPath) => Promise<unknown>;

async function toJson(value: unknown, cs: "parent" | "own", sink: ImageSink, path: number[]): Promise<unknown> {
  if (value === undefined || value === null) return null;
  if (value instanceof WorkflowImage) return sink(value, path);
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) out.push(await toJson(value[i], cs, sink, [...path, i]));
    return out;
  }
  if (typeof value === "object") {
    const v = value as { kind?: string };
    if (v.kind === "detections") return detectionsJson(value as Detections, cs);
    if (v.kind === "classification") return classificationJson(value as Classification);
    const out: Record<string, unknown> = {};
    for (const [k, item] of Object.entries(value)) out[k] = await toJson(item, cs, sink, path);
    return out;
  }
  return typeof value === "number" && !Number.isFinite(value) ? null : value;
}

const r2 = (n: number) => Math.round(n * 100) / 100;
const r4 = (n: number) => Math.round(n * 10000) / 10000;

export function detectionsJson(d: Detections, cs: "parent" | "own") {
  const toRoot = cs === "parent";
  const dx = toRoot ? d.image.root.offsetX : 0;
  const dy = toRoot ? d.image.root.offsetY : 0;
  const dims = toRoot ? d.image.root : d.image;
  return {
    image: { width: dims.width, height: dims.height },
    predictions: d.items.map((det) => predictionJson(det, d.image, dx, dy)),
  };
}

function predictionJson(det: Detection, image: ImageRef, dx: number, dy: number): Record<string, unknown> {
  const width = det.x2 - det.x1;
  const height = det.y2 - det.y1;
  const p: Record<string, unknown> = {
    x: r2(det.x1 + width / 2 + dx),
    y: r2(det.y1 + height / 2 + dy),
    width: r2(width),
    height: r2(height),
    confidence: r4(det.confidence),
    class_id: det.classId,
    class: det.className,
    detection_id: det.detectionId,
    parent_id: det.parentId,
  };
  if (det.polygon) p.points = det.polygon.map(([x, y]) => ({ x: r2(x + dx), y: r2(y + dy) }));
  if (det.trackerId !== undefined) p.tracker_id = det.trackerId;
  if (image.origin) {
    p.parent_origin = { offset_x: image.origin.offsetX, offset_y: image.origin.offsetY, width: image.origin.parentWidth, height: image.origin.parentHeight };
    p.root_parent_id = image.root.id;
    p.root_parent_origin = { offset_x: image.root.offsetX, offset_y: image.root.offsetY, width: image.root.width, height: image.root.height };
  }
  for (const [k, v] of Object.entries(det.data ?? {})) if (!(k in p)) p[k] = v;
  return p;
}

export function classificationJson(c: Classification) {
  return {
    image: { width: c.image.width, height: c.image.height },
    predictions: c.predictions.map((p) => ({ class: p.className, class_id: p.classId, confidence: r4(p.confidence) })),
    top: c.top,
    confidence: r4(c.confidence),
    parent_id: c.image.id,
    prediction_type: "classification",
    ...(c.image.origin ? { root_parent_id: c.image.root.id } : {}),
  };
}
