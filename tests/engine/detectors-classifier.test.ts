import { afterAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { buildModel, classifierModel } from "../../scripts/lib/onnx-builder.ts";
import { DEFAULT_MAX_PIXELS, WorkflowImage } from "../../src/engine/image/workflow-image.ts";
import { ModelRuntime } from "../../src/engine/models/runtime.ts";
import { MAX_BATCH, SessionPool } from "../../src/engine/models/sessions.ts";
import type { ResolvedModel } from "../../src/engine/models/types.ts";
import { tempDir } from "../helpers.ts";

const SIZE = 32;
const COLOURS = ["red", "green", "blue"] as const;
const RGB = { red: [230, 20, 20], green: [20, 230, 20], blue: [20, 20, 230] } as const;
// logits = 8 · mean of the class's own channel: a plain colour gets its class with high probability.
const WEIGHTS: [number[], number[], number[]] = [[8, 0, 0], [0, 8, 0], [0, 0, 8]];

function resolved(bytes: Uint8Array, modelId: string, dynamicBatch: boolean): ResolvedModel {
  const path = join(tempDir(), `${modelId}.onnx`);
  writeFileSync(path, bytes);
  const sha256 = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
  const input = { name: "images", shape: [dynamicBatch ? "batch" : 1, 3, SIZE, SIZE], type: "float32", width: SIZE, height: SIZE, dynamicBatch };
  return { path, info: { modelId, sha256, sizeBytes: bytes.length, family: "classifier", task: "classification", classNames: [...COLOURS], input, outputs: [], metadata: {} } };
}

/** The same network without its final Softmax: it answers logits. */
const logitsModel = () =>
  buildModel({
    inputs: [{ name: "images", shape: [1, 3, SIZE, SIZE] }],
    outputs: [{ name: "logits", shape: [1, 3] }],
    nodes: [
      { op: "GlobalAveragePool", inputs: ["images"], outputs: ["pooled"] },
      { op: "Flatten", inputs: ["pooled"], outputs: ["flat"], attributes: { axis: 1 } },
      { op: "MatMul", inputs: ["flat", "weights"], outputs: ["logits"] },
    ],
    initializers: [{ name: "weights", dims: [3, 3], values: WEIGHTS.flat() }],
  });

async function plain(colour: keyof typeof RGB, id: string, width = 40, height = 30): Promise<WorkflowImage> {
  const [r, g, b] = RGB[colour];
  const png = await sharp({ create: { width, height, channels: 3, background: { r, g, b } } }).png().toBuffer();
  return WorkflowImage.fromEncoded(new Uint8Array(png), id, { maxPixels: DEFAULT_MAX_PIXELS });
}

describe("classifiers", () => {
  const runtime = new ModelRuntime({ intraOpNumThreads: 1, machineType: "cpu" });
  afterAll(() => runtime.release());
  const softmaxModel = resolved(classifierModel({ weights: WEIGHTS, height: SIZE, width: SIZE }), "colours", true);

  test("each image gets its colour as top class; predictions sorted and cut at the confidence", async () => {
    const colours = Array.from({ length: MAX_BATCH + 3 }, (_, i) => COLOURS[i % 3]!);
    const images = await Promise.all(colours.map((c, i) => plain(c, `img-${i}`)));
    const results = await runtime.classify(softmaxModel, images, { confidence: 0.0 });
    expect(results.map((r) => r.top)).toEqual(colours);
    for (const [i, r] of results.entries()) {
      expect(r.image.id).toBe(`img-${i}`);
      expect(r.predictions).toHaveLength(3);
      expect(r.predictions[0]).toMatchObject({ className: r.top, classId: COLOURS.indexOf(r.top as never), confidence: r.confidence });
      expect(r.predictions.map((p) => p.confidence)).toEqual(r.predictions.map((p) => p.confidence).sort((a, b) => b - a));
      expect(r.predictions.reduce((s, p) => s + p.confidence, 0)).toBeCloseTo(1, 5);
    }
    const [strict] = await runtime.classify(softmaxModel, [images[0]!], { confidence: 0.5 });
    expect(strict!.predictions.map((p) => p.className)).toEqual(["red"]);
    expect(strict!.confidence).toBeGreaterThan(0.5);
  });

  test("logits are turned into probabilities with a softmax", async () => {
    const model = resolved(logitsModel(), "colour-logits", false);
    const [r] = await runtime.classify(model, [await plain("green", "g")], { confidence: 0 });
    expect(r!.top).toBe("green");
    expect(r!.predictions.reduce((s, p) => s + p.confidence, 0)).toBeCloseTo(1, 5);
    // softmax of 8 · (230, 20, 20) / 255 around green
    const g = Math.exp((8 * 230) / 255);
    const o = Math.exp((8 * 20) / 255);
    expect(r!.confidence).toBeCloseTo(g / (g + 2 * o), 4);
  });

  test("the input is resized to cover and centre-cropped", async () => {
    // Blue | red | blue: the centre square is red; a stretched or letterboxed image would be mostly blue.
    const strip = await sharp({ create: { width: 300, height: 100, channels: 3, background: { r: 20, g: 20, b: 230 } } })
      .composite([{ input: { create: { width: 100, height: 100, channels: 3, background: { r: 230, g: 20, b: 20 } } }, left: 100, top: 0 }])
      .png()
      .toBuffer();
    const image = await WorkflowImage.fromEncoded(new Uint8Array(strip), "strip", { maxPixels: DEFAULT_MAX_PIXELS });
    const [r] = await runtime.classify(softmaxModel, [image], { confidence: 0 });
    expect(r!.top).toBe("red");
  });
});

describe("session pool batching", () => {
  /** Counts `session.run` calls and the batch size of each. */
  async function batchesOf(model: ResolvedModel, count: number): Promise<number[]> {
    const pool = new SessionPool({ intraOpNumThreads: 1, machineType: "cpu" });
    const session = await pool.session(model);
    expect(await pool.session(model)).toBe(session);
    const sizes: number[] = [];
    const run = session.run.bind(session);
    session.run = ((feeds: Record<string, { dims: readonly number[] }>) => {
      sizes.push(feeds.images!.dims[0]!);
      return run(feeds as never);
    }) as typeof session.run;
    const outputs = await pool.run(model, new Float32Array(count * 3 * SIZE * SIZE).fill(0.5), count);
    expect(outputs).toHaveLength(count);
    await pool.release();
    return sizes;
  }

  test("a dynamic batch axis takes up to MAX_BATCH images per run; a fixed one runs each image alone", async () => {
    const dynamic = resolved(classifierModel({ weights: WEIGHTS, height: SIZE, width: SIZE }), "dyn", true);
    expect(await batchesOf(dynamic, MAX_BATCH + 2)).toEqual([MAX_BATCH, 2]);
    const fixed = resolved(logitsModel(), "fixed", false);
    expect(await batchesOf(fixed, 3)).toEqual([1, 1, 1]);
  });
});
