import { afterAll, describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import { BLOCKS } from "../../src/engine/blocks/registry.ts";
import { rootRef, type Detections } from "../../src/engine/detections.ts";
import { Engine } from "../../src/engine/engine.ts";
import { WorkflowImage } from "../../src/engine/image/workflow-image.ts";
import type { ModelInfo } from "../../src/engine/models/types.ts";
import { compileWorkflow } from "../../src/engine/workflow/compile.ts";
import type { Nested } from "../../src/engine/workflow/nested.ts";
import { serializeOutputs } from "../../src/engine/workflow/serialize.ts";

/**
 * The video analytics blocks (byte_tracker, line_counter, time_in_zone) run through the real engine on
 * synthetic video frames: blank images carrying frame metadata, with the detections given as a workflow
 * input, so the boxes (and their motion) are known exactly and no model is needed.
 */

const W = 640;
const H = 480;
const pixels = { data: new Uint8Array(W * H * 3), width: W, height: H, channels: 3 as const };
const engine = new Engine({ resolve: async () => undefined, describe: () => "no models (video block tests)" });
afterAll(() => engine.release());

interface Obj {
  cx: number;
  cy: number;
  size?: number;
  score?: number;
  /** Given straight to blocks that need tracked detections. */
  trackerId?: number;
  /** Names the detection, to follow an object through a tracker. */
  name?: string;
}

interface FrameOptions {
  fps?: number;
  fromFile?: boolean;
  /** Milliseconds between frames' timestamps (streams). */
  stepMs?: number;
}

const T0 = Date.UTC(2024, 0, 1);

function frameImage(video: string, n: number, o: FrameOptions = {}): WorkflowImage {
  const fps = o.fps ?? 30;
  return WorkflowImage.fromRaw(pixels, `${video}/frame-${n}`, {
    video_identifier: video,
    frame_number: n,
    frame_timestamp: new Date(T0 + n * (o.stepMs ?? 1000 / fps)),
    fps,
    comes_from_video_file: o.fromFile ?? true,
  });
}

function detectionsOn(image: WorkflowImage, objects: Obj[]): Detections {
  return {
    kind: "detections",
    image: rootRef(image.id, W, H),
    items: objects.map((o, i) => {
      const half = (o.size ?? 40) / 2;
      return {
        x1: o.cx - half,
        y1: o.cy - half,
        x2: o.cx + half,
        y2: o.cy + half,
        confidence: o.score ?? 0.9,
        classId: 0,
        className: "thing",
        detectionId: o.name ?? `det-${i}`,
        parentId: image.id,
        ...(o.trackerId !== undefined ? { trackerId: o.trackerId } : {}),
      };
    }),
  };
}

const detectionsInput = { type: "WorkflowParameter", name: "detections", kind: ["object_detection_prediction"] };
const inputs = [{ type: "WorkflowImage", name: "image" }, { type: "WorkflowVideoMetadata", name: "video_metadata" }, detectionsInput];
const workflow = (steps: unknown[], outputs: Record<string, string>) => ({
  version: "1.0",
  inputs,
  steps,
  outputs: Object.entries(outputs).map(([name, selector]) => ({ type: "JsonField", name, selector })),
});

type Outputs = Record<string, Nested>;

/** Runs a compiled workflow over the frames of one video (frame numbers from 1, or `firstFrame`). */
async function runVideo(definition: unknown, video: string, frames: Obj[][], o: FrameOptions & { firstFrame?: number } = {}): Promise<Outputs[]> {
  const wf = await engine.compile(definition);
  const results: Outputs[] = [];
  for (let i = 0; i < frames.length; i++) {
    const image = frameImage(video, (o.firstFrame ?? 1) + i, o);
    results.push(await engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, frames[i]!) })));
  }
  return results;
}

const items = (value: Nested) => (value as Detections).items;
/** Per frame: detection name → tracker id. */
const idsByName = (results: Outputs[], output = "tracked") => results.map((r) => Object.fromEntries(items(r[output]!).map((d) => [d.detectionId, d.trackerId])));

