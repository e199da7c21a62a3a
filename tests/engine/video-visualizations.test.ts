import { afterAll, describe, expect, test } from "bun:test";
import type { Detection, Detections } from "../../src/engine/detections.ts";
import { BLOCKS } from "../../src/engine/blocks/registry.ts";
import type { Block, BlockContext, StepInputs } from "../../src/engine/blocks/types.ts";
import { lineCounterVisualizationV1, traceVisualizationV1 } from "../../src/engine/blocks/visualizations/video.ts";
import { Engine } from "../../src/engine/engine.ts";
import { WorkflowImage, type RawImage } from "../../src/engine/image/workflow-image.ts";
import type { ModelInfo } from "../../src/engine/models/types.ts";
import { directoryResolver } from "../../src/engine/models/resolvers.ts";
import type { FrameMetadata } from "../../src/engine/uql/types.ts";
import { compileWorkflow } from "../../src/engine/workflow/compile.ts";
import { tempDir } from "../helpers.ts";

/**
 * The video visualisations: traces kept per video over the last `trace_length` frames, and the line
 * counter's line and counts. Frames are generated (flat colours), detections are made up: no models.
 */
const W = 200;
const H = 100;

function flat(value: number, width = W, height = H): RawImage {
  return { data: new Uint8Array(width * height * 3).fill(value), width, height, channels: 3 };
}

const meta = (video: string, frame: number): FrameMetadata => ({ video_identifier: video, frame_number: frame, frame_timestamp: new Date(frame * 100), fps: 10 });

function frameImage(video: string, frame: number, background = 0): WorkflowImage {
  return WorkflowImage.fromRaw(flat(background), `${video}-${frame}`, meta(video, frame));
}

/** A 10×10 box centred on (cx, cy), tracked as `trackerId` (none when undefined). */
function box(cx: number, cy: number, trackerId: number | undefined, image: WorkflowImage): Detection {
  return {
    x1: cx - 5,
    y1: cy - 5,
    x2: cx + 5,
    y2: cy + 5,
    confidence: 0.9,
    classId: 0,
    className: "thing",
    detectionId: `d-${cx}-${cy}`,
    parentId: image.id,
    ...(trackerId !== undefined ? { trackerId } : {}),
  };
}

const detections = (image: WorkflowImage, items: Detection[]): Detections => ({ kind: "detections", image, items });

/** A BlockContext whose frame facts come from the image and whose state is kept per video, as the executor does. */
function fakeContext(states: Map<string, unknown>, image: WorkflowImage): BlockContext {
  const frame = image.videoMetadata!;
  return {
    runtime: undefined as never,
    model: () => Promise.reject(new Error("no models here")),
    ocr: () => Promise.reject(new Error("no OCR here")),
    newId: () => crypto.randomUUID(),
    step: "trace",
    frame: () => frame,
    videoState: <T>(create: () => T): T => {
      if (!states.has(frame.video_identifier)) states.set(frame.video_identifier, create());
      return states.get(frame.video_identifier) as T;
    },
  };
}

async function pixel(image: WorkflowImage, x: number, y: number): Promise<[number, number, number]> {
  const raw = await image.rgb();
  const i = (y * raw.width + x) * 3;
  return [raw.data[i]!, raw.data[i + 1]!, raw.data[i + 2]!];
}

const isBackground = (p: number[], value = 0) => p.every((c) => c === value);

/** The object's x on frame n (1-based): 20, 40, 60, ... along y = 50. */
const xOf = (frame: number) => 20 * frame;

/** Runs the trace block over frames `from..to` of a video with one object moving right; returns the last output. */
async function trace(states: Map<string, unknown>, video: string, from: number, to: number, extra: StepInputs = {}): Promise<WorkflowImage> {
  let out: WorkflowImage | undefined;
  for (let n = from; n <= to; n++) {
    const image = frameImage(video, n);
    const inputs = { image, predictions: detections(image, [box(xOf(n), 50, 7, image)]), thickness: 3, ...extra };
    out = (await traceVisualizationV1.run(inputs, fakeContext(states, image))).image as WorkflowImage;
  }
  return out!;
}

