/**
 * `bun run bench engine`: the engine's throughput against the CPU bound of this machine.
 *
 * On the same folder of real photos it measures, single-threaded: t_dec (read + decode + letterbox + a
 * fresh tensor per image) and t_inf (session.run per image, one onnxruntime thread); the bound is cores / (t_dec + t_inf).
 * Then it runs the single-detector workflow end to end over the folder with the engine's default
 * concurrency (an EnginePool, one worker per core) and reports the ratio to the bound (target 0.85), for
 * YOLOv8n-640 and YOLOX-nano; and images/s for each example workflow.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ort from "onnxruntime-node";
import sharp from "sharp";
import { letterbox, toChw } from "../src/engine/image/letterbox.ts";
import { WorkflowImage } from "../src/engine/image/workflow-image.ts";
import { inspectOnnx } from "../src/engine/models/inspect.ts";
import type { ResolvedModel } from "../src/engine/models/types.ts";
import { EnginePool } from "../src/engine/parallel/pool.ts";
import { classifierModel as buildClassifier } from "./lib/onnx-builder.ts";

const ROOT = resolve(import.meta.dir, "..");
const SHARED = resolve(ROOT, "../shared");
const PHOTOS = ["messi5.jpg", "basketball1.png", "fruits.jpg", "imageTextN.png"].map((f) => join(SHARED, "media", f));

async function model(id: string, file: string, family?: "yolox"): Promise<ResolvedModel> {
  const path = join(SHARED, "models", file);
  const classNames = (await Bun.file(join(SHARED, "models/coco80.txt")).text()).trim().split("\n");
  return { info: await inspectOnnx(path, { modelId: id, classNames, ...(family ? { family } : {}) }), path };
}

/** The folder: the real photos, repeated as `count` files in a temp folder (the engine reads them by path). */
async function folder(count: number): Promise<{ name: string; path: string; bytes: Uint8Array }[]> {
  const dir = mkdtempSync(join(tmpdir(), "vbatch-bench-photos-"));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  const photos = await Promise.all(PHOTOS.map(async (p) => ({ name: p.split("/").pop()!, bytes: await Bun.file(p).bytes() })));
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const photo = photos[i % photos.length]!;
      const name = `${i}-${photo.name}`;
      await Bun.write(join(dir, name), photo.bytes);
      return { name, path: join(dir, name), bytes: photo.bytes };
    }),
  );
}

async function singleThreadCosts(m: ResolvedModel, images: { name: string; path: string }[]) {
  sharp.concurrency(1);
  const { width, height } = m.info.input;
  const yolox = m.info.family === "yolox";
  const session = await ort.InferenceSession.create(m.path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
  let dec = 0;
  let inf = 0;
  for (const [i, img] of images.entries()) {
    const t0 = performance.now();
    const wi = await WorkflowImage.fromEncoded(await Bun.file(img.path).bytes(), img.name, { maxPixels: 1e8 });
    const lb = await letterbox(wi, width, height, yolox ? "top-left" : "center");
    const tensor = new Float32Array(3 * width * height);
    toChw(lb.pixels, width, height, yolox ? "bgr" : "rgb", yolox ? 1 : 1 / 255, tensor);
    const t1 = performance.now();
    await session.run({ [m.info.input.name]: new ort.Tensor("float32", tensor, [1, 3, height, width]) });
    const t2 = performance.now();
    if (i >= 2) {
      dec += t1 - t0;
      inf += t2 - t1;
    }
  }
  await session.release();
  sharp.concurrency(0);
  const n = images.length - 2;
  return { tDec: dec / n / 1000, tInf: inf / n / 1000 };
}

async function throughput(pool: EnginePool, definition: unknown, models: Record<string, ResolvedModel>, images: { name: string; path: string }[], key: string) {
  // Warm-up: every worker loads the models once before timing.
  await Promise.all(images.slice(0, pool.size * 2).map((img) => pool.run({ workflowKey: key, definition, models, image: { name: img.name, path: img.path }, params: {} })));
  const t0 = performance.now();
  await Promise.all(images.map((img) => pool.run({ workflowKey: key, definition, models, image: { name: img.name, path: img.path }, params: {} })));
  return images.length / ((performance.now() - t0) / 1000);
}

export async function benchEngine(count = 120): Promise<boolean> {
  const cores = availableParallelism();
  const images = await folder(count);
  const models = {
    "yolov8n-640": await model("yolov8n-640", "yolov8n-640-int8.onnx"),
    "yolov8n-320": await model("yolov8n-320", "yolov8n-320-int8.onnx"),
    "yolox-nano": await model("yolox-nano", "yolox-nano-416.onnx", "yolox"),
  };
  const pool = await EnginePool.start();
  const detect = JSON.parse(await Bun.file(join(ROOT, "examples/workflows/detect.json")).text());
  let ok = true;
  console.log(`engine throughput on ${count} real photos (${PHOTOS.length} distinct), ${cores} cores, pool of ${pool.size} workers (${pool.provider?.selected})`);
  for (const id of ["yolov8n-640", "yolox-nano"] as const) {
    const { tDec, tInf } = await singleThreadCosts(models[id], images.slice(0, 42));
    const bound = cores / (tDec + tInf);
    const def = { ...detect, steps: [{ ...detect.steps[0], model_id: id }] };
    const rate = await throughput(pool, def, models, images, `detect-${id}`);
    const ratio = rate / bound;
    ok &&= ratio >= 0.85;
    console.log(
      `  ${id.padEnd(12)} t_dec ${(tDec * 1000).toFixed(1)} ms, t_inf ${(tInf * 1000).toFixed(1)} ms, bound ${bound.toFixed(1)} img/s; ` +
        `engine ${rate.toFixed(1)} img/s = ${ratio.toFixed(2)} of the bound (target 0.85) ${ratio >= 0.85 ? "OK" : "UNDER"}`,
    );
  }
  const examples = ["detect.json", "boxes-and-labels.json", "blur-people.json", "detect-crop-classify.json", "tiled-detection.json", "ocr.json"];
  const classifier = await classifierModel();
  for (const file of examples) {
    const def = JSON.parse(await Bun.file(join(ROOT, "examples/workflows", file)).text());
    const rate = await throughput(pool, def, { ...models, classifier }, images.slice(0, file === "ocr.json" ? 12 : 48), file);
    console.log(`  example ${file.padEnd(26)} ${rate.toFixed(1)} img/s`);
  }
  await pool.close();
  return ok;
}

/** The crop classifier of the examples: a tiny generated model (colour-based, 3 classes). */
async function classifierModel(): Promise<ResolvedModel> {
  const path = join(ROOT, ".cache/bench-classifier.onnx");
  await Bun.write(path, buildClassifier({ weights: [[4, -2, -2], [-2, 4, -2], [-2, -2, 4]], height: 64, width: 64 }));
  return { info: await inspectOnnx(path, { modelId: "classifier", classNames: ["reddish", "greenish", "bluish"] }), path };
}