const tracker = (version: "v1" | "v2" | "v3", settings: Record<string, unknown> = {}) => ({
  type: `roboflow_core/byte_tracker@${version}`,
  name: "tracker",
  ...(version === "v1" ? { metadata: "$inputs.video_metadata" } : { image: "$inputs.image" }),
  detections: "$inputs.detections",
  ...settings,
});
const trackerOnly = (version: "v1" | "v2" | "v3", settings: Record<string, unknown> = {}) =>
  workflow([tracker(version, settings)], { tracked: "$steps.tracker.tracked_detections" });

/** An object moving steadily: its position on frame index i (0-based). */
const moving = (name: string, x0: number, y0: number, vx: number, vy = 0) => (i: number): Obj => ({ name, cx: x0 + vx * i, cy: y0 + vy * i });
const frames = (n: number, ...objects: ((i: number) => Obj | undefined)[]) =>
  Array.from({ length: n }, (_, i) => objects.map((o) => o(i)).filter((o): o is Obj => o !== undefined));

describe("byte_tracker", () => {
  test("a box moving steadily across 30 frames keeps one tracker id, from the first frame", async () => {
    for (const version of ["v1", "v2", "v3"] as const) {
      const results = await runVideo(trackerOnly(version), `steady-${version}`, frames(30, moving("a", 60, 200, 15)));
      expect(idsByName(results)).toEqual(Array.from({ length: 30 }, () => ({ a: 1 })));
      // The output is the input detection (box, class, confidence, id) with its tracker id.
      const first = items(results[0]!.tracked!)[0]!;
      expect(first).toMatchObject({ x1: 40, y1: 180, x2: 80, y2: 220, confidence: 0.9, className: "thing", detectionId: "a", trackerId: 1 });
    }
  });

  test("two objects crossing each other keep their own ids", async () => {
    const results = await runVideo(trackerOnly("v2"), "crossing", frames(50, moving("right", 100, 200, 8), moving("left", 500, 215, -8)));
    const ids = idsByName(results);
    expect(ids[0]).toEqual({ right: 1, left: 2 });
    // They overlap around frame 25 (IoU ≈ 0.45), then part again.
    ids.forEach((frame) => expect(frame).toEqual({ right: 1, left: 2 }));
  });

  test("a track lost for fewer frames than the buffer keeps its id; the buffer scales with fps", async () => {
    // Missing on frames 11..18 (8 frames); buffer 10 frames at 30 fps, 5 frames at 15 fps.
    const gap = (i: number) => (i >= 10 && i < 18 ? undefined : moving("a", 60, 200, 6)(i));
    const definition = trackerOnly("v2", { lost_track_buffer: 10 });

    const kept = idsByName(await runVideo(definition, "gap-30fps", frames(25, gap), { fps: 30 }));
    expect(kept.slice(0, 10)).toEqual(Array.from({ length: 10 }, () => ({ a: 1 })));
    expect(kept.slice(10, 18)).toEqual(Array.from({ length: 8 }, () => ({})));
    expect(kept.slice(18)).toEqual(Array.from({ length: 7 }, () => ({ a: 1 })));

    const lost = idsByName(await runVideo(definition, "gap-15fps", frames(25, gap), { fps: 15 }));
    expect(lost[9]).toEqual({ a: 1 });
    // A new track: unconfirmed on its first frame (not the tracker's first), then id 2.
    expect(lost[18]).toEqual({});
    expect(lost.slice(19)).toEqual(Array.from({ length: 6 }, () => ({ a: 2 })));
  });

  test("minimum_consecutive_frames hides a new track until it has been matched that many times", async () => {
    const hidden = idsByName(await runVideo(trackerOnly("v2", { minimum_consecutive_frames: 3 }), "min-3", frames(8, moving("a", 60, 200, 5))));
    // As supervision: created on frame 1, matched on frames 2, 3, 4; the id comes on the 3rd match.
    expect(hidden).toEqual([{}, {}, {}, { a: 1 }, { a: 1 }, { a: 1 }, { a: 1 }, { a: 1 }]);
  });

  test("detections below the activation threshold start no track; weak detections keep a track alive", async () => {
    const definition = trackerOnly("v2");
    // An object that is only ever weakly detected is never tracked.
    const weakOnly = idsByName(await runVideo(definition, "weak", frames(5, (i) => ({ ...moving("a", 60, 200, 5)(i), score: 0.2 }))));
    expect(weakOnly).toEqual([{}, {}, {}, {}, {}]);
    // A tracked object whose score drops to 0.2 is still matched (second association) and keeps its id.
    const dips = (i: number) => ({ ...moving("a", 60, 200, 5)(i), score: i >= 3 && i < 6 ? 0.2 : 0.9 });
    expect(idsByName(await runVideo(definition, "dips", frames(8, dips)))).toEqual(Array.from({ length: 8 }, () => ({ a: 1 })));
  });

  test("state is kept per video: interleaved videos track apart, and endVideo starts over", async () => {
    const wf = await engine.compile(trackerOnly("v2"));
    const ids: Record<string, (number | undefined)[]> = { "cam-a": [], "cam-b": [] };
    for (let n = 1; n <= 10; n++) {
      for (const [video, y] of [["cam-a", 100], ["cam-b", 300]] as const) {
        const image = frameImage(video, n);
        // cam-b's object appears on frame 4 only, so its ids would differ if the state were shared.
        const objects = video === "cam-b" && n < 4 ? [] : [{ name: "o", cx: 50 + 10 * n, cy: y }];
        const out = await engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, objects) }));
        ids[video]!.push(items(out.tracked!)[0]?.trackerId);
      }
    }
    expect(ids["cam-a"]).toEqual(Array.from({ length: 10 }, () => 1));
    // cam-b's tracker sees the object on its 4th frame: unconfirmed there, id 1 from the next frame.
    expect(ids["cam-b"]).toEqual([undefined, undefined, undefined, undefined, 1, 1, 1, 1, 1, 1]);

    engine.endVideo("cam-a");
    const image = frameImage("cam-a", 11);
    const out = await engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, [{ name: "o", cx: 400, cy: 400 }]) }));
    // A fresh tracker: its first frame confirms at once, ids count from 1 again.
    expect(items(out.tracked!).map((d) => d.trackerId)).toEqual([1]);
  });

  test("v3 tells new instances from those seen before", async () => {
    const definition = workflow([tracker("v3")], {
      tracked: "$steps.tracker.tracked_detections",
      fresh: "$steps.tracker.new_instances",
      seen: "$steps.tracker.already_seen_instances",
    });
    const b = (i: number) => (i >= 2 ? moving("b", 400, 300, -5)(i) : undefined);
    const results = await runVideo(definition, "instances", frames(5, moving("a", 60, 100, 5), b));
    expect(idsByName(results, "fresh")).toEqual([{ a: 1 }, {}, {}, { b: 2 }, {}]);
    expect(idsByName(results, "seen")).toEqual([{}, { a: 1 }, { a: 1 }, { a: 1 }, { a: 1, b: 2 }]);
  });

  test("v1 needs the video's frame rate", async () => {
    const wf = await engine.compile(trackerOnly("v1"));
    const image = WorkflowImage.fromRaw(pixels, "no-fps", { video_identifier: "no-fps", frame_number: 1, frame_timestamp: new Date(T0) });
    await expect(engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, [{ cx: 100, cy: 100 }]) }))).rejects.toThrow(/frame rate/);
  });

  test("tracker ids appear as tracker_id in the prediction JSON", async () => {
    const definition = trackerOnly("v2");
    const wf = await engine.compile(definition);
    const image = frameImage("json", 1);
    const raw = await engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, [{ name: "a", cx: 100, cy: 120 }]) }));
    const json = (await serializeOutputs(wf, raw, { image: async () => null })) as { tracked: { predictions: Record<string, unknown>[] } };
    expect(json.tracked.predictions).toEqual([
      { x: 100, y: 120, width: 40, height: 40, confidence: 0.9, class_id: 0, class: "thing", detection_id: "a", parent_id: image.id, tracker_id: 1 },
    ]);
  });
});

