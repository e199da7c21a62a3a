import { AppError } from "../../core/errors.ts";
import type { Classification, Detection, Detections, ImageRef } from "../detections.ts";
import { coverCrop, letterbox, toChw, type LetterboxGeometry } from "../image/letterbox.ts";
import type { WorkflowImage } from "../image/workflow-image.ts";
import type { ProviderReport } from "../providers.ts";
import { CLASSIFIER_INPUT, classProbabilities } from "./decoders/classifier.ts";
import { nms, type Candidate, type CandidateFilter } from "./decoders/nms.ts";
import { instancePolygon, segOutputs } from "./decoders/yolov8-seg.ts";
import { YOLOV8_INPUT, yolov8Candidates } from "./decoders/yolov8.ts";
import { YOLOX_INPUT, yoloxCandidates } from "./decoders/yolox.ts";
import { MAX_BATCH, SessionPool, type ImageOutputs, type MachineType } from "./sessions.ts";
import type { ModelFamily, ResolvedModel } from "./types.ts";

export interface DetectParams {
  confidence: number;
  iouThreshold: number;
  classFilter?: string[];
  maxDetections: number;
  classAgnosticNms: boolean;
}

export interface ClassifyParams {
  confidence: number;
}

const DETECTORS: readonly ModelFamily[] = ["yolov8", "yolov8-seg", "yolox"];
const CLASSIFIERS: readonly ModelFamily[] = ["classifier"];

/** One chunk of images ready for the session: their tensors back to back, and how each was fitted. */
interface Prepared<G> {
  input: Float32Array;
  fits: G[];
}

/**
 * What the workflow blocks call to run models: pre-processing (sharp), the session pool, and the decoder of
 * the model's family. Images go through in chunks of MAX_BATCH; the next chunk is decoded and resized
 * (in libvips threads) while the current one runs.
 */
export class ModelRuntime {
  private readonly pool: SessionPool;
  /** Input tensors are reused: a fresh multi-megabyte array per image costs page faults and zeroing. */
  private readonly buffers = new BufferPool();

  constructor(opts: { intraOpNumThreads?: number; machineType?: MachineType }) {
    this.pool = new SessionPool(opts);
  }

  /** yolov8 / yolox / yolov8-seg (seg adds `polygon` to each Detection). One Detections per image, boxes in that image's pixels. */
  async detect(model: ResolvedModel, images: WorkflowImage[], params: DetectParams): Promise<Detections[]> {
    requireFamily(model, DETECTORS, "object detection or instance segmentation");
    const { width, height } = model.info.input;
    const spec = model.info.family === "yolox" ? YOLOX_INPUT : YOLOV8_INPUT;
    const filter: CandidateFilter = { confidence: params.confidence, allowed: allowedClasses(model.info.classNames, params.classFilter) };
    return this.inChunks(
      model,
      images,
      async (image, out, offset) => {
        const lb = await letterbox(image, width, height, spec.align);
        toChw(lb.pixels, width, height, spec.order, spec.factor, out, offset);
        return { scale: lb.scale, padX: lb.padX, padY: lb.padY };
      },
      (outputs, image, geometry) => ({ kind: "detections", image: imageRef(image), items: decodeDetections(model, outputs, image, geometry, filter, params) }),
    );
  }

  /** Predictions sorted by confidence (those ≥ confidence); top/confidence = best class. */
  async classify(model: ResolvedModel, images: WorkflowImage[], params: ClassifyParams): Promise<Classification[]> {
    requireFamily(model, CLASSIFIERS, "classification");
    const { width, height } = model.info.input;
    return this.inChunks(
      model,
      images,
      async (image, out, offset) => {
        const pixels = await coverCrop(image, width, height);
        toChw(pixels, width, height, CLASSIFIER_INPUT.order, CLASSIFIER_INPUT.factor, out, offset);
      },
      (outputs, image) => classification(model, outputs, image, params.confidence),
    );
  }

  provider(): { selected: "cuda" | "cpu"; reason: string } {
    return this.pool.provider();
  }

  /** The full provider report (for doctor and agent registration), once the choice is made. */
  ready(): Promise<ProviderReport> {
    return this.pool.ready();
  }

  release(): Promise<void> {
    return this.pool.release();
  }

  private async inChunks<G, R>(
    model: ResolvedModel,
    images: WorkflowImage[],
    prepare: (image: WorkflowImage, out: Float32Array, offset: number) => Promise<G>,
    decode: (outputs: ImageOutputs, image: WorkflowImage, fit: G) => R,
  ): Promise<R[]> {
    const perImage = 3 * model.info.input.width * model.info.input.height;
    const prepareChunk = async (chunk: WorkflowImage[]): Promise<Prepared<G>> => {
      const input = this.buffers.take(chunk.length * perImage);
      try {
        return { input, fits: await Promise.all(chunk.map((image, i) => prepare(image, input, i * perImage))) };
      } catch (e) {
        this.buffers.give(input);
        throw e;
      }
    };
    const results: R[] = [];
    let next = prepareChunk(images.slice(0, MAX_BATCH));
    for (let first = 0; first < images.length; first += MAX_BATCH) {
      const chunk = images.slice(first, first + MAX_BATCH);
      const current = await next;
      if (first + MAX_BATCH < images.length) {
        next = prepareChunk(images.slice(first + MAX_BATCH, first + 2 * MAX_BATCH));
        // Awaited on the next turn; marked handled so a failing run of this chunk leaves no stray rejection.
        next.catch(() => undefined);
      }
      try {
        const outputs = await this.pool.run(model, current.input, chunk.length);
        outputs.forEach((o, i) => results.push(decode(o, chunk[i]!, current.fits[i]!)));
      } finally {
        this.buffers.give(current.input);
      }
    }
    return results;
  }
}