describe("trace_visualization@v1", () => {
  test("draws each tracked object's path over the frames seen; far pixels stay background", async () => {
    const out = await trace(new Map(), "cam-1", 1, 6);
    for (const x of [30, 50, 70, 90, 110]) expect(isBackground(await pixel(out, x, 50))).toBe(false);
    expect(isBackground(await pixel(out, 150, 50))).toBe(true);
    expect(isBackground(await pixel(out, 50, 90))).toBe(true);
    expect(isBackground(await pixel(out, 190, 5))).toBe(true);
    // The colour is the DEFAULT palette's colour of class 0 (the reference's default color_axis is CLASS).
    expect(await pixel(out, 50, 50)).toEqual([0xa3, 0x51, 0xfb]);
  });

  test("a first frame has no trace (one point is not a line)", async () => {
    const out = await trace(new Map(), "cam-1", 1, 1);
    const raw = await out.rgb();
    expect(raw.data.every((v) => v === 0)).toBe(true);
  });

  test("traces are per video: another video_identifier starts empty, and the first keeps its own", async () => {
    const states = new Map<string, unknown>();
    await trace(states, "cam-a", 1, 6);
    // Same object id, same place, other video: nothing behind it.
    const other = await trace(states, "cam-b", 6, 6);
    expect((await other.rgb()).data.every((v) => v === 0)).toBe(true);
    // cam-a goes on with its history: the segment from frame 1 is still there.
    const more = await trace(states, "cam-a", 7, 7);
    expect(isBackground(await pixel(more, 30, 50))).toBe(false);
    expect(isBackground(await pixel(more, 130, 50))).toBe(false);
  });

  test("trace_length bounds the history to the last frames", async () => {
    const short = await trace(new Map(), "cam-1", 1, 6, { trace_length: 3 });
    // Frames 4..6 are kept: x from 80 to 120.
    expect(isBackground(await pixel(short, 50, 50))).toBe(true);
    expect(isBackground(await pixel(short, 70, 50))).toBe(true);
    expect(isBackground(await pixel(short, 90, 50))).toBe(false);
    expect(isBackground(await pixel(short, 110, 50))).toBe(false);
    const long = await trace(new Map(), "cam-1", 1, 6, { trace_length: 30 });
    expect(isBackground(await pixel(long, 50, 50))).toBe(false);
  });

  test("only tracker ids of the current frame are drawn; detections without one are skipped", async () => {
    const states = new Map<string, unknown>();
    await trace(states, "cam-1", 1, 4);
    // Frame 5: object 7 is gone, an untracked detection is present.
    const image = frameImage("cam-1", 5);
    const out = (await traceVisualizationV1.run({ image, predictions: detections(image, [box(100, 20, undefined, image)]), thickness: 3 }, fakeContext(states, image)))
      .image as WorkflowImage;
    expect((await out.rgb()).data.every((v) => v === 0)).toBe(true);
  });

  test("the anchor follows `position`, the colour follows color_axis TRACK", async () => {
    const out = await trace(new Map(), "cam-1", 1, 4, { position: "TOP_CENTER", color_axis: "TRACK" });
    // Box tops are at y = 45; tracker 7 takes the DEFAULT palette's 8th colour.
    expect(await pixel(out, 50, 45)).toEqual([0x94, 0xcf, 0x1a]);
    expect(isBackground(await pixel(out, 50, 50))).toBe(true);
  });
});