describe("line_counter", () => {
  // A vertical line at x = 320 from y = 0 to y = 400; crossing it to the right is "in" (supervision's sides).
  const line = [[320, 0], [320, 400]];
  const scene = frames(
    30,
    moving("rightwards", 200, 100, 10), // crosses in
    moving("leftwards", 440, 300, -10), // crosses out
    moving("stays-left", 100, 200, 2), // never crosses
    moving("beyond-end", 200, 455, 10), // crosses the line's extension below y = 400: not counted
  );

  test("v2 after a tracker counts each direction once and gives the crossing detections", async () => {
    const definition = workflow(
      [
        tracker("v2"),
        { type: "roboflow_core/line_counter@v2", name: "counter", image: "$inputs.image", detections: "$steps.tracker.tracked_detections", line_segment: line },
      ],
      { count_in: "$steps.counter.count_in", count_out: "$steps.counter.count_out", crossed_in: "$steps.counter.detections_in", crossed_out: "$steps.counter.detections_out" },
    );
    const results = await runVideo(definition, "line-v2", scene);
    const last = results.at(-1)!;
    expect([last.count_in, last.count_out]).toEqual([1, 1]);
    const crossings = (output: string) => results.flatMap((r, i) => items(r[output]!).map((d) => [i, d.detectionId]));
    // Default anchors (v2): the four corners, so an object counts once its whole box is past the line; a
    // corner exactly on the line is on its right (out) side, so the leftward box counts a frame earlier.
    expect(crossings("crossed_in")).toEqual([[15, "rightwards"]]);
    expect(crossings("crossed_out")).toEqual([[14, "leftwards"]]);
    expect(results.map((r) => r.count_in)).toEqual([...Array(15).fill(0), ...Array(15).fill(1)]);
  });

  test("v1 with the CENTER anchor counts as the centre crosses; an object going back and forth counts each way", async () => {
    const definition = workflow(
      [{ type: "roboflow_core/line_counter@v1", name: "counter", metadata: "$inputs.video_metadata", detections: "$inputs.detections", line_segment: line }],
      { count_in: "$steps.counter.count_in", count_out: "$steps.counter.count_out" },
    );
    // Tracker 5 goes right across the line, then back left; tracker 6 stays right of it.
    const xs = [300, 310, 330, 340, 330, 310, 300];
    const results = await runVideo(definition, "line-v1", xs.map((x) => [{ cx: x, cy: 200, trackerId: 5 }, { cx: 500, cy: 200, trackerId: 6 }]));
    expect(results.map((r) => [r.count_in, r.count_out])).toEqual([[0, 0], [0, 0], [1, 0], [1, 0], [1, 0], [1, 1], [1, 1]]);
  });

  test("untracked detections are an error, as in the reference", async () => {
    const definition = workflow(
      [{ type: "line_counter@v2", name: "counter", image: "$inputs.image", detections: "$inputs.detections", line_segment: line }],
      { count_in: "$steps.counter.count_in" },
    );
    await expect(runVideo(definition, "untracked", [[{ cx: 100, cy: 100 }]])).rejects.toThrow(/tracker_id/);
  });
});

