import type { Detection } from "../../detections.ts";
import type { FrameMetadata } from "../../uql/types.ts";
import { asDetections, boolInput, predictionsInput, typeIds, withItems } from "../common.ts";
import type { Block, BlockContext, InputSpec, Kind, StepInputs } from "../types.ts";
import { anchorInput, anchorPoint, frameOf, metadataInput, trackerIds, videoImageInput, type Point, type Position } from "./anchors.ts";

/**
 * `time_in_zone@v1|v2|v3`: how long each tracked object has been in a polygon zone, in seconds, written to
 * its detection as `time_in_zone`. As the reference: time is `frame_number / fps` for frames of a video file
 * and the frame's timestamp otherwise; an object's clock starts on its first frame in the zone (0 s there);
 * leaving the zone resets it (`reset_out_of_zone_detections`), and detections outside are dropped
 * (`remove_out_of_zone_detections`) or kept with 0 s. v1/v2 fix the zone on the video's first frame; v3
 * takes one polygon or a list of them (in zone = in any) and follows the zone it is given on each frame.
 */

const TRACKED_KINDS: readonly Kind[] = ["object_detection_prediction", "instance_segmentation_prediction"];

type Polygon = Point[];

interface ZoneState {
  /** v1/v2: the zone as given on the video's first frame. */
  zones: Polygon[] | undefined;
  /** Per tracker id: the time (s) it entered the zone. */
  entered: Map<number, number>;
}

const isPoint = (p: unknown): p is Point => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v));

function polygonOf(value: unknown, step: string): Polygon {
  if (!Array.isArray(value) || value.length < 3) throw new Error(`Step '${step}': a zone must be a list of at least 3 points [x, y], got ${JSON.stringify(value)}`);
  if (!value.every(isPoint)) throw new Error(`Step '${step}': each point of a zone must be [x, y] (two numbers), got ${JSON.stringify(value)}`);
  return value;
}

/** v3: one polygon (a list of points) or a list of polygons. */
function polygonsOf(value: unknown, step: string): Polygon[] {
  if (Array.isArray(value) && value.length === 0) return [];
  if (Array.isArray(value) && value.length > 0 && value.every((p) => Array.isArray(p) && p.every((q) => Array.isArray(q)))) return value.map((p) => polygonOf(p, step));
  return [polygonOf(value, step)];
}

/**
 * Whether a point is inside a polygon or on its edge. supervision fills the polygon into a pixel mask and
 * looks up the anchor rounded up to whole pixels; this tests the rounded-up point against the polygon itself.
 */
function inPolygon([px, py]: Point, polygon: Polygon): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [xi, yi] = polygon[i]!;
    const [xj, yj] = polygon[j]!;
    const crossZ = (xj - xi) * (py - yi) - (yj - yi) * (px - xi);
    if (crossZ === 0 && px >= Math.min(xi, xj) && px <= Math.max(xi, xj) && py >= Math.min(yi, yj) && py <= Math.max(yi, yj)) return true;
    if (yi > py !== yj > py && px < ((xj - xi) * (py - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

/** Seconds since the video started (video files) or since the epoch (streams), as the reference. */
function timestamp(frame: FrameMetadata): number {
  if (frame.comes_from_video_file && frame.fps) return frame.frame_number / frame.fps;
  return new Date(frame.frame_timestamp).getTime() / 1000;
}

function timeInZone(inputs: StepInputs, ctx: BlockContext, frame: FrameMetadata, multi: boolean) {
  const d = asDetections(inputs.detections, "detections");
  const ids = trackerIds(d, ctx.step);
  const state = ctx.videoState<ZoneState>(() => ({ zones: multi ? undefined : [polygonOf(inputs.zone, ctx.step)], entered: new Map() }));
  const zones = state.zones ?? polygonsOf(inputs.zone, ctx.step);
  const anchor = (inputs.triggering_anchor ?? "CENTER") as Position;
  const remove = inputs.remove_out_of_zone_detections !== false;
  const reset = inputs.reset_out_of_zone_detections !== false;
  const now = timestamp(frame);
  const items: Detection[] = [];
  d.items.forEach((det, i) => {
    const id = ids[i]!;
    const [x, y] = anchorPoint(det, anchor);
    const inZone = zones.some((z) => inPolygon([Math.ceil(x), Math.ceil(y)], z));
    if (!inZone && reset) state.entered.delete(id);
    if (!inZone && remove) return;
    let seconds = 0;
    if (inZone) {
      if (!state.entered.has(id)) state.entered.set(id, now);
      seconds = now - state.entered.get(id)!;
    } else state.entered.delete(id);
    items.push({ ...det, data: { ...det.data, time_in_zone: seconds } });
  });
  return { timed_detections: withItems(d, items) };
}

const zoneInput: InputSpec = { kinds: ["list_of_values", "zone"], static: "array", required: true };

const commonInputs = (): Record<string, InputSpec> => ({
  detections: predictionsInput(TRACKED_KINDS),
  zone: zoneInput,
  triggering_anchor: anchorInput("CENTER"),
  remove_out_of_zone_detections: boolInput(true),
  reset_out_of_zone_detections: boolInput(true),
});

const outputs = { timed_detections: { kinds: TRACKED_KINDS, sameKindAs: "detections" } };
const description = "Measures how long each tracked object has been in a zone (time_in_zone, in seconds).";

export const timeInZoneV1: Block = {
  manifest: { types: typeIds("time_in_zone", "v1"), description, inputs: { image: videoImageInput(), metadata: metadataInput(), ...commonInputs() }, outputs },
  run: async (inputs, ctx) => timeInZone(inputs, ctx, frameOf(inputs.metadata, ctx), false),
};

export const timeInZoneV2: Block = {
  manifest: { types: typeIds("time_in_zone", "v2"), description, inputs: { image: videoImageInput(), ...commonInputs() }, outputs },
  run: async (inputs, ctx) => timeInZone(inputs, ctx, ctx.frame(), false),
};

export const timeInZoneV3: Block = {
  manifest: { types: typeIds("time_in_zone", "v3"), description, inputs: { image: videoImageInput(), ...commonInputs() }, outputs },
  run: async (inputs, ctx) => timeInZone(inputs, ctx, ctx.frame(), true),
};
