import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { buildModel, classifierModel } from "../../scripts/lib/onnx-builder.ts";
import { Engine } from "../../src/engine/engine.ts";
import { directoryResolver } from "../../src/engine/models/resolvers.ts";
import { serializeOutputs } from "../../src/engine/workflow/serialize.ts";
import { ROOT, shared, sharedModelsDir, tempDir } from "../helpers.ts";

/**
 * Workflows run end to end through the engine on real models and photos, plus two generated models whose
 * answers are known: a "detector" that always finds the same three boxes, and a colour classifier.
 */
const SQUARES = [
  { cls: 0, name: "red_square", color: { r: 255, g: 0, b: 0 }, cx: 80, cy: 80, w: 60, h: 60, score: 0.9 },
  { cls: 1, name: "green_square", color: { r: 0, g: 255, b: 0 }, cx: 240, cy: 100, w: 80, h: 40, score: 0.8 },
  { cls: 2, name: "blue_square", color: { r: 0, g: 0, b: 255 }, cx: 160, cy: 250, w: 100, h: 50, score: 0.7 },
];

/** A YOLOv8-layout model (320 input, 3 classes, 2100 anchors) whose output is fixed: the three squares. */
function fixedBoxDetector(): Uint8Array {
  const anchors = 2100;
  const rows = 4 + 3;
  const values = new Array(rows * anchors).fill(0);
  SQUARES.forEach((s, a) => {
    [s.cx, s.cy, s.w, s.h].forEach((v, r) => (values[r * anchors + a] = v));
    values[(4 + s.cls) * anchors + a] = s.score;
  });
  return buildModel({
    inputs: [{ name: "images", shape: [1, 3, 320, 320] }],
    outputs: [{ name: "output0", shape: [1, rows, anchors] }],
    nodes: [
      { op: "ReduceMean", inputs: ["images"], outputs: ["mean"], attributes: { axes: [1, 2, 3], keepdims: 0 } },
      { op: "Mul", inputs: ["mean", "zero"], outputs: ["nothing"] },
      { op: "Add", inputs: ["nothing", "boxes"], outputs: ["output0"] },
    ],
    initializers: [
      { name: "zero", dims: [1], values: [0] },
      { name: "boxes", dims: [1, rows, anchors], values },
    ],
  });
}

