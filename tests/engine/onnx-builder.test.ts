import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { classifierModel, shapedOutputsModel } from "../../scripts/lib/onnx-builder.ts";
import { readOnnxMetadata } from "../../src/engine/models/onnx-metadata.ts";
import { tempDir } from "../helpers.ts";

/** N images of plain colours (RGB in 0..1), NCHW. */
function plainImages(colours: [number, number, number][], size: number): ort.Tensor {
  const plane = size * size;
  const data = new Float32Array(colours.length * 3 * plane);
  colours.forEach((rgb, n) => rgb.forEach((v, c) => data.fill(v, (n * 3 + c) * plane, (n * 3 + c + 1) * plane)));
  return new ort.Tensor("float32", data, [colours.length, 3, size, size]);
}

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  const path = join(tempDir(), "built.onnx");
  writeFileSync(path, bytes);
  return ort.InferenceSession.create(path);
}

describe("onnx-builder", () => {
  test("the classifier runs in onnxruntime and gives each plain colour its class, batched", async () => {
    // Class 0 = red, 1 = green, 2 = blue: each class weighs one channel.
    const s = await session(classifierModel({ weights: [[8, 0, 0], [0, 8, 0], [0, 0, 8]], height: 16, width: 16 }));
    const { probs } = await s.run({ images: plainImages([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0.2, 0.9, 0.1]], 16) });
    expect(probs!.dims).toEqual([4, 3]);
    const p = probs!.data as Float32Array;
    const argmax = [0, 1, 2, 3].map((n) => [0, 1, 2].reduce((best, c) => (p[n * 3 + c]! > p[n * 3 + best]! ? c : best), 0));
    expect(argmax).toEqual([0, 1, 2, 1]);
    // Softmax of logits (8, 0, 0): exactly computable.
    expect(p[0]).toBeCloseTo(Math.exp(8) / (Math.exp(8) + 2), 5);
    for (let n = 0; n < 4; n++) expect(p[n * 3]! + p[n * 3 + 1]! + p[n * 3 + 2]!).toBeCloseTo(1, 5);
    await s.release();
  });

  test("the bias moves the decision where the weights tie", async () => {
    const s = await session(classifierModel({ weights: [[1, 1], [0, 0], [0, 0]], bias: [0, 0.5], height: 4, width: 4 }));
    const { probs } = await s.run({ images: plainImages([[1, 1, 1]], 4) });
    expect(probs!.data[1]).toBeGreaterThan(probs!.data[0] as number);
    await s.release();
  });

  test("shaped models declare the shapes asked for and run; dynamic dimensions follow the input", async () => {
    const s = await session(shapedOutputsModel({ input: ["n", 3, 64, 64], outputs: [{ name: "det", shape: ["n", 116, 84] }, { name: "protos", shape: ["n", 32, 16, 16] }] }));
    expect(s.outputMetadata.map((o) => (o.isTensor ? o.shape : []))).toEqual([["n", 116, 84], ["n", 32, 16, 16]]);
    const out = await s.run({ images: plainImages([[0, 0, 0], [1, 1, 1]], 64) });
    expect(out.det!.dims).toEqual([2, 116, 84]);
    expect(out.protos!.dims).toEqual([2, 32, 16, 16]);
    await s.release();
  });

  test("metadata_props are written and read back", () => {
    const path = join(tempDir(), "meta.onnx");
    const metadata = { names: "{0: 'a'}", imgsz: "[64, 64]", note: "ünïcödé ✓" };
    writeFileSync(path, shapedOutputsModel({ input: [1, 3, 64, 64], outputs: [{ name: "o", shape: [1, 1] }], metadata }));
    expect(readOnnxMetadata(path)).toEqual(metadata);
  });
});
