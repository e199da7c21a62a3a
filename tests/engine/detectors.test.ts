import { afterAll, describe, expect, test } from "bun:test";
import type { Detection, Detections } from "../../src/engine/detections.ts";
import { ModelRuntime } from "../../src/engine/models/runtime.ts";
import type { ResolvedModel } from "../../src/engine/models/types.ts";
import { bestMatch, boxOf, DEFAULT_DETECT, haveShared, imageOf, iou, media, MODELS, REFERENCE, type Box } from "./detectors-fixtures.ts";

describe.skipIf(!haveShared)("detectors on real COCO models", () => {
  const runtime = new ModelRuntime({ intraOpNumThreads: 1, machineType: "cpu" });
  afterAll(() => runtime.release());
  const models = haveShared ? MODELS() : ({} as ReturnType<typeof MODELS>);
  const detectOne = async (model: ResolvedModel, file: string, params = DEFAULT_DETECT): Promise<Detections> =>
    (await runtime.detect(model, [await imageOf(media(file), file)], params))[0]!;

  for (const key of ["yolov8n640", "yolov8n320", "yoloxNano"] as const) {
    test(`${key} finds the player and the ball on messi5.jpg, and two persons on basketball1.png`, async () => {
      const model = models[key];
      const ref = REFERENCE[model.info.modelId]!;
      const messi = await detectOne(model, "messi5.jpg");
      expect(bestMatch(messi.items, "person", ref.messiPerson).iou).toBeGreaterThan(0.85);
      expect(bestMatch(messi.items, "sports ball", ref.messiBall).iou).toBeGreaterThan(0.85);
      const court = await detectOne(model, "basketball1.png");
      const persons = court.items.filter((d) => d.className === "person");
      expect(persons.length).toBe(2);
      for (const r of ref.basketball) expect(bestMatch(persons, "person", r).iou).toBeGreaterThan(0.85);
    });
  }

  test("every detection has a fresh id, the image as parent, a box inside the image and a COCO class name", async () => {
    const result = await detectOne(models.yolov8n640, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.05 });
    expect(result.image).toMatchObject({ id: "messi5.jpg", width: 548, height: 342 });
    expect(Object.keys(result.image).sort()).toEqual(["height", "id", "origin", "root", "width"]);
    const ids = new Set(result.items.map((d) => d.detectionId));
    expect(ids.size).toBe(result.items.length);
    for (const d of result.items) {
      expect(d.detectionId).toMatch(/^[0-9a-f-]{36}$/);
      expect(d.parentId).toBe("messi5.jpg");
      expect(d.x1).toBeGreaterThanOrEqual(0);
      expect(d.y1).toBeGreaterThanOrEqual(0);
      expect(d.x2).toBeLessThanOrEqual(548);
      expect(d.y2).toBeLessThanOrEqual(342);
      expect(d.className).toBe(models.yolov8n640.info.classNames[d.classId]!);
    }
  });

  test("yolov8n-seg-320 outlines the player with one polygon and finds the ball", async () => {
    const ref = REFERENCE["yolov8n-seg-320-int8"]!;
    const messi = await detectOne(models.seg320, "messi5.jpg");
    const { detection: player, iou: boxIou } = bestMatch(messi.items, "person", ref.messiPerson);
    expect(boxIou).toBeGreaterThan(0.85);
    const polygon = player!.polygon!;
    expect(polygon.length).toBeGreaterThan(10);
    // Simplified: a traced outline of a ~390x270 px player keeps far fewer points than its perimeter in pixels.
    expect(polygon.length).toBeLessThan(400);
    // The player, limbs spread, fills ~29% of his box (a brute-force count of mask pixels agrees within 0.1%).
    const fill = polygonArea(polygon) / boxArea(boxOf(player!));
    expect(fill).toBeGreaterThan(0.22);
    expect(fill).toBeLessThan(0.4);
    for (const onPlayer of [[240, 160], [235, 95], [300, 250]] as const) expect(contains(polygon, onPlayer)).toBe(true);
    for (const offPlayer of [[120, 280], [420, 100], [363, 312], [100, 200]] as const) expect(contains(polygon, offPlayer)).toBe(false);
    expect(iou(bounds(polygon), ref.messiPerson)).toBeGreaterThan(0.85);
    for (const [x, y] of polygon) {
      expect(x).toBeGreaterThanOrEqual(player!.x1 - 1);
      expect(x).toBeLessThanOrEqual(player!.x2 + 1);
      expect(y).toBeGreaterThanOrEqual(player!.y1 - 1);
      expect(y).toBeLessThanOrEqual(player!.y2 + 1);
    }
    const ball = bestMatch(messi.items, "sports ball", ref.messiBall);
    expect(ball.iou).toBeGreaterThan(0.85);
    // The ball is round: its outline fills about π/4 of its box.
    const ballFill = polygonArea(ball.detection!.polygon!) / boxArea(boxOf(ball.detection!));
    expect(ballFill).toBeGreaterThan(0.6);
    expect(ballFill).toBeLessThan(0.95);
  });

  test("confidence, class filter, max detections and IoU threshold each change the result as they should", async () => {
    const model = models.yolov8n640;
    const all = await detectOne(model, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.05 });
    expect(all.items.length).toBeGreaterThan(5);

    const confident = await detectOne(model, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.9 });
    expect(confident.items.length).toBeGreaterThan(0);
    expect(confident.items.length).toBeLessThan(all.items.length);
    expect(confident.items.every((d) => d.confidence >= 0.9)).toBe(true);

    const balls = await detectOne(model, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.05, classFilter: ["sports ball"] });
    expect(balls.items.length).toBeGreaterThan(0);
    expect(balls.items.every((d) => d.className === "sports ball")).toBe(true);

    const top2 = await detectOne(model, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.05, maxDetections: 2 });
    expect(top2.items.map((d) => d.confidence)).toEqual(sortedConfidences(all.items).slice(0, 2));

    const strict = await detectOne(model, "messi5.jpg", { ...DEFAULT_DETECT, confidence: 0.05, iouThreshold: 0.1 });
    expect(strict.items.length).toBeLessThan(all.items.length);
    expect(maxSameClassIou(strict.items)).toBeLessThanOrEqual(0.1);
  });

  test("class-agnostic NMS also suppresses overlapping boxes of different classes", async () => {
    const params = { ...DEFAULT_DETECT, confidence: 0.05, iouThreshold: 0.5 };
    const classWise = await detectOne(models.yoloxNano, "fruits.jpg", params);
    const agnostic = await detectOne(models.yoloxNano, "fruits.jpg", { ...params, classAgnosticNms: true });
    expect(maxPairIou(classWise.items)).toBeGreaterThan(0.5);
    expect(maxPairIou(agnostic.items)).toBeLessThanOrEqual(0.5);
    expect(agnostic.items.length).toBeLessThan(classWise.items.length);
  });

  test("many images in one call come back in order, each on its own image", async () => {
    const files = Array.from({ length: 11 }, (_, i) => (i % 2 ? "basketball1.png" : "messi5.jpg"));
    const images = await Promise.all(files.map((f, i) => imageOf(media(f), `img-${i}`)));
    const results = await runtime.detect(models.yoloxNano, images, DEFAULT_DETECT);
    expect(results.map((r) => r.image.id)).toEqual(images.map((i) => i.id));
    for (const [i, r] of results.entries()) {
      expect(r.items.every((d) => d.parentId === `img-${i}`)).toBe(true);
      const hasBall = r.items.some((d) => d.className === "sports ball");
      expect(hasBall).toBe(files[i] === "messi5.jpg");
    }
  });

  test("a model of the wrong family is refused, naming the model and its family", async () => {
    const image = await imageOf(media("messi5.jpg"), "m");
    const classifier: ResolvedModel = { ...models.yoloxNano, info: { ...models.yoloxNano.info, modelId: "my-classifier", family: "classifier" } };
    const detectErr = await runtime.detect(classifier, [image], DEFAULT_DETECT).catch((e) => e);
    expect(detectErr).toMatchObject({ code: "MODEL_WRONG_FAMILY" });
    expect(detectErr.message).toContain("my-classifier");
    expect(detectErr.message).toContain("classifier");
    const classifyErr = await runtime.classify(models.yoloxNano, [image], { confidence: 0.1 }).catch((e) => e);
    expect(classifyErr).toMatchObject({ code: "MODEL_WRONG_FAMILY" });
    expect(classifyErr.message).toContain("yolox-nano-416");
  });

  test("the provider choice is reported, and machine type cpu forces CPU", async () => {
    await runtime.ready();
    expect(runtime.provider()).toEqual({ selected: "cpu", reason: "machine type cpu was asked for" });
    const auto = new ModelRuntime({});
    const report = await auto.ready();
    expect(auto.provider().selected).toBe(report.cuda.available ? "cuda" : "cpu");
    expect(auto.provider().reason.length).toBeGreaterThan(10);
    await auto.release();
  });
});