describe("time_in_zone", () => {
  const zone = [[100, 100], [300, 100], [300, 300], [100, 300]];
  // Tracker 7: outside on frames 1-2, inside on 3-8, outside on 9, inside again on 10. Tracker 8: always outside.
  const path = [50, 50, 200, 200, 200, 200, 200, 200, 400, 200];
  const scene = path.map((x) => [{ name: "seven", cx: x, cy: 200, trackerId: 7 }, { name: "eight", cx: 500, cy: 200, trackerId: 8 }]);
  const timeInZone = (version: string, extra: Record<string, unknown> = {}) =>
    workflow(
      [
        {
          type: `roboflow_core/time_in_zone@${version}`,
          name: "timer",
          image: "$inputs.image",
          ...(version === "v1" ? { metadata: "$inputs.video_metadata" } : {}),
          detections: "$inputs.detections",
          zone,
          ...extra,
        },
      ],
      { timed: "$steps.timer.timed_detections" },
    );
  const times = (results: Outputs[]) => results.map((r) => items(r.timed!).map((d) => [d.detectionId, Math.round((d.data!.time_in_zone as number) * 1000) / 1000]));

  test("accumulates seconds from frame numbers and fps, drops detections outside, resets on leaving", async () => {
    for (const version of ["v1", "v2", "v3"]) {
      const results = await runVideo(timeInZone(version), `zone-${version}`, scene, { fps: 10 });
      expect(times(results)).toEqual([[], [], [["seven", 0]], [["seven", 0.1]], [["seven", 0.2]], [["seven", 0.3]], [["seven", 0.4]], [["seven", 0.5]], [], [["seven", 0]]]);
    }
  });

  test("keeps detections outside with 0 s when asked, and keeps the clock running when not resetting", async () => {
    const kept = times(await runVideo(timeInZone("v2", { remove_out_of_zone_detections: false }), "zone-keep", scene, { fps: 10 }));
    expect(kept[0]).toEqual([["seven", 0], ["eight", 0]]);
    expect(kept[3]).toEqual([["seven", 0.1], ["eight", 0]]);

    const running = times(await runVideo(timeInZone("v2", { reset_out_of_zone_detections: false }), "zone-running", scene, { fps: 10 }));
    // Entered on frame 3 (0.3 s); back in on frame 10 (1.0 s) without a reset: 0.7 s.
    expect(running[9]).toEqual([["seven", 0.7]]);
  });

  test("streams (not from a file) use the frames' timestamps", async () => {
    const results = await runVideo(timeInZone("v2"), "zone-stream", scene, { fps: 10, fromFile: false, stepMs: 500 });
    expect(times(results)[4]).toEqual([["seven", 1]]);
  });

  test("v3 takes a list of zones: in any of them counts as in zone", async () => {
    const zones = [zone, [[320, 100], [500, 100], [500, 300], [320, 300]]];
    // Tracker 7 walks from the first zone through the second; tracker 8 at x = 600 is in neither.
    const walk = [150, 250, 330, 450].map((x) => [{ name: "seven", cx: x, cy: 200, trackerId: 7 }, { name: "eight", cx: 600, cy: 200, trackerId: 8 }]);
    const results = await runVideo(timeInZone("v3", { zone: zones }), "zones-v3", walk, { fps: 10 });
    expect(times(results)).toEqual([[["seven", 0]], [["seven", 0.1]], [["seven", 0.2]], [["seven", 0.3]]]);
  });

  test("time_in_zone and tracker_id appear in the prediction JSON after a tracker", async () => {
    const definition = workflow(
      [
        tracker("v2"),
        { type: "time_in_zone@v2", name: "timer", image: "$inputs.image", detections: "$steps.tracker.tracked_detections", zone, triggering_anchor: "BOTTOM_CENTER" },
      ],
      { timed: "$steps.timer.timed_detections" },
    );
    const wf = await engine.compile(definition);
    let json: { timed: { predictions: Record<string, unknown>[] } } | undefined;
    for (let n = 1; n <= 4; n++) {
      const image = frameImage("zone-json", n, { fps: 4 });
      const raw = await engine.run(wf, image, engine.parameters(wf, { detections: detectionsOn(image, [{ name: "p", cx: 150 + 5 * n, cy: 250 }]) }));
      json = (await serializeOutputs(wf, raw, { image: async () => null })) as typeof json;
    }
    expect(json!.timed.predictions).toHaveLength(1);
    expect(json!.timed.predictions[0]).toMatchObject({ detection_id: "p", tracker_id: 1, time_in_zone: 0.75 });
  });
});