async function squaresImage(): Promise<Uint8Array> {
  const composites = await Promise.all(
    SQUARES.map(async (s) => ({
      input: await sharp({ create: { width: s.w, height: s.h, channels: 3, background: s.color } }).png().toBuffer(),
      left: s.cx - s.w / 2,
      top: s.cy - s.h / 2,
    })),
  );
  return sharp({ create: { width: 320, height: 320, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(composites).png().toBuffer();
}

const modelsDir = sharedModelsDir();
writeFileSync(join(modelsDir, "squares.onnx"), fixedBoxDetector());
writeFileSync(join(modelsDir, "squares.txt"), SQUARES.map((s) => s.name).join("\n"));
writeFileSync(join(modelsDir, "colours.onnx"), classifierModel({ weights: [[8, 0, 0], [0, 8, 0], [0, 0, 8]], height: 32, width: 32 }));
writeFileSync(join(modelsDir, "colours.txt"), "red\ngreen\nblue");
const engine = new Engine(directoryResolver(modelsDir), { intraOpNumThreads: 1 });
afterAll(() => engine.release());

const example = (file: string) => JSON.parse(readFileSync(join(ROOT, "examples/workflows", file), "utf8"));

/** Runs a definition on an image and serializes it as a job would; image outputs are kept in a map. */
async function run(definition: unknown, imageBytes: Uint8Array, name: string, params: Record<string, unknown> = {}) {
  const wf = await engine.compile(definition);
  const raw = await engine.run(wf, await engine.image(imageBytes, name), engine.parameters(wf, params));
  const images = new Map<string, { width: number; height: number; jpeg: Buffer; rgb: Uint8Array }>();
  const json = await serializeOutputs(wf, raw, {
    image: async (img, output, path) => {
      const key = [output, ...path].join("/");
      images.set(key, { width: img.width, height: img.height, jpeg: await img.toJpeg(), rgb: (await img.rgb()).data });
      return { type: "image", file: `${key}.jpg` };
    },
  });
  return { json: json as Record<string, any>, images };
}

const box = (p: { x: number; y: number; width: number; height: number }) => [p.x - p.width / 2, p.y - p.height / 2, p.x + p.width / 2, p.y + p.height / 2];
function iou(a: number[], b: number[]): number {
  const iw = Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!);
  const ih = Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

describe("workflows on the engine", () => {
  test("detect → crop → classify: one classification per crop, crops exactly at the boxes, results point back", async () => {
    const def = example("detect-crop-classify.json");
    def.steps[0].model_id = "squares";
    def.steps[2].model_id = "colours";
    def.outputs.push({ type: "JsonField", name: "crops", selector: "$steps.crops.crops" });
    const { json, images } = await run(def, await squaresImage(), "squares.png");
    const dets = json.detections.predictions as any[];
    expect(dets.map((d) => d.class)).toEqual(["red_square", "green_square", "blue_square"]);
    dets.forEach((d, i) => expect(box(d)).toEqual(box({ x: SQUARES[i]!.cx, y: SQUARES[i]!.cy, width: SQUARES[i]!.w, height: SQUARES[i]!.h })));
    const classes = json.crop_classes as any[];
    expect(classes.length).toBe(3);
    classes.forEach((c, i) => {
      expect(c.top).toBe(["red", "green", "blue"][i]);
      expect(c.confidence).toBeGreaterThan(0.99);
      expect(c.image).toEqual({ width: SQUARES[i]!.w, height: SQUARES[i]!.h });
      expect(c.parent_id).toBe(dets[i].detection_id);
      expect(c.root_parent_id).toBe("squares.png");
    });
    // The crops hold only their square's colour: no white from outside the box.
    for (let i = 0; i < 3; i++) {
      const stats = await sharp(images.get(`crops/${i}`)!.jpeg).stats();
      const means = stats.channels.map((ch) => ch.mean);
      expect(Math.max(...means)).toBeGreaterThan(235);
      expect(means.filter((m) => m > 40).length).toBe(1);
    }
  });

  test("the single detector gives the reference's prediction format with the reference boxes", async () => {
    const { json } = await run(example("detect.json"), readFileSync(shared("media/messi5.jpg")), "messi5.jpg");
    const out = json.predictions;
    expect(out.image).toEqual({ width: 548, height: 342 });
    const ball = out.predictions.find((p: any) => p.class === "sports ball");
    const person = out.predictions.find((p: any) => p.class === "person");
    expect(Object.keys(ball).sort()).toEqual(["class", "class_id", "confidence", "detection_id", "height", "parent_id", "width", "x", "y"]);
    expect(ball).toMatchObject({ class_id: 32, parent_id: "messi5.jpg" });
    expect(iou(box(ball), [338, 289, 389, 336])).toBeGreaterThan(0.85);
    expect(iou(box(person), [66, 61, 458, 337])).toBeGreaterThan(0.85);
    const strict = await run(example("detect.json"), readFileSync(shared("media/messi5.jpg")), "messi5.jpg", { confidence: 0.9 });
    expect(strict.json.predictions.predictions.map((p: any) => p.class).sort()).toEqual(["sports ball"]);
  });

  test("coordinates_system: detections on crops in the input image's pixels, or the crop's own", async () => {
    const def = {
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }],
      steps: [
        { type: "roboflow_core/roboflow_object_detection_model@v2", name: "det", images: "$inputs.image", model_id: "squares" },
        { type: "roboflow_core/dynamic_crop@v1", name: "crop", images: "$inputs.image", predictions: "$steps.det.predictions" },
        { type: "roboflow_core/detection_offset@v1", name: "grown", predictions: "$steps.crop.predictions", offset_width: 10, offset_height: 10 },
      ],
      outputs: [
        { type: "JsonField", name: "parent", selector: "$steps.grown.predictions" },
        { type: "JsonField", name: "own", selector: "$steps.grown.predictions", coordinates_system: "own" },
      ],
    };
    const { json } = await run(def, await squaresImage(), "squares.png");
    const parent = json.parent[0].predictions[0];
    const own = json.own[0].predictions[0];
    expect(json.parent[0].image).toEqual({ width: 320, height: 320 });
    expect(json.own[0].image).toEqual({ width: 60, height: 60 });
    expect([own.x, own.y]).toEqual([30, 30]);
    expect([parent.x, parent.y]).toEqual([80, 80]);
    expect(parent.parent_origin).toEqual({ offset_x: 50, offset_y: 50, width: 320, height: 320 });
  });

  test("instance segmentation gives outline points around the player; the mask visualisation keeps the size", async () => {
    const def = {
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }],
      steps: [
        { type: "roboflow_core/roboflow_instance_segmentation_model@v1", name: "seg", images: "$inputs.image", model_id: "yolov8n-seg-320" },
        { type: "roboflow_core/mask_visualization@v1", name: "mask", image: "$inputs.image", predictions: "$steps.seg.predictions" },
        { type: "roboflow_core/polygon_visualization@v1", name: "outline", image: "$steps.mask.image", predictions: "$steps.seg.predictions" },
      ],
      outputs: [
        { type: "JsonField", name: "seg", selector: "$steps.seg.predictions" },
        { type: "JsonField", name: "viz", selector: "$steps.outline.image" },
      ],
    };
    const { json, images } = await run(def, readFileSync(shared("media/messi5.jpg")), "messi5.jpg");
    const person = json.seg.predictions.find((p: any) => p.class === "person");
    expect(person.points.length).toBeGreaterThan(20);
    const xs = person.points.map((p: any) => p.x);
    const ys = person.points.map((p: any) => p.y);
    expect(iou([Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)], [66, 67, 456, 335])).toBeGreaterThan(0.85);
    expect(images.get("viz")).toMatchObject({ width: 548, height: 342 });
  });

  test("tiled detection on a 2x photo finds the player and the ball where they are", async () => {
    const big = await sharp(readFileSync(shared("media/messi5.jpg"))).resize(1096, 684).jpeg().toBuffer();
    const { json } = await run(example("tiled-detection.json"), big, "messi-2x.jpg");
    const preds = json.predictions.predictions as any[];
    expect(json.predictions.image).toEqual({ width: 1096, height: 684 });
    const ball = preds.find((p) => p.class === "sports ball");
    const people = preds.filter((p) => p.class === "person");
    expect(iou(box(ball), [676, 578, 778, 672])).toBeGreaterThan(0.7);
    expect(people.length).toBeGreaterThan(0);
    for (const p of preds) expect(p.parent_id).toBe("messi-2x.jpg");
  });

  test("blur changes the pixels inside the people's boxes only; boxes and labels draw on a same-size image", async () => {
    const bytes = readFileSync(shared("media/basketball1.png"));
    const { json, images } = await run(example("blur-people.json"), bytes, "b.png");
    const people = json.people.predictions as any[];
    expect(people.length).toBe(2);
    const original = await sharp(bytes).removeAlpha().raw().toBuffer();
    const blurred = images.get("blurred")!.rgb;
    const inBox = (x: number, y: number) => people.some((p) => { const [x1, y1, x2, y2] = box(p); return x >= x1! - 1 && x <= x2! + 1 && y >= y1! - 1 && y <= y2! + 1; });
    let inside = 0, insideDiff = 0, outside = 0, outsideDiff = 0;
    for (let y = 0; y < 480; y++)
      for (let x = 0; x < 640; x++) {
        const i = (y * 640 + x) * 3;
        const d = Math.abs(blurred[i]! - original[i]!) + Math.abs(blurred[i + 1]! - original[i + 1]!) + Math.abs(blurred[i + 2]! - original[i + 2]!);
        if (inBox(x, y)) (inside++, (insideDiff += d));
        else (outside++, (outsideDiff += d));
      }
    expect(insideDiff / inside).toBeGreaterThan(10);
    expect(outsideDiff / outside).toBe(0);
    const labelled = await run(example("boxes-and-labels.json"), bytes, "b.png");
    expect(labelled.images.get("annotated")).toMatchObject({ width: 640, height: 480 });
  });

  test("OCR reads the first line of the page exactly", async () => {
    const { json } = await run(example("ocr.json"), readFileSync(shared("media/imageTextN.png")), "page.png");
    expect(json.text.split("\n")[0]).toBe("technical details are too complex to cover in the book itself.");
    expect(json.lines.predictions[0].class).toBe("technical details are too complex to cover in the book itself.");
  });

  test("a bad image fails its own run with a clear error, and the engine goes on", async () => {
    const wf = await engine.compile(example("detect.json"));
    await expect(engine.image(new Uint8Array(0), "empty.jpg")).rejects.toThrow("Image 'empty.jpg' is empty");
    const corrupt = await engine.image(readFileSync(shared("media/messi5.jpg")).subarray(0, 3000), "cut.jpg");
    await expect(engine.run(wf, corrupt, {})).rejects.toThrow("Image 'cut.jpg' cannot be decoded");
    const good = await engine.run(wf, await engine.image(readFileSync(shared("media/messi5.jpg")), "ok.jpg"), engine.parameters(wf, {}));
    expect((good.predictions as any).items.length).toBeGreaterThan(0);
  });
});

test("the examples all compile against the shared models", async () => {
  const dir = tempDir();
  for (const file of ["detect.json", "boxes-and-labels.json", "blur-people.json", "tiled-detection.json", "ocr.json", "detect-crop-classify.json"]) {
    const def = example(file);
    for (const s of def.steps) if (s.model_id === "classifier") s.model_id = "colours";
    writeFileSync(join(dir, file), JSON.stringify(def));
    await engine.compile(def);
  }
});
