import sharp from "sharp";
import * as ort from "onnxruntime-node";
import { Engine } from "./src/engine/engine.ts";
import { inspectOnnx } from "./src/engine/models/inspect.ts";
import { letterbox, toChw } from "./src/engine/image/letterbox.ts";
import { WorkflowImage } from "./src/engine/image/workflow-image.ts";
sharp.concurrency(1);
const classNames = (await Bun.file("../shared/models/coco80.txt").text()).trim().split("\n");
const path = "../shared/models/yolox-nano-416.onnx";
const m = { info: await inspectOnnx(path, { modelId: "yolox-nano", classNames, family: "yolox" }), path };
const photos = await Promise.all(["messi5.jpg", "basketball1.png", "fruits.jpg", "imageTextN.png"].map((f) => Bun.file("../shared/media/" + f).bytes()));
const N = 80;
// (a) raw
const session = await ort.InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: "sequential", graphOptimizationLevel: "all" });
let dec = 0, inf = 0;
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const wi = await WorkflowImage.fromEncoded(photos[i % 4]!, "x", { maxPixels: 1e8 });
  const lb = await letterbox(wi, 416, 416, "top-left");
  const tensor = new Float32Array(3 * 416 * 416);
  toChw(lb.pixels, 416, 416, "bgr", 1, tensor);
  const t1 = performance.now();
  await session.run({ images: new ort.Tensor("float32", tensor, [1, 3, 416, 416]) });
  const t2 = performance.now();
  if (i >= 4) { dec += t1 - t0; inf += t2 - t1; }
}
console.log("raw: dec", (dec / (N - 4)).toFixed(2), "inf", (inf / (N - 4)).toFixed(2));
// (b) engine
const engine = new Engine({ resolve: async () => m, describe: () => "" }, { intraOpNumThreads: 1 });
const def = JSON.parse(await Bun.file("examples/workflows/detect.json").text());
def.steps[0].model_id = "yolox-nano";
const wf = await engine.compile(def);
const params = engine.parameters(wf, {});
for (let i = 0; i < 4; i++) await engine.run(wf, await engine.image(photos[i % 4]!, "x"), params);
const t0 = performance.now();
for (let i = 0; i < N; i++) await engine.run(wf, await engine.image(photos[i % 4]!, "x" + i), params);
console.log("engine per image", ((performance.now() - t0) / N).toFixed(2));
// (a) again
dec = 0; inf = 0;
for (let i = 0; i < N; i++) {
  const t0 = performance.now();
  const wi = await WorkflowImage.fromEncoded(photos[i % 4]!, "x", { maxPixels: 1e8 });
  const lb = await letterbox(wi, 416, 416, "top-left");
  const tensor = new Float32Array(3 * 416 * 416);
  toChw(lb.pixels, 416, 416, "bgr", 1, tensor);
  const t1 = performance.now();
  await session.run({ images: new ort.Tensor("float32", tensor, [1, 3, 416, 416]) });
  const t2 = performance.now();
  if (i >= 4) { dec += t1 - t0; inf += t2 - t1; }
}
console.log("raw again: dec", (dec / (N - 4)).toFixed(2), "inf", (inf / (N - 4)).toFixed(2));
