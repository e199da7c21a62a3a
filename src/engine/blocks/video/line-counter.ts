import type { Detection, Detections } from "../../detections.ts";
import { asDetections, predictionsInput, typeIds, withItems } from "../common.ts";
import type { Block, BlockContext, InputSpec, Kind, StepInputs } from "../types.ts";
import { anchorInput, anchorPoint, metadataInput, trackerIds, videoImageInput, type Point, type Position } from "./anchors.ts";

/**
 * `line_counter@v1|v2`: counts tracked objects crossing a line segment, as supervision's LineZone: each
 * tracker id's side of the line is remembered; a change of side (with all triggering anchors on the new
 * side, within the segment's extent) counts one crossing "in" (to the left of start→end, in image
 * coordinates) or "out". The line and anchors are fixed on the video's first frame, as in the reference.
 */

const TRACKED_KINDS: readonly Kind[] = ["object_detection_prediction", "instance_segmentation_prediction"];
/** supervision's LineZone default when no anchor is given: the four corners of the box. */
const CORNERS: Position[] = ["TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_RIGHT"];

interface Segment {
  start: Point;
  end: Point;
}

/** Positive on one side of the segment's line, negative on the other (z of (end − start) × (p − start)). */
const cross = ({ start, end }: Segment, [x, y]: Point) => (end[0] - start[0]) * (y - start[1]) - (end[1] - start[1]) * (x - start[0]);

class LineZone {
  inCount = 0;
  outCount = 0;
  /** Per tracker id: its last known side (true = left). */
  private readonly sides = new Map<number, boolean>();
  private readonly limits: [Segment, Segment];

  constructor(
    private readonly line: Segment,
    private readonly anchors: Position[],
  ) {
    const [dx, dy] = [line.end[0] - line.start[0], line.end[1] - line.start[1]];
    const length = Math.hypot(dx, dy);
    if (length === 0) throw new Error("the line's two points are the same");
    const [px, py] = [-dy / length, dx / length];
    // Perpendiculars through both ends, pointing opposite ways: a point is within the segment's extent
    // when it lies on the same side of both.
    this.limits = [
      { start: line.start, end: [line.start[0] + px, line.start[1] + py] },
      { start: line.end, end: [line.end[0] - px, line.end[1] - py] },
    ];
  }

  /** Counts this frame's crossings; returns which detections crossed in and which out. */
  trigger(items: Detection[], ids: number[]): { crossedIn: boolean[]; crossedOut: boolean[] } {
    const crossedIn = items.map(() => false);
    const crossedOut = items.map(() => false);
    items.forEach((det, i) => {
      const points = this.anchors.map((a) => anchorPoint(det, a));
      const inLimits = points.every((p) => cross(this.limits[0], p) > 0 === cross(this.limits[1], p) > 0);
      if (!inLimits) return;
      const left = points.map((p) => cross(this.line, p) < 0);
      const anyLeft = left.some(Boolean);
      if (anyLeft && left.some((l) => !l)) return;
      const previous = this.sides.get(ids[i]!);
      this.sides.set(ids[i]!, anyLeft);
      if (previous === undefined || previous === anyLeft) return;
      if (anyLeft) {
        this.inCount++;
        crossedIn[i] = true;
      } else {
        this.outCount++;
        crossedOut[i] = true;
      }
    });
    return { crossedIn, crossedOut };
  }
}

function segmentOf(value: unknown, step: string): Segment {
  const ok = Array.isArray(value) && value.length === 2 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v)));
  if (!ok) throw new Error(`Step '${step}': 'line_segment' must be exactly two points [[x1, y1], [x2, y2]], got ${JSON.stringify(value)}`);
  const [start, end] = value as [Point, Point];
  return { start, end };
}

function count(inputs: StepInputs, ctx: BlockContext) {
  const d: Detections = asDetections(inputs.detections, "detections");
  const ids = trackerIds(d, ctx.step);
  const zone = ctx.videoState(() => {
    const anchor = inputs.triggering_anchor as Position | null | undefined;
    try {
      return new LineZone(segmentOf(inputs.line_segment, ctx.step), anchor ? [anchor] : CORNERS);
    } catch (e) {
      throw new Error(`Step '${ctx.step}': ${(e as Error).message}`);
    }
  });
  return { zone, d, ...zone.trigger(d.items, ids) };
}

const lineInput: InputSpec = { kinds: ["list_of_values"], static: "array", required: true };

export const lineCounterV1: Block = {
  manifest: {
    types: typeIds("line_counter", "v1"),
    description: "Counts tracked objects crossing a line, in each direction.",
    inputs: { metadata: metadataInput(), detections: predictionsInput(TRACKED_KINDS), line_segment: lineInput, triggering_anchor: anchorInput("CENTER") },
    outputs: { count_in: { kinds: ["integer"] }, count_out: { kinds: ["integer"] } },
  },
  async run(inputs, ctx) {
    const { zone } = count(inputs, ctx);
    return { count_in: zone.inCount, count_out: zone.outCount };
  },
};

export const lineCounterV2: Block = {
  manifest: {
    types: typeIds("line_counter", "v2"),
    description: "Counts tracked objects crossing a line, in each direction, and gives this frame's crossers.",
    inputs: { image: videoImageInput(), detections: predictionsInput(TRACKED_KINDS), line_segment: lineInput, triggering_anchor: anchorInput(null) },
    outputs: {
      count_in: { kinds: ["integer"] },
      count_out: { kinds: ["integer"] },
      detections_in: { kinds: TRACKED_KINDS, sameKindAs: "detections" },
      detections_out: { kinds: TRACKED_KINDS, sameKindAs: "detections" },
    },
  },
  async run(inputs, ctx) {
    const { zone, d, crossedIn, crossedOut } = count(inputs, ctx);
    return {
      count_in: zone.inCount,
      count_out: zone.outCount,
      detections_in: withItems(d, d.items.filter((_, i) => crossedIn[i])),
      detections_out: withItems(d, d.items.filter((_, i) => crossedOut[i])),
    };
  },
};