const boxArea = (b: Box) => (b[2] - b[0]) * (b[3] - b[1]);

function polygonArea(points: [number, number][]): number {
  let twice = 0;
  for (let i = 0; i < points.length; i++) {
    const [x1, y1] = points[i]!;
    const [x2, y2] = points[(i + 1) % points.length]!;
    twice += x1 * y2 - x2 * y1;
  }
  return Math.abs(twice) / 2;
}

/** Even-odd ray casting. */
function contains(points: [number, number][], [x, y]: readonly [number, number]): boolean {
  let inside = false;
  for (let i = 0, j = points.length - 1; i < points.length; j = i++) {
    const [xi, yi] = points[i]!;
    const [xj, yj] = points[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function bounds(points: [number, number][]): Box {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
}

const sortedConfidences = (items: Detection[]) => items.map((d) => d.confidence).sort((a, b) => b - a);

function maxPairIou(items: Detection[], sameClassOnly = false): number {
  let worst = 0;
  for (let i = 0; i < items.length; i++)
    for (let j = i + 1; j < items.length; j++)
      if (!sameClassOnly || items[i]!.classId === items[j]!.classId) worst = Math.max(worst, iou(boxOf(items[i]!), boxOf(items[j]!)));
  return worst;
}

const maxSameClassIou = (items: Detection[]) => maxPairIou(items, true);
