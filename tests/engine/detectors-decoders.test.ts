import { describe, expect, test } from "bun:test";
import { classProbabilities } from "../../src/engine/models/decoders/classifier.ts";
import { keepLargestRegion, maskOutline, simplifyRing, traceOuter } from "../../src/engine/models/decoders/mask-polygon.ts";
import { nms, type Candidate } from "../../src/engine/models/decoders/nms.ts";
import { yolov8Candidates } from "../../src/engine/models/decoders/yolov8.ts";
import { yoloxCandidates } from "../../src/engine/models/decoders/yolox.ts";

const all = { confidence: 0.25, allowed: undefined };
const box = (x1: number, y1: number, x2: number, y2: number, score: number, classId = 0): Candidate => ({ x1, y1, x2, y2, score, classId, anchor: 0 });

describe("NMS", () => {
  const cands = [box(0, 0, 10, 10, 0.9), box(1, 1, 11, 11, 0.8), box(1, 0, 11, 10, 0.7, 1), box(50, 50, 60, 60, 0.6)];

  test("class-wise keeps overlapping boxes of other classes; class-agnostic does not", () => {
    expect(nms(cands, { iouThreshold: 0.5, classAgnostic: false, maxDetections: 10 }).map((c) => c.score)).toEqual([0.9, 0.7, 0.6]);
    expect(nms(cands, { iouThreshold: 0.5, classAgnostic: true, maxDetections: 10 }).map((c) => c.score)).toEqual([0.9, 0.6]);
  });

  test("a higher IoU threshold keeps more; max detections keeps the best", () => {
    expect(nms(cands, { iouThreshold: 0.85, classAgnostic: true, maxDetections: 10 }).length).toBe(4);
    expect(nms(cands, { iouThreshold: 0.5, classAgnostic: false, maxDetections: 2 }).map((c) => c.score)).toEqual([0.9, 0.7]);
  });
});

describe("box decoders", () => {
  test("YOLOv8: channel-major rows, best class, confidence and class filter", () => {
    const anchors = 3;
    const classes = 2;
    const data = new Float32Array((4 + classes) * anchors);
    const set = (row: number, a: number, v: number) => (data[row * anchors + a] = v);
    // anchor 1: centre (100, 50), 20 x 10, class 1 at 0.8
    [100, 50, 20, 10].forEach((v, row) => set(row, 1, v));
    set(4, 1, 0.1);
    set(5, 1, 0.8);
    set(4, 2, 0.2); // below the threshold
    const out = { dims: [4 + classes, anchors], data };
    expect(yolov8Candidates(out, 0, all)).toEqual([{ x1: 90, y1: 45, x2: 110, y2: 55, score: expect.closeTo(0.8, 5), classId: 1, anchor: 1 }]);
    expect(yolov8Candidates(out, 0, { confidence: 0.25, allowed: Uint8Array.of(1, 0) })).toEqual([]);
  });

  test("YOLOX: grid walk over strides 8/16/32, exp sizes, score = obj · cls", () => {
    const size = 64; // grids 8x8 + 4x4 + 2x2 = 84 anchors
    const channels = 5 + 2;
    const data = new Float32Array(84 * channels);
    const a = 64 + 4 * 1 + 2; // stride 16, row 1, column 2
    data.set([0.5, 0.25, Math.log(2), 0, 0.9, 0.1, 0.5], a * channels);
    const found = yoloxCandidates({ dims: [84, channels], data }, size, size, all, "m");
    expect(found).toHaveLength(1);
    const c = found[0]!;
    expect([c.x1, c.y1, c.x2, c.y2]).toEqual([(2.5 - 1) * 16, (1.25 - 0.5) * 16, (2.5 + 1) * 16, (1.25 + 0.5) * 16].map((v) => expect.closeTo(v, 4)));
    expect(c.score).toBeCloseTo(0.45, 5);
    expect(c.classId).toBe(1);
    expect(() => yoloxCandidates({ dims: [85, channels], data: new Float32Array(85 * channels) }, size, size, all, "m")).toThrow(/anchors/);
  });
});

describe("mask outlines", () => {
  const grid = (rows: string[]) => ({ mask: Uint8Array.from(rows.join(""), (c) => (c === "#" ? 1 : 0)), w: rows[0]!.length, h: rows.length });
  const area = (flat: number[]) => {
    let twice = 0;
    for (let i = 0; i < flat.length; i += 2) twice += flat[i]! * flat[(i + 3) % flat.length]! - flat[(i + 2) % flat.length]! * flat[i + 1]!;
    return Math.abs(twice) / 2;
  };

  test("the outer boundary runs along pixel edges: its area is the region's pixel count, holes included", () => {
    const { mask, w, h } = grid(["......", ".####.", ".#..#.", ".####.", "......"]);
    const start = keepLargestRegion(mask, w, h);
    expect(start).toBe(7);
    const outline = traceOuter(mask, w, h, start);
    expect(outline).toEqual([1, 1, 5, 1, 5, 4, 1, 4]);
    expect(area(outline)).toBe(12);
  });

  test("diagonal neighbours are one region; the largest region is kept", () => {
    const { mask, w, h } = grid(["##....", "..#...", "...#..", "....#.", "....##"]);
    const start = keepLargestRegion(mask, w, h);
    expect([...mask].filter(Boolean).length).toBe(7);
    expect(area(traceOuter(mask, w, h, start))).toBe(7);
    const two = grid(["#...", "....", ".###", ".###"]);
    keepLargestRegion(two.mask, two.w, two.h);
    expect(two.mask[0]).toBe(0);
    expect([...two.mask].filter(Boolean).length).toBe(6);
  });

  test("an empty mask has no outline; a staircase simplifies to its corners", () => {
    expect(maskOutline(new Uint8Array(9), 3, 3, 1)).toBeUndefined();
    // A right triangle drawn in pixels: its edge is a staircase that simplifies to three corners.
    const n = 40;
    const mask = new Uint8Array(n * n);
    for (let y = 0; y < n; y++) for (let x = 0; x <= y; x++) mask[y * n + x] = 1;
    const outline = maskOutline(mask, n, n, 1)!;
    expect(outline.length / 2).toBeLessThanOrEqual(5);
    expect(area(outline)).toBeCloseTo((n * n) / 2, -1);
    expect(simplifyRing([0, 0, 1, 0, 1, 1, 0, 1], 5)).toEqual([0, 0, 1, 0, 1, 1, 0, 1]);
  });
});

describe("classifier outputs", () => {
  test("probabilities pass through; logits get a softmax", () => {
    expect([...classProbabilities({ dims: [3], data: Float32Array.of(0.7, 0.2, 0.1) })]).toEqual([0.7, 0.2, 0.1].map((v) => expect.closeTo(v, 6)));
    const p = classProbabilities({ dims: [3], data: Float32Array.of(2, 1, 0) });
    expect(p[0]! + p[1]! + p[2]!).toBeCloseTo(1, 6);
    expect(p[0]! / p[1]!).toBeCloseTo(Math.E, 4);
  });
});