/** Boxes (and outlines, for segmentation) of one image, after the confidence and class filters and NMS. */
function decodeDetections(
  model: ResolvedModel,
  outputs: ImageOutputs,
  image: WorkflowImage,
  geometry: LetterboxGeometry,
  filter: CandidateFilter,
  params: DetectParams,
): Detection[] {
  const { info } = model;
  const nmsOptions = { iouThreshold: params.iouThreshold, classAgnostic: params.classAgnosticNms, maxDetections: params.maxDetections };
  const first = Object.values(outputs)[0]!;
  if (info.family === "yolox") {
    const candidates = yoloxCandidates(first, info.input.width, info.input.height, filter, info.modelId);
    return toDetections(nms(candidates, nmsOptions), geometry, image, info.classNames);
  }
  if (info.family === "yolov8") return toDetections(nms(yolov8Candidates(first, 0, filter), nmsOptions), geometry, image, info.classNames);
  const seg = segOutputs(outputs, info.modelId);
  const kept = nms(yolov8Candidates(seg.boxes, seg.protos.dims[0]!, filter), nmsOptions);
  const frame = { geometry, inputWidth: info.input.width, inputHeight: info.input.height, imageWidth: image.width, imageHeight: image.height };
  return toDetections(kept, geometry, image, info.classNames, (c) => instancePolygon(seg, c, frame));
}

function requireFamily(model: ResolvedModel, families: readonly ModelFamily[], task: string): void {
  if (families.includes(model.info.family)) return;
  throw new AppError(
    "MODEL_WRONG_FAMILY",
    `Model '${model.info.modelId}' is a ${model.info.family} model; ${task} needs one of: ${families.join(", ")}`,
    400,
    { modelId: model.info.modelId, family: model.info.family, expected: families },
  );
}

/** A per-class-id mask of the classes named in the filter; undefined (all classes) for no or an empty filter. */
function allowedClasses(classNames: string[], classFilter: string[] | undefined): Uint8Array | undefined {
  if (!classFilter?.length) return undefined;
  const wanted = new Set(classFilter);
  return Uint8Array.from(classNames, (n) => (wanted.has(n) ? 1 : 0));
}

/** Undoes the letterbox, clamps to the image and names the classes; boxes with nothing left are dropped. */
function toDetections(
  kept: Candidate[],
  g: LetterboxGeometry,
  image: WorkflowImage,
  classNames: string[],
  polygon?: (c: Candidate) => [number, number][] | undefined,
): Detection[] {
  const items: Detection[] = [];
  for (const c of kept) {
    const x1 = clamp((c.x1 - g.padX) / g.scale, 0, image.width);
    const y1 = clamp((c.y1 - g.padY) / g.scale, 0, image.height);
    const x2 = clamp((c.x2 - g.padX) / g.scale, 0, image.width);
    const y2 = clamp((c.y2 - g.padY) / g.scale, 0, image.height);
    if (x2 <= x1 || y2 <= y1) continue;
    const d: Detection = {
      x1,
      y1,
      x2,
      y2,
      confidence: c.score,
      classId: c.classId,
      className: className(classNames, c.classId),
      detectionId: crypto.randomUUID(),
      parentId: image.id,
    };
    const outline = polygon?.(c);
    if (outline) d.polygon = outline;
    items.push(d);
  }
  return items;
}

function classification(model: ResolvedModel, outputs: ImageOutputs, image: WorkflowImage, confidence: number): Classification {
  const probs = classProbabilities(Object.values(outputs)[0]!);
  let best = 0;
  for (let i = 1; i < probs.length; i++) if (probs[i]! > probs[best]!) best = i;
  const predictions = [];
  for (let i = 0; i < probs.length; i++)
    if (probs[i]! >= confidence) predictions.push({ className: className(model.info.classNames, i), classId: i, confidence: probs[i]! });
  predictions.sort((a, b) => b.confidence - a.confidence);
  return { kind: "classification", image: imageRef(image), predictions, top: className(model.info.classNames, best), confidence: probs[best] ?? 0 };
}

/** A plain reference (results must not carry the image's pixels or bytes). */
const imageRef = (i: WorkflowImage): ImageRef => ({ id: i.id, width: i.width, height: i.height, origin: i.origin, root: i.root });
const className = (names: string[], id: number) => names[id] ?? String(id);
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Float32 arrays kept for reuse, by length (few distinct lengths: one per model input size and batch). */
class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();

  take(length: number): Float32Array {
    return this.free.get(length)?.pop() ?? new Float32Array(length);
  }

  give(buffer: Float32Array): void {
    const list = this.free.get(buffer.length) ?? [];
    if (list.length < 4) list.push(buffer);
    this.free.set(buffer.length, list);
  }
}
