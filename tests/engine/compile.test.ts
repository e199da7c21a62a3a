import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import { BLOCKS } from "../../src/engine/blocks/registry.ts";
import type { ModelInfo } from "../../src/engine/models/types.ts";
import { compileWorkflow } from "../../src/engine/workflow/compile.ts";
import { resolveParameters } from "../../src/engine/workflow/executor.ts";

/** Model facts as the registry would give them; compile needs only family and task. */
const MODELS: Record<string, Pick<ModelInfo, "family" | "task">> = {
  "yolov8n-640": { family: "yolov8", task: "detection" },
  classifier: { family: "classifier", task: "classification" },
};
const resolveModel = async (id: string) => MODELS[id] as ModelInfo | undefined;
const compile = (def: unknown) => compileWorkflow(def, { blocks: BLOCKS, resolveModel, modelSource: "the test registry" });

const image = { type: "WorkflowImage", name: "image" };
const detector = (extra: Record<string, unknown> = {}) => ({
  type: "roboflow_core/roboflow_object_detection_model@v2",
  name: "det",
  images: "$inputs.image",
  model_id: "yolov8n-640",
  ...extra,
});
const wf = (steps: unknown[], outputs: unknown[] = [], inputs: unknown[] = [image]) => ({ version: "1.0", inputs, steps, outputs });

/** The errors of a definition that must not compile: [path, message] pairs. */
async function problems(def: unknown): Promise<[string, string][]> {
  try {
    await compile(def);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe("WORKFLOW_INVALID");
    return ((e as AppError).details!.errors as { path: string; message: string }[]).map((x) => [x.path, x.message]);
  }
  throw new Error("the workflow compiled, but it should not");
}

