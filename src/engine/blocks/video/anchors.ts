import type { Detection, Detections } from "../../detections.ts";
import type { FrameMetadata } from "../../uql/types.ts";
import type { BlockContext, InputSpec } from "../types.ts";

/** What the video analytics blocks share: box anchors (supervision's `Position`), frame facts, inputs. */

export const POSITIONS = ["CENTER", "CENTER_LEFT", "CENTER_RIGHT", "TOP_CENTER", "TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_CENTER", "BOTTOM_RIGHT", "CENTER_OF_MASS"] as const;
export type Position = (typeof POSITIONS)[number];

export type Point = [number, number];

/**
 * A point of a detection's box. CENTER_OF_MASS is the centroid of the instance outline; supervision needs
 * a mask for it, here a detection without an outline falls back to the box centre.
 */
export function anchorPoint(det: Detection, position: Position): Point {
  const cx = (det.x1 + det.x2) / 2;
  const cy = (det.y1 + det.y2) / 2;
  if (position === "CENTER_OF_MASS") return det.polygon && det.polygon.length >= 3 ? centroid(det.polygon) : [cx, cy];
  if (position === "CENTER") return [cx, cy];
  const [vertical, horizontal] = position.split("_") as [string, string];
  const x = horizontal === "LEFT" ? det.x1 : horizontal === "RIGHT" ? det.x2 : cx;
  const y = vertical === "TOP" ? det.y1 : vertical === "BOTTOM" ? det.y2 : cy;
  return [x, y];
}

function centroid(polygon: [number, number][]): Point {
  let area = 0;
  let x = 0;
  let y = 0;
  polygon.forEach(([x0, y0], i) => {
    const [x1, y1] = polygon[(i + 1) % polygon.length]!;
    const cross = x0 * y1 - x1 * y0;
    area += cross;
    x += (x0 + x1) * cross;
    y += (y0 + y1) * cross;
  });
  if (Math.abs(area) < 1e-9) return [polygon.reduce((s, p) => s + p[0], 0) / polygon.length, polygon.reduce((s, p) => s + p[1], 0) / polygon.length];
  return [x / (3 * area), y / (3 * area)];
}

export const anchorInput = (def: Position | null): InputSpec => ({ kinds: ["string"], static: "enum", values: POSITIONS, default: def });

/** The frame image of a video step (the reference reads the video's facts from it). */
export const videoImageInput = (): InputSpec => ({ kinds: ["image"], static: "none", required: true, batch: true });

/** v1 blocks take the frame facts as a `WorkflowVideoMetadata` input (filled from the frame when unset). */
export const metadataInput = (): InputSpec => ({ kinds: ["video_metadata"], static: "none", required: true, batch: true });

/** The frame facts given to a v1 block, else those of the frame being run. */
export function frameOf(metadata: unknown, ctx: BlockContext): FrameMetadata {
  const m = metadata as FrameMetadata | null | undefined;
  return m && typeof m === "object" && typeof m.frame_number === "number" ? m : ctx.frame();
}

/**
 * The tracker id of every detection. As in the reference, counting and timing need tracked detections:
 * detections without a tracker id (not from a tracker) are an error, not silently skipped.
 */
export function trackerIds(d: Detections, step: string): number[] {
  return d.items.map((det) => {
    if (det.trackerId === undefined || det.trackerId === null)
      throw new Error(`Step '${step}' needs tracked detections (each with a tracker_id); put a byte_tracker step before it`);
    return det.trackerId;
  });
}
