import { afterAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { classifierModel } from "../../scripts/lib/onnx-builder.ts";
import { AppError } from "../../src/core/errors.ts";
import { Engine } from "../../src/engine/engine.ts";
import { directoryResolver } from "../../src/engine/models/resolvers.ts";
import { serializeOutputs } from "../../src/engine/workflow/serialize.ts";
import { ROOT, shared, sharedModelsDir } from "../helpers.ts";

/**
 * Definitions of the shapes users write for the reference — each logic block alone and in the usual
 * combinations — run on real photos with the real models; the assertions are on the values.
 */
const modelsDir = sharedModelsDir();
// A "colour" classifier: mostly-red crops are "warm", mostly-blue ones "cool", the rest "neutral".
writeFileSync(join(modelsDir, "classifier.onnx"), classifierModel({ weights: [[6, -3, 0], [0, 0, 1], [-3, 6, 0]], height: 32, width: 32 }));
writeFileSync(join(modelsDir, "classifier.txt"), "warm\ncool\nneutral");
const engine = new Engine(directoryResolver(modelsDir), { intraOpNumThreads: 1 });
afterAll(() => engine.release());

const example = (file: string) => JSON.parse(readFileSync(join(ROOT, "examples/workflows", file), "utf8"));
const photo = (file: string) => readFileSync(shared(`media/${file}`));

async function run(definition: unknown, bytes: Uint8Array, params: Record<string, unknown> = {}) {
  const wf = await engine.compile(definition);
  const raw = await engine.run(wf, await engine.image(bytes, "input.jpg"), engine.parameters(wf, params));
  return (await serializeOutputs(wf, raw, { image: async () => null })) as Record<string, any>;
}

const classes = (out: any) => out.predictions.map((p: any) => p.class).sort();
const filterStep = (statement: unknown, extra: Record<string, unknown> = {}) => ({
  type: "roboflow_core/detections_filter@v1",
  name: "f",
  predictions: "$steps.det.predictions",
  operations: [{ type: "DetectionsFilter", filter_operation: { type: "StatementGroup", operator: "and", statements: [statement] } }],
  ...extra,
});
const prop = (name: string) => ({ type: "DynamicOperand", operand_name: "_", operations: [{ type: "ExtractDetectionProperty", property_name: name }] });
const wf = (steps: unknown[], outputs: Record<string, string>, inputs: unknown[] = []) => ({
  version: "1.0",
  inputs: [{ type: "WorkflowImage", name: "image" }, ...inputs],
  steps: [{ type: "roboflow_core/roboflow_object_detection_model@v2", name: "det", images: "$inputs.image", model_id: "yolov8n-640" }, ...steps],
  outputs: Object.entries(outputs).map(([name, selector]) => ({ type: "JsonField", name, selector })),
});

describe("logic blocks on real detections (messi5.jpg: 3 persons and a ball with yolov8n-640)", () => {
  test("detect → filter by class and size → count", async () => {
    const out = await run(example("filter-and-count.json"), photo("messi5.jpg"));
    expect(classes(out.kept)).toEqual(["person"]);
    expect(out.count).toBe(1);
    const all = await run(example("filter-and-count.json"), photo("messi5.jpg"), { classes: ["person", "sports ball"], min_area: 100 });
    expect(all.count).toBe(4);
  });

  test("filters by confidence, by name prefix, in a zone; transformation sorts and renames", async () => {
    const confident = await run(wf([filterStep({ type: "BinaryStatement", left_operand: prop("confidence"), comparator: { type: "(Number) >" }, right_operand: { type: "StaticOperand", value: 0.8 } })], { out: "$steps.f.predictions" }), photo("messi5.jpg"));
    expect(classes(confident.out)).toEqual(["person", "sports ball"]);
    const sports = await run(wf([filterStep({ type: "BinaryStatement", left_operand: prop("class_name"), comparator: { type: "(String) startsWith" }, right_operand: { type: "StaticOperand", value: "sport" } })], { out: "$steps.f.predictions" }), photo("messi5.jpg"));
    expect(classes(sports.out)).toEqual(["sports ball"]);
    const zone = [[300, 250], [548, 250], [548, 342], [300, 342]];
    const inZone = await run(wf([filterStep({ type: "BinaryStatement", left_operand: { type: "DynamicOperand", operand_name: "_" }, comparator: { type: "(Detection) in zone" }, right_operand: { type: "StaticOperand", value: zone } })], { out: "$steps.f.predictions" }), photo("messi5.jpg"));
    expect(classes(inZone.out)).toEqual(["sports ball"]);
    const transform = {
      type: "roboflow_core/detections_transformation@v1",
      name: "t",
      predictions: "$steps.det.predictions",
      operations: [
        { type: "SortDetections", mode: "confidence", ascending: false },
        { type: "DetectionsRename", class_map: { person: "player", "sports ball": "ball" }, strict: false },
      ],
    };
    const renamed = await run(wf([transform], { out: "$steps.t.predictions" }), photo("messi5.jpg"));
    expect(renamed.out.predictions.map((p: any) => p.class)).toEqual(["ball", "player", "player", "player"]);
  });

  test("per-class thresholds", async () => {
    const step = { type: "roboflow_core/per_class_confidence_filter@v1", name: "p", predictions: "$steps.det.predictions", class_thresholds: { person: 0.85 }, default_threshold: 0.99 };
    const out = await run(wf([step], { out: "$steps.p.predictions" }), photo("messi5.jpg"));
    expect(classes(out.out)).toEqual(["person"]);
  });

  test("detect → crop → classify → replace classes: each box takes its crop's class", async () => {
    const out = await run(example("two-stage-relabel.json"), photo("messi5.jpg"));
    const preds = out.predictions.predictions as any[];
    expect(preds.length).toBe(4);
    for (const p of preds) expect(["warm", "cool", "neutral"]).toContain(p.class);
    const ball = preds.find((p) => Math.abs(p.x - 363) < 5);
    const player = preds.find((p) => p.width > 300);
    // The yellow ball is warm (red channel high, blue low); the player in red and blue is too: the two differ
    // from "cool", which needs a mostly blue crop.
    expect(ball.class).toBe("warm");
    expect(player.class).not.toBe("cool");
  });

  test("two detectors → consensus keeps what both find", async () => {
    const out = await run(example("consensus.json"), photo("messi5.jpg"));
    const preds = out.predictions.predictions as any[];
    expect(preds.map((p) => p.class).sort()).toEqual(["person", "person", "sports ball"]);
    expect(out.person_present).toBe(true);
    expect(Object.keys(out.confidence).sort()).toEqual(["person", "sports ball"]);
    const ball = preds.find((p) => p.class === "sports ball");
    expect(ball.x).toBeGreaterThan(355);
    expect(ball.x).toBeLessThan(370);
  });

  test("condition on the detection count: the second model runs only when it holds", async () => {
    const crowded = await run(example("conditional-second-stage.json"), photo("basketball1.png"));
    expect(crowded.second_stage.predictions.length).toBeGreaterThan(0);
    expect(crowded.predictions).toEqual(crowded.second_stage);
    const quiet = await run(example("conditional-second-stage.json"), photo("basketball1.png"), { min_people: 5 });
    expect(quiet.second_stage).toBeNull();
    expect(quiet.predictions.predictions.length).toBe(2);
  });

  test("expression: pass/fail from OCR of a cropped line", async () => {
    const def = {
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }],
      steps: [
        { type: "roboflow_core/absolute_static_crop@v1", name: "line", images: "$inputs.image", x_center: 278, y_center: 25, width: 556, height: 20 },
        { type: "roboflow_core/ocr_model@v1", name: "ocr", images: "$steps.line.crops" },
        {
          type: "roboflow_core/expression@v1",
          name: "verdict",
          data: { text: "$steps.ocr.result" },
          switch: {
            type: "CasesDefinition",
            cases: [
              {
                type: "CaseDefinition",
                condition: { type: "StatementGroup", statements: [{ type: "BinaryStatement", left_operand: { type: "DynamicOperand", operand_name: "text" }, comparator: { type: "(String) startsWith" }, right_operand: { type: "StaticOperand", value: "technical" } }] },
                result: { type: "StaticCaseResult", value: "PASS" },
              },
            ],
            default: { type: "StaticCaseResult", value: "FAIL" },
          },
        },
      ],
      outputs: [{ type: "JsonField", name: "text", selector: "$steps.ocr.result" }, { type: "JsonField", name: "verdict", selector: "$steps.verdict.output" }],
    };
    const out = await run(def, photo("imageTextN.png"));
    expect(out.text).toBe("technical details are too complex to cover in the book itself.");
    expect(out.verdict).toBe("PASS");
  });

  test("dimension collapse gathers crop results; first non-empty picks a branch that ran", async () => {
    const def = wf(
      [
        { type: "roboflow_core/dynamic_crop@v1", name: "crops", images: "$inputs.image", predictions: "$steps.det.predictions" },
        { type: "roboflow_core/property_definition@v1", name: "widths", data: "$steps.crops.crops", operations: [{ type: "ExtractImageProperty", property_name: "width" }] },
        { type: "roboflow_core/dimension_collapse@v1", name: "all", data: "$steps.widths.output" },
      ],
      { widths: "$steps.all.output" },
    );
    const out = await run(def, photo("messi5.jpg"));
    expect(out.widths.length).toBe(4);
    expect(Math.max(...out.widths)).toBeGreaterThan(380);
  });
});