describe("workflow compiler", () => {
  test("accepts the reference's aliases and old names, and works out crop levels", async () => {
    const compiled = await compile({
      version: "1.0",
      inputs: [{ type: "InferenceImage", name: "image" }, { type: "InferenceParameter", name: "conf", default_value: 0.5 }],
      steps: [
        { type: "ObjectDetectionModel", name: "det", image: "$inputs.image", model_id: "yolov8n-640", confidence: "$inputs.conf" },
        { type: "Crop", name: "crop", image: "$inputs.image", detections: "$steps.det.predictions" },
        { type: "ClassificationModel", name: "cls", image: "$steps.crop.crops", model_id: "classifier" },
        { type: "roboflow_core/dynamic_crop@v1", name: "crop2", images: "$inputs.image", predictions: "$steps.det.predictions" },
      ],
      outputs: [{ type: "JsonField", name: "classes", selector: "$steps.cls.predictions" }, { type: "JsonField", name: "all", selector: "$steps.det.*" }],
    });
    expect(compiled.steps.map((s) => [s.name, s.depth, s.outputDepth])).toEqual([
      ["det", 0, 0],
      ["crop", 0, 1],
      ["cls", 1, 1],
      ["crop2", 0, 1],
    ]);
    expect(compiled.outputs.map((o) => o.depth)).toEqual([1, 0]);
    expect(compiled.modelIds.sort()).toEqual(["classifier", "yolov8n-640"]);
  });

  test("an unknown block type is refused with the supported types listed", async () => {
    const [[path, message]] = (await problems(wf([{ type: "roboflow_core/teleport@v1", name: "x" }]))) as [[string, string]];
    expect(path).toBe("$.steps[0].type");
    expect(message).toContain("unknown block type 'roboflow_core/teleport@v1'");
    expect(message).toContain("roboflow_core/roboflow_object_detection_model@v2");
  });

  test("unknown selectors are refused where they are", async () => {
    expect(await problems(wf([detector({ images: "$inputs.picture" })]))).toEqual([["$.steps[0].images", "$inputs.picture: there is no input 'picture'"]]);
    const bad = await problems(wf([detector()], [{ type: "JsonField", name: "p", selector: "$steps.det.boxes" }]));
    expect(bad[0]![0]).toBe("$.outputs[0].selector");
    expect(bad[0]![1]).toContain("step 'det' has no output 'boxes'");
    expect((await problems(wf([detector({ confidence: "$steps.nope.value" })])))[0]).toEqual(["$.steps[0].confidence", "$steps.nope.value: there is no step 'nope'"]);
    expect((await problems(wf([detector({ images: "$input.image" })])))[0]![1]).toContain("is not a valid selector");
  });

  test("a cycle is refused with the steps on it", async () => {
    const steps = [
      { type: "roboflow_core/dynamic_crop@v1", name: "a", images: "$inputs.image", predictions: "$steps.b.predictions" },
      { type: "roboflow_core/detection_offset@v1", name: "b", predictions: "$steps.a.predictions", offset_width: 2, offset_height: 2 },
    ];
    const [[path, message]] = (await problems(wf(steps))) as [[string, string]];
    expect(path).toMatch(/^\$\.steps\[[01]\]$/);
    expect(message).toMatch(/steps form a cycle: (a -> b -> a|b -> a -> b)/);
  });

  test("exactly one image input", async () => {
    expect(await problems(wf([detector()], [], [image, { type: "WorkflowImage", name: "other" }]))).toEqual([
      ["$.inputs[1]", "a workflow takes exactly one image input; 'image' is already one"],
    ]);
    expect((await problems(wf([], [], [])))[0]).toEqual(["$.inputs", "the workflow has no image input (an input of type WorkflowImage)"]);
  });

  test("missing models and models of the wrong kind are refused at the model_id", async () => {
    expect(await problems(wf([detector({ model_id: "yolov9-huge" })]))).toEqual([["$.steps[0].model_id", "model 'yolov9-huge' was not found (looked in the test registry)"]]);
    const [[, message]] = (await problems(wf([detector({ model_id: "classifier" })]))) as [[string, string]];
    expect(message).toContain("model 'classifier' is a classifier model");
  });

  test("wrong value types and ranges name the field", async () => {
    expect(await problems(wf([detector({ confidence: "high" })]))).toEqual([["$.steps[0].confidence", 'must be a number, got "high"']]);
    expect(await problems(wf([detector({ confidence: 1.5 })]))).toEqual([["$.steps[0].confidence", "must be at most 1 (got 1.5)"]]);
    expect(await problems(wf([detector({ max_detections: 2.5 })]))).toEqual([["$.steps[0].max_detections", "must be a whole number, got 2.5"]]);
    expect(await problems(wf([detector({ images: 42 })]))).toEqual([["$.steps[0].images", "must be a selector ($inputs.<name> or $steps.<step>.<output>), got 42"]]);
    const missing = await problems(wf([{ type: "roboflow_core/roboflow_object_detection_model@v2", name: "det", images: "$inputs.image" }]));
    expect(missing).toEqual([["$.steps[0].model_id", "required field 'model_id' is missing"]]);
  });

  test("kinds must match: a classifier cannot take detections as its images", async () => {
    const steps = [detector(), { type: "roboflow_core/roboflow_classification_model@v2", name: "cls", images: "$steps.det.predictions", model_id: "classifier" }];
    const [[path, message]] = (await problems(wf(steps))) as [[string, string]];
    expect(path).toBe("$.steps[1].images");
    expect(message).toBe("$steps.det.predictions gives object_detection_prediction, but this field takes image");
  });

  test("data of different crops cannot be mixed in one step", async () => {
    const steps = [
      detector(),
      { type: "roboflow_core/dynamic_crop@v1", name: "crop_a", images: "$inputs.image", predictions: "$steps.det.predictions" },
      { type: "roboflow_core/image_slicer@v2", name: "tiles", image: "$inputs.image" },
      { type: "roboflow_core/roboflow_object_detection_model@v2", name: "det2", images: "$steps.tiles.slices", model_id: "yolov8n-640" },
      { type: "roboflow_core/bounding_box_visualization@v1", name: "viz", image: "$steps.crop_a.crops", predictions: "$steps.det2.predictions" },
    ];
    const errors = await problems(wf(steps));
    expect(errors[0]![1]).toContain("mixes data of different crops");
  });

  test("run-time parameters are checked against the fields they feed", async () => {
    const compiled = await compile(wf([detector({ confidence: "$inputs.conf" })], [], [image, { type: "WorkflowParameter", name: "conf", default_value: 0.4 }]));
    expect(resolveParameters(compiled, {})).toEqual({ conf: 0.4 });
    expect(resolveParameters(compiled, { conf: 0.7 })).toEqual({ conf: 0.7 });
    expect(() => resolveParameters(compiled, { conf: "x" })).toThrow("Workflow parameter 'conf' (used by $.steps[0].confidence): must be a number");
    expect(() => resolveParameters(compiled, { confidence: 0.3 })).toThrow("Unknown workflow parameter 'confidence'");
  });

  test("unknown fields are warnings, not errors; several errors are reported together", async () => {
    const compiled = await compile(wf([detector({ frobnicate: true })]));
    expect(compiled.warnings).toEqual([{ path: "$.steps[0].frobnicate", message: "field 'frobnicate' is not used by roboflow_core/roboflow_object_detection_model@v2" }]);
    const many = await problems(wf([detector({ confidence: "x", iou_threshold: 7 }), { type: "nope", name: "n" }]));
    expect(many.length).toBe(3);
  });

  test("structural faults are reported with their paths", async () => {
    expect(await problems("not json object")).toEqual([["$", "a workflow definition must be a JSON object with version, inputs, steps and outputs"]]);
    expect(await problems({ version: 1, inputs: [], steps: {}, outputs: [] })).toEqual([
      ["$.version", 'must be a string such as "1.0"'],
      ["$.steps", "must be a list"],
    ]);
    const dup = await problems(wf([detector(), detector()]));
    expect(dup[0]).toEqual(["$.steps[1].name", "step name 'det' is used twice"]);
  });
});
