import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildModel, classifierModel, shapedOutputsModel, type ShapedOutputsSpec } from "../../scripts/lib/onnx-builder.ts";
import { parseClassList } from "../../src/engine/models/class-names.ts";
import { inspectOnnx } from "../../src/engine/models/inspect.ts";
import { shared, tempDir } from "../helpers.ts";

const coco = () => parseClassList(readFileSync(shared("models/coco80.txt"), "utf8"), "coco80.txt");
const haveModels = existsSync(shared("models/coco80.txt"));

/** Writes a built model into a temp folder and returns its path. */
function modelFile(bytes: Uint8Array, name = "model.onnx"): string {
  const path = join(tempDir(), name);
  writeFileSync(path, bytes);
  return path;
}
const shaped = (spec: ShapedOutputsSpec) => modelFile(shapedOutputsModel(spec));

/** The AppError an inspection fails with. */
async function failure(path: string, opts: Parameters<typeof inspectOnnx>[1]): Promise<{ code: string; message: string }> {
  try {
    await inspectOnnx(path, opts);
  } catch (e) {
    return e as { code: string; message: string };
  }
  throw new Error("the inspection succeeded");
}

describe.skipIf(!haveModels)("inspectOnnx on the real test models", () => {
  const cases = [
    { file: "yolov8n-640-int8.onnx", family: "yolov8", task: "detection", size: 640, outputs: [["output0", [1, 84, 8400]]] },
    { file: "yolov8n-320-int8.onnx", family: "yolov8", task: "detection", size: 320, outputs: [["output0", [1, 84, 2100]]] },
    { file: "yolov8n-seg-320-int8.onnx", family: "yolov8-seg", task: "segmentation", size: 320, outputs: [["output0", [1, 116, 2100]], ["output1", [1, 32, 80, 80]]] },
    { file: "yolox-nano-416.onnx", family: "yolox", task: "detection", size: 416, outputs: [["output", [1, 3549, 85]]] },
  ] as const;

  for (const c of cases)
    test(`${c.file}: ${c.family}, ${c.task}, ${c.size}x${c.size}, 80 classes`, async () => {
      const path = shared(`models/${c.file}`);
      const info = await inspectOnnx(path, { modelId: "m1", classNames: coco(), classesFrom: "coco80.txt" });
      expect(info).toMatchObject({ modelId: "m1", family: c.family, task: c.task });
      expect(info.input).toEqual({ name: "images", shape: [1, 3, c.size, c.size], type: "float32", width: c.size, height: c.size, dynamicBatch: false });
      expect(info.outputs.map((o) => [o.name, o.shape])).toEqual(c.outputs.map(([n, s]) => [n, [...s]]));
      expect(info.classNames.length).toBe(80);
      expect(info.classNames[32]).toBe("sports ball");
      const bytes = readFileSync(path);
      expect(info.sizeBytes).toBe(bytes.length);
      expect(info.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    });

  test("Ultralytics metadata: names, imgsz and task come from the file when no names are given", async () => {
    const info = await inspectOnnx(shared("models/yolov8n-seg-320-int8.onnx"), { modelId: "seg" });
    expect(info.metadata).toMatchObject({ task: "segment", imgsz: "[320, 320]", stride: "32" });
    expect(info.classNames.length).toBe(80);
    expect(info.classNames.slice(0, 2)).toEqual(["person", "bicycle"]);
    expect(info.classNames[79]).toBe("toothbrush");
  });

  test("a segmentation model can be registered to serve as a detector, not as a classifier", async () => {
    const path = shared("models/yolov8n-seg-320-int8.onnx");
    expect((await inspectOnnx(path, { modelId: "s", task: "detection" })).task).toBe("detection");
    expect(await failure(path, { modelId: "s", task: "classification" })).toMatchObject({
      code: "MODEL_TASK_MISMATCH",
      message: "Task 'classification' does not fit a yolov8-seg model; it can do: segmentation, detection",
    });
  });

  test("a model without names in its metadata needs a names list", async () => {
    expect(await failure(shared("models/yolox-nano-416.onnx"), { modelId: "x" })).toMatchObject({
      code: "MODEL_CLASSES_MISSING",
      message: expect.stringContaining("yolox-nano-416.onnx is a yolox model with 80 classes, but its ONNX metadata has no 'names'"),
    });
  });

  test("a names list of the wrong length is refused, naming both counts", async () => {
    const e = await failure(shared("models/yolox-nano-416.onnx"), { modelId: "x", classNames: coco().slice(0, 79), classesFrom: "names.txt" });
    expect(e).toMatchObject({ code: "MODEL_CLASSES_MISMATCH", message: "yolox-nano-416.onnx has 80 classes (outputs output [1,3549,85]) but names.txt lists 79" });
  });

  test("a named family that does not match the shapes is refused with the layout expected", async () => {
    const e = await failure(shared("models/yolox-nano-416.onnx"), { modelId: "x", classNames: coco(), family: "yolov8" });
    expect(e.code).toBe("MODEL_LAYOUT_UNSUPPORTED");
    expect(e.message).toBe(
      "yolox-nano-416.onnx does not have the yolov8 layout (named as yolov8): expected one output [N, 4+C, 3549]; found input images [1,3,416,416], outputs output [1,3549,85]",
    );
  });

  test("a truncated copy of a real model is not a valid ONNX model", async () => {
    const bytes = readFileSync(shared("models/yolov8n-320-int8.onnx"));
    const path = modelFile(bytes.subarray(0, Math.floor(bytes.length / 2)), "cut.onnx");
    const e = await failure(path, { modelId: "cut", classNames: coco() });
    expect(e.code).toBe("MODEL_INVALID");
    expect(e.message).toStartWith("cut.onnx is not a valid ONNX model: ");
    expect(e.message).toContain("Protobuf parsing failed");
  });
});

describe("inspectOnnx on built models", () => {
  test("random bytes named .onnx are refused with onnxruntime's reason", async () => {
    const path = modelFile(crypto.getRandomValues(new Uint8Array(4096)), "random.onnx");
    const e = await failure(path, { modelId: "r" });
    expect(e.code).toBe("MODEL_INVALID");
    expect(e.message).toMatch(/^random\.onnx is not a valid ONNX model: .+/);
  });

  test("a classifier: dynamic batch, size from the shape, names from a list", async () => {
    const path = modelFile(classifierModel({ weights: [[1, 0], [0, 1], [0, 0]], height: 32, width: 48 }));
    const info = await inspectOnnx(path, { modelId: "colours", classNames: ["red", "green"] });
    expect(info).toMatchObject({ family: "classifier", task: "classification", classNames: ["red", "green"] });
    expect(info.input).toMatchObject({ shape: ["batch", 3, 32, 48], width: 48, height: 32, dynamicBatch: true });
    expect(info.outputs).toEqual([{ name: "probs", shape: ["batch", 2], type: "float32" }]);
  });

  test("Ultralytics names (with quotes and escapes) and imgsz for a dynamic input size", async () => {
    const path = shaped({
      input: ["batch", 3, "height", "width"],
      outputs: [{ name: "output0", shape: ["batch", 7, "anchors"] }],
      metadata: { names: `{0: 'cat', 1: "dog's toy", 2: 'caf\\xe9'}`, imgsz: "[256, 320]", task: "detect" },
    });
    const info = await inspectOnnx(path, { modelId: "pets" });
    expect(info).toMatchObject({ family: "yolov8", classNames: ["cat", "dog's toy", "café"] });
    expect(info.input).toMatchObject({ width: 320, height: 256, dynamicBatch: true });
  });

  test("YOLOX and YOLOv8 layouts are told apart by where the anchors are", async () => {
    const names = ["a", "b", "c"];
    const v8 = shaped({ input: [1, 3, 64, 64], outputs: [{ name: "o", shape: [1, 7, 84] }] });
    const yx = shaped({ input: [1, 3, 64, 64], outputs: [{ name: "o", shape: [1, 84, 8] }] });
    expect((await inspectOnnx(v8, { modelId: "a", classNames: names })).family).toBe("yolov8");
    expect((await inspectOnnx(yx, { modelId: "b", classNames: names })).family).toBe("yolox");
  });

  test("an unsupported layout names the input and output shapes found", async () => {
    const path = shaped({ input: [1, 3, 640, 640], outputs: [{ name: "output0", shape: [1, 84, 8000] }] });
    const e = await failure(path, { modelId: "odd", classNames: coco() });
    expect(e.code).toBe("MODEL_LAYOUT_UNSUPPORTED");
    expect(e.message).toContain("Cannot tell which kind of model model.onnx is from its shapes (input images [1,3,640,640], outputs output0 [1,84,8000])");
    expect(e.message).toContain("yolov8: one output [N, 4+C, 8400]");
  });

  test("more outputs than any layout has, and inputs that are not images, are refused", async () => {
    const three = shaped({ input: [1, 3, 64, 64], outputs: ["a", "b", "c"].map((name) => ({ name, shape: [1, 10] })) });
    expect((await failure(three, { modelId: "t", classNames: ["x"] })).code).toBe("MODEL_LAYOUT_UNSUPPORTED");
    const gray = shaped({ input: [1, 1, 64, 64], outputs: [{ name: "p", shape: [1, 2] }] });
    expect(await failure(gray, { modelId: "g", classNames: ["x", "y"] })).toMatchObject({
      code: "MODEL_LAYOUT_UNSUPPORTED",
      message: "model.onnx: input images [1,1,64,64] is not an image tensor [N,3,H,W]",
    });
  });

  test("an image input that is not float32 is refused", async () => {
    const path = modelFile(
      buildModel({
        inputs: [{ name: "images", shape: [1, 3, 64, 64], elemType: "int64" }],
        outputs: [{ name: "dims", shape: [4], elemType: "int64" }],
        nodes: [{ op: "Shape", inputs: ["images"], outputs: ["dims"] }],
      }),
    );
    expect((await failure(path, { modelId: "i" })).message).toBe("model.onnx: input images is int64; vbatch feeds float32 images");
  });

  test("a dynamic input size without imgsz cannot be used", async () => {
    const path = shaped({ input: [1, 3, "h", "w"], outputs: [{ name: "p", shape: [1, 2] }] });
    expect((await failure(path, { modelId: "d", classNames: ["x", "y"] })).code).toBe("MODEL_INPUT_SIZE_UNKNOWN");
  });

  test("Ultralytics tasks without a decoder are named", async () => {
    const path = shaped({ input: [1, 3, 64, 64], outputs: [{ name: "o", shape: [1, 56, 84] }], metadata: { task: "pose" } });
    expect((await failure(path, { modelId: "p" })).message).toBe("model.onnx is an Ultralytics 'pose' model; supported Ultralytics tasks are detect, segment, classify");
  });

  test("PP-OCR recognition: the dictionary gets the CTC blank and the space around it", async () => {
    const path = shaped({ input: ["n", 3, 48, "w"], outputs: [{ name: "o", shape: ["n", "t", 5] }] });
    const info = await inspectOnnx(path, { modelId: "rec", family: "ppocr-rec", classNames: ["a", "b", "c"] });
    expect(info).toMatchObject({ task: "ocr", classNames: ["", "a", "b", "c", " "] });
    expect(info.input).toMatchObject({ height: 48, width: 0 });
  });
});