describe("line_counter_visualization@v1", () => {
  const GREY = 100;
  async function draw(extra: StepInputs = {}): Promise<WorkflowImage> {
    const image = WorkflowImage.fromRaw(flat(GREY, 300, 120), "frame", meta("cam-1", 1));
    const inputs = { image, zone: [[150, 60], [290, 60]], count_in: 3, count_out: 5, ...extra };
    return (await lineCounterVisualizationV1.run(inputs, fakeContext(new Map(), image))).image as WorkflowImage;
  }

  test("adds the line with its opacity (image + 0.3 × #5bb573) and leaves the rest", async () => {
    const out = await draw();
    for (const x of [240, 260, 280]) {
      const p = await pixel(out, x, 60);
      [0x5b, 0xb5, 0x73].forEach((c, i) => expect(Math.abs(p[i]! - (GREY + 0.3 * c))).toBeLessThanOrEqual(2));
    }
    expect(isBackground(await pixel(out, 260, 100), GREY)).toBe(true);
    expect(isBackground(await pixel(out, 20, 10), GREY)).toBe(true);
  });

  test("writes the counts on a white box centred on the line's first point", async () => {
    const out = await draw();
    const raw = await out.rgb();
    let white = 0;
    let dark = 0;
    // "in: 3, out: 5" at 20 px: about 156 × 24 px around (150, 60).
    for (let y = 50; y < 70; y++)
      for (let x = 80; x < 220; x++) {
        const i = (y * raw.width + x) * 3;
        if (raw.data[i]! > 250 && raw.data[i + 1]! > 250 && raw.data[i + 2]! > 250) white++;
        if (raw.data[i]! < 60 && raw.data[i + 1]! < 60 && raw.data[i + 2]! < 60) dark++;
      }
    expect(white).toBeGreaterThan(500);
    expect(dark).toBeGreaterThan(30);
    // Other counts, other text.
    const other = await (await draw({ count_in: 12, count_out: 40 })).rgb();
    expect(Buffer.from(other.data).equals(Buffer.from(raw.data))).toBe(false);
  });

  test("colour, thickness and opacity are honoured; a bad zone names the step", async () => {
    const out = await draw({ color: "rgb(255, 0, 0)", opacity: 1, thickness: 6 });
    expect(await pixel(out, 260, 58)).toEqual([255, GREY, GREY]);
    expect(isBackground(await pixel(out, 260, 52), GREY)).toBe(true);
    const image = WorkflowImage.fromRaw(flat(0), "frame");
    const ctx = { ...fakeContext(new Map(), frameImage("x", 1)), step: "lines" };
    await expect(lineCounterVisualizationV1.run({ image, zone: [[0, 0]] }, ctx)).rejects.toThrow("Step 'lines': 'zone' must be a line");
  });
});

describe("definitions", () => {
  const MODELS: Record<string, Pick<ModelInfo, "family" | "task">> = { "yolov8n-640": { family: "yolov8", task: "detection" } };
  const resolveModel = async (id: string) => MODELS[id] as ModelInfo | undefined;
  const compile = (def: unknown, blocks: readonly Block[] = BLOCKS) => compileWorkflow(def, { blocks, resolveModel, modelSource: "the test registry" });

  /** The reference's field names, as its documentation writes these steps. */
  const definition = (prefix: string) => ({
    version: "1.0",
    inputs: [
      { type: "WorkflowImage", name: "image" },
      { type: "WorkflowParameter", name: "line", default_value: [[0, 50], [500, 50]] },
      { type: "WorkflowParameter", name: "count_in", kind: ["integer"], default_value: 0 },
      { type: "WorkflowParameter", name: "count_out", kind: ["integer"], default_value: 0 },
    ],
    steps: [
      { type: "roboflow_core/roboflow_object_detection_model@v2", name: "detector", images: "$inputs.image", model_id: "yolov8n-640" },
      {
        type: `${prefix}trace_visualization@v1`,
        name: "trace_visualization",
        image: "$inputs.image",
        predictions: "$steps.detector.predictions",
        copy_image: true,
        color_palette: "DEFAULT",
        palette_size: 10,
        custom_colors: [],
        color_axis: "CLASS",
        position: "CENTER",
        trace_length: 30,
        thickness: 1,
      },
      {
        type: `${prefix}line_counter_visualization@v1`,
        name: "line_counter_visualization",
        image: "$steps.trace_visualization.image",
        zone: "$inputs.line",
        color: "#5bb573",
        thickness: 2,
        text_thickness: 1,
        text_scale: 1.0,
        count_in: "$inputs.count_in",
        count_out: "$inputs.count_out",
        opacity: 0.3,
        copy_image: true,
      },
      {
        type: `${prefix}line_counter_visualization@v1`,
        name: "static_line",
        image: "$inputs.image",
        zone: [[0, 50], [500, 50]],
      },
    ],
    outputs: [
      { type: "JsonField", name: "trace", selector: "$steps.trace_visualization.image" },
      { type: "JsonField", name: "line", selector: "$steps.line_counter_visualization.image" },
      { type: "JsonField", name: "static_line", selector: "$steps.static_line.image" },
    ],
  });

  test("compile unchanged, with and without the roboflow_core/ prefix, without warnings", async () => {
    for (const prefix of ["roboflow_core/", ""]) {
      const compiled = await compile(definition(prefix));
      expect(compiled.warnings).toEqual([]);
      expect(compiled.steps.map((s) => s.name)).toEqual(["detector", "trace_visualization", "line_counter_visualization", "static_line"]);
    }
  });

  test("the reference's tracking chain compiles: byte_tracker → line_counter → both visualisations", async () => {
    const compiled = await compile({
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }],
      steps: [
        { type: "roboflow_core/roboflow_object_detection_model@v2", name: "detector", images: "$inputs.image", model_id: "yolov8n-640" },
        { type: "roboflow_core/byte_tracker@v3", name: "byte_tracker", image: "$inputs.image", detections: "$steps.detector.predictions" },
        { type: "roboflow_core/line_counter@v2", name: "line_counter", image: "$inputs.image", detections: "$steps.byte_tracker.tracked_detections", line_segment: [[0, 50], [500, 50]] },
        { type: "roboflow_core/trace_visualization@v1", name: "trace_visualization", image: "$inputs.image", predictions: "$steps.byte_tracker.tracked_detections" },
        {
          type: "roboflow_core/line_counter_visualization@v1",
          name: "line_counter_visualization",
          image: "$steps.trace_visualization.image",
          zone: [[0, 50], [500, 50]],
          count_in: "$steps.line_counter.count_in",
          count_out: "$steps.line_counter.count_out",
        },
      ],
      outputs: [{ type: "JsonField", name: "image", selector: "$steps.line_counter_visualization.image" }],
    });
    expect(compiled.warnings).toEqual([]);
  });

  test("out-of-range values are refused at their field", async () => {
    const def = definition("roboflow_core/");
    (def.steps[1] as Record<string, unknown>).trace_length = 0;
    (def.steps[1] as Record<string, unknown>).position = "MIDDLE";
    const err = await compile(def).then(
      () => undefined,
      (e) => e as { details?: { errors: { path: string }[] } },
    );
    const atTrace = err?.details?.errors.map((e) => e.path).filter((path) => path.startsWith("$.steps[1]"));
    expect(atTrace?.sort()).toEqual(["$.steps[1].position", "$.steps[1].trace_length"]);
  });
});