describe("bad logic definitions are refused with the JSON path, or fail one image with the step's name", () => {
  const problems = async (def: unknown) => {
    try {
      await engine.compile(def);
    } catch (e) {
      return ((e as AppError).details!.errors as { path: string; message: string }[]).map((x) => `${x.path}: ${x.message}`);
    }
    throw new Error("compiled, but should not");
  };

  test("an unknown operation or operator names itself and its path", async () => {
    const unknownOp = wf([{ ...filterStep({}), operations: [{ type: "Teleport" }] }], {});
    expect((await problems(unknownOp))[0]).toMatch(/^\$\.steps\[1\]\.operations\[0\]\.type: .*Teleport/);
    const unknownOperator = wf([filterStep({ type: "BinaryStatement", left_operand: prop("confidence"), comparator: { type: "(Number) roughly" }, right_operand: { type: "StaticOperand", value: 1 } })], {});
    expect((await problems(unknownOperator))[0]).toMatch(/^\$\.steps\[1\]\.operations\[0\]\.filter_operation\.statements\[0\]\.comparator.*roughly/);
  });

  test("continue_if naming an unknown step; very large or deep operation lists", async () => {
    const cont = wf([{ type: "roboflow_core/continue_if@v1", name: "c", condition_statement: { type: "StatementGroup", statements: [{ type: "UnaryStatement", operand: { type: "StaticOperand", value: true }, operator: { type: "(Boolean) is True" } }] }, next_steps: ["$steps.ghost"] }], {});
    expect(await problems(cont)).toContain("$.steps[1].next_steps[0]: names an unknown step 'ghost'");
    const many = wf([{ type: "roboflow_core/property_definition@v1", name: "p", data: "$steps.det.predictions", operations: Array.from({ length: 5000 }, () => ({ type: "SequenceLength" })) }], {});
    expect((await problems(many))[0]).toMatch(/^\$\.steps\[1\]\.operations/);
    let deep: any = { type: "StaticOperand", value: 1 };
    for (let i = 0; i < 40; i++) deep = { type: "StatementGroup", statements: [{ type: "BinaryStatement", left_operand: deep, comparator: { type: "==" }, right_operand: { type: "StaticOperand", value: 1 } }] };
    const deepDef = wf([{ type: "roboflow_core/continue_if@v1", name: "c", condition_statement: deep, next_steps: ["$steps.det"] }], {});
    expect((await problems(deepDef)).length).toBeGreaterThan(0);
  });

  test("an operation on the wrong kind of data fails that image with the step's name, never crashes", async () => {
    const def = wf([{ type: "roboflow_core/property_definition@v1", name: "upper", data: "$steps.det.predictions", operations: [{ type: "StringToUpperCase" }] }], { out: "$steps.upper.output" });
    await expect(run(def, photo("messi5.jpg"))).rejects.toThrow("Step 'upper'");
    const ok = await run(wf([], { out: "$steps.det.predictions" }), photo("messi5.jpg"));
    expect(ok.out.predictions.length).toBe(4);
  });

  test("a condition comparing incompatible types fails that image with the step's name", async () => {
    const cond = {
      type: "StatementGroup",
      statements: [{ type: "BinaryStatement", left_operand: { type: "DynamicOperand", operand_name: "dets", operations: [{ type: "DetectionsPropertyExtract", property_name: "class_name" }] }, comparator: { type: "(Number) >" }, right_operand: { type: "StaticOperand", value: 3 } }],
    };
    const def = wf([{ type: "roboflow_core/continue_if@v1", name: "gate", condition_statement: cond, evaluation_parameters: { dets: "$steps.det.predictions" }, next_steps: ["$steps.det2"] }, { type: "roboflow_core/roboflow_object_detection_model@v2", name: "det2", images: "$inputs.image", model_id: "yolov8n-320" }], { out: "$steps.det2.predictions" });
    await expect(run(def, photo("messi5.jpg"))).rejects.toThrow(/Step 'gate'.*\(Number\) >/);
  });

  test("a selector to a step that did not run gives null, not an error", async () => {
    const def = example("conditional-second-stage.json");
    def.steps.push({ type: "roboflow_core/property_definition@v1", name: "n", data: "$steps.accurate.predictions", operations: [{ type: "SequenceLength" }] });
    def.outputs.push({ type: "JsonField", name: "n", selector: "$steps.n.output" });
    const out = await run(def, photo("basketball1.png"), { min_people: 9 });
    expect(out.n).toBeNull();
  });
});

test("the logic examples compile", async () => {
  for (const f of ["filter-and-count.json", "two-stage-relabel.json", "consensus.json", "conditional-second-stage.json"]) await engine.compile(example(f));
  expect(await sharp(photo("messi5.jpg")).metadata()).toMatchObject({ width: 548 });
});
