import type { Detection, ImageRef } from "../detections.ts";
import { roundHalfEven } from "./values.ts";

/**
 * The properties of a detection that `ExtractDetectionProperty` / `DetectionsPropertyExtract` read, under
 * the reference's names. Box values come from our fields; the values other blocks attach (time in zone,
 * velocity, OCR text, ...) come from `data`, where any other name is looked up too.
 */

type Read = (d: Detection, image: ImageRef) => unknown;

const width = (d: Detection) => d.x2 - d.x1;
const height = (d: Detection) => d.y2 - d.y1;

/** Properties held in our own fields. */
const FIELDS: Record<string, Read> = {
  confidence: (d) => d.confidence,
  class_name: (d) => d.className,
  class_id: (d) => d.classId,
  x_min: (d) => d.x1,
  y_min: (d) => d.y1,
  x_max: (d) => d.x2,
  y_max: (d) => d.y2,
  size: (d) => width(d) * height(d),
  tracker_id: (d) => d.trackerId ?? null,
  polygon: (d) => d.polygon ?? null,
};

/** Anchor points of the box, as [x, y]. */
const POINTS: Record<string, (d: Detection) => [number, number]> = {
  center: (d) => [(d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2],
  top_left: (d) => [d.x1, d.y1],
  top_right: (d) => [d.x2, d.y1],
  bottom_left: (d) => [d.x1, d.y2],
  bottom_right: (d) => [d.x2, d.y2],
};

/**
 * Used when `data` has no value of that name. `width`/`height` in the reference are those of a rotated
 * bounding rectangle a block may attach; without one the box's own size is the honest answer.
 */
const FALLBACKS: Record<string, Read> = {
  width,
  height,
  image_dimensions: (_, image) => [image.height, image.width],
  prediction_type: (d) => (d.polygon ? "instance-segmentation" : "object-detection"),
};

/**
 * One property of one detection. The list form (`roundPoints`) gives anchor points in whole pixels, as the
 * reference's `DetectionsPropertyExtract` does; a single detection's points keep their fractions.
 */
export function detectionProperty(d: Detection, image: ImageRef, name: string, roundPoints = false): unknown {
  const field = FIELDS[name];
  if (field) return field(d, image);
  const point = POINTS[name];
  if (point) return roundPoints ? point(d).map((c) => roundHalfEven(c)) : point(d);
  if (d.data && name in d.data) return d.data[name];
  return FALLBACKS[name]?.(d, image) ?? null;
}