describe("through the engine", () => {
  /** A stand-in tracker: one object, id 1, moving right by 20 px per frame number. */
  const movingObject: Block = {
    manifest: {
      types: ["test_moving_object@v1"],
      description: "test",
      inputs: { image: { kinds: ["image"], static: "none", required: true, batch: true } },
      outputs: { predictions: { kinds: ["object_detection_prediction"] } },
    },
    async run(inputs, ctx) {
      const image = inputs.image as WorkflowImage;
      return { predictions: detections(image, [box(xOf(Math.max(1, ctx.frame().frame_number)), 50, 1, image)]) };
    },
  };
  const engine = new Engine(directoryResolver(tempDir()), { blocks: [...BLOCKS, movingObject] });
  afterAll(() => engine.release());
  const def = {
    version: "1.0",
    inputs: [{ type: "WorkflowImage", name: "image" }],
    steps: [
      { type: "test_moving_object@v1", name: "tracker", image: "$inputs.image" },
      { type: "roboflow_core/trace_visualization@v1", name: "trace", image: "$inputs.image", predictions: "$steps.tracker.predictions", thickness: 3 },
    ],
    outputs: [{ type: "JsonField", name: "image", selector: "$steps.trace.image" }],
  };

  test("the executor keeps the trace per video until the video ends", async () => {
    const wf = await engine.compile(def);
    const runFrame = async (video: string, n: number) => (await engine.run(wf, frameImage(video, n), {})).image as WorkflowImage;
    let out: WorkflowImage | undefined;
    for (let n = 1; n <= 5; n++) out = await runFrame("v1", n);
    expect(isBackground(await pixel(out!, 50, 50))).toBe(false);
    expect(isBackground(await pixel(out!, 150, 50))).toBe(true);
    // Another video at frame 5: no history.
    expect((await (await runFrame("v2", 5)).rgb()).data.every((v) => v === 0)).toBe(true);
    // After endVideo the same identifier starts again.
    engine.endVideo("v1");
    expect((await (await runFrame("v1", 6)).rgb()).data.every((v) => v === 0)).toBe(true);
    // A still image is a video of one frame: never a trace.
    const still = WorkflowImage.fromRaw(flat(0), "still");
    expect((await ((await engine.run(wf, still, {})).image as WorkflowImage).rgb()).data.every((v) => v === 0)).toBe(true);
  });
});