describe("reference definitions", () => {
  const MODELS: Record<string, Pick<ModelInfo, "family" | "task">> = { "yolov8n-640": { family: "yolov8", task: "detection" } };
  const compile = (definition: unknown) =>
    compileWorkflow(definition, { blocks: BLOCKS, resolveModel: async (id) => MODELS[id] as ModelInfo | undefined, modelSource: "the test registry" });
  const detector = { type: "ObjectDetectionModel", name: "people_detector", image: "$inputs.image", model_id: "yolov8n-640", confidence: 0.6 };

  test("v1 blocks with WorkflowVideoMetadata, as in the reference's examples, compile unchanged", async () => {
    const compiled = await compile({
      version: "1.0",
      inputs: [
        { type: "WorkflowImage", name: "image" },
        { type: "WorkflowVideoMetadata", name: "video_metadata" },
        { type: "WorkflowParameter", name: "zone" },
        { type: "WorkflowParameter", name: "line" },
      ],
      steps: [
        detector,
        {
          type: "roboflow_core/byte_tracker@v1",
          name: "byte_tracker",
          metadata: "$inputs.video_metadata",
          detections: "$steps.people_detector.predictions",
          track_activation_threshold: 0.25,
          lost_track_buffer: 30,
          minimum_matching_threshold: 0.8,
          minimum_consecutive_frames: 1,
        },
        {
          type: "roboflow_core/time_in_zone@v1",
          name: "time_in_zone",
          detections: "$steps.byte_tracker.tracked_detections",
          metadata: "$inputs.video_metadata",
          zone: "$inputs.zone",
          image: "$inputs.image",
        },
        { type: "roboflow_core/line_counter@v1", name: "line_counter", metadata: "$inputs.video_metadata", detections: "$steps.byte_tracker.tracked_detections", line_segment: "$inputs.line", triggering_anchor: "CENTER" },
        { type: "roboflow_core/label_visualization@v1", name: "label_visualization", image: "$inputs.image", predictions: "$steps.time_in_zone.timed_detections", text: "Time In Zone" },
      ],
      outputs: [
        { type: "JsonField", name: "timed", selector: "$steps.time_in_zone.timed_detections" },
        { type: "JsonField", name: "count_in", selector: "$steps.line_counter.count_in" },
        { type: "JsonField", name: "count_out", selector: "$steps.line_counter.count_out" },
        { type: "JsonField", name: "label_visualization", selector: "$steps.label_visualization.image" },
      ],
    });
    expect(compiled.steps.map((s) => s.type)).toContain("roboflow_core/byte_tracker@v1");
    expect(compiled.warnings).toEqual([]);
  });

  test("v2 and v3 blocks (and names without the prefix) compile unchanged", async () => {
    const compiled = await compile({
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }, { type: "WorkflowParameter", name: "zones" }],
      steps: [
        detector,
        { type: "roboflow_core/byte_tracker@v2", name: "tracker_v2", image: "$inputs.image", detections: "$steps.people_detector.predictions", lost_track_buffer: 60 },
        {
          type: "byte_tracker@v3",
          name: "tracker_v3",
          image: "$inputs.image",
          detections: "$steps.people_detector.predictions",
          track_activation_threshold: 0.3,
          minimum_consecutive_frames: 2,
          instances_cache_size: 1024,
        },
        { type: "roboflow_core/line_counter@v2", name: "line_counter", image: "$inputs.image", detections: "$steps.tracker_v2.tracked_detections", line_segment: [[0, 50], [500, 50]], triggering_anchor: "BOTTOM_CENTER" },
        { type: "roboflow_core/time_in_zone@v2", name: "tiz_v2", image: "$inputs.image", detections: "$steps.tracker_v2.tracked_detections", zone: [[100, 100], [100, 200], [300, 200], [300, 100]], remove_out_of_zone_detections: false, reset_out_of_zone_detections: false },
        { type: "roboflow_core/time_in_zone@v3", name: "tiz_v3", image: "$inputs.image", detections: "$steps.tracker_v3.new_instances", zone: "$inputs.zones", triggering_anchor: "CENTER" },
      ],
      outputs: [
        { type: "JsonField", name: "in", selector: "$steps.line_counter.count_in" },
        { type: "JsonField", name: "crossed", selector: "$steps.line_counter.detections_in" },
        { type: "JsonField", name: "seen", selector: "$steps.tracker_v3.already_seen_instances" },
        { type: "JsonField", name: "timed", selector: "$steps.tiz_v3.timed_detections" },
        { type: "JsonField", name: "all", selector: "$steps.tiz_v2.*" },
      ],
    });
    expect(compiled.steps).toHaveLength(6);
    expect(compiled.warnings).toEqual([]);
  });

  test("bad settings are reported with their JSON paths", async () => {
    const definition = {
      version: "1.0",
      inputs: [{ type: "WorkflowImage", name: "image" }],
      steps: [
        detector,
        { type: "roboflow_core/byte_tracker@v2", name: "tracker", image: "$inputs.image", detections: "$steps.people_detector.predictions", track_activation_threshold: 2 },
        { type: "roboflow_core/line_counter@v2", name: "counter", image: "$inputs.image", detections: "$steps.tracker.tracked_detections", line_segment: [[0, 0], [9, 9]], triggering_anchor: "MIDDLE" },
      ],
      outputs: [{ type: "JsonField", name: "in", selector: "$steps.counter.count_in" }],
    };
    const error = await compile(definition).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    const paths = ((error as AppError).details!.errors as { path: string }[]).map((e) => e.path);
    expect(paths).toContain("$.steps[1].track_activation_threshold");
    expect(paths).toContain("$.steps[2].triggering_anchor");
  });
});
