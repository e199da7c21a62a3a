import type { Classification, ImageRef } from "../detections.ts";
import type { FrameMetadata, OpContext, OperationSpec } from "./types.ts";
import { frameMetadataOf } from "../video/frame.ts";
import { isClassification, isImage, isNumber } from "./values.ts";

/** Operations that read images, video frames and classifications. */

const IMAGE_PROPERTIES: Record<string, (i: ImageRef) => number> = {
  size: (i) => i.width * i.height,
  height: (i) => i.height,
  width: (i) => i.width,
  aspect_ratio: (i) => (i.height !== 0 ? i.width / i.height : 0),
};

const FRAME_PROPERTIES: Record<string, (f: FrameMetadata, ctx: OpContext) => unknown> = {
  frame_number: (f) => f.frame_number,
  frame_timestamp: (f) => f.frame_timestamp,
  seconds_since_start: (f, ctx) => (f.fps ? (f.frame_number - 1) / f.fps : ctx.fail("the video's frame rate is unknown, so the time since its start is too")),
};

const CLASSIFICATION_PROPERTIES: Record<string, (c: Classification) => unknown> = {
  top_class: (c) => c.top,
  top_class_confidence: (c) => c.confidence,
  top_class_confidence_single: (c) => c.confidence,
  all_classes: (c) => c.predictions.map((p) => p.className),
  all_confidences: (c) => c.predictions.map((p) => p.confidence),
};

const isFrameMetadata = (v: unknown): v is FrameMetadata => typeof v === "object" && v !== null && isNumber((v as FrameMetadata).frame_number);

/** The frame facts of a video frame image, or a `video_metadata` value given on its own. */
function frameOf(v: unknown, ctx: OpContext): FrameMetadata {
  if (isFrameMetadata(v)) return v;
  if (isImage(v)) return frameMetadataOf(v as { id: string; videoMetadata?: FrameMetadata });
  return ctx.wrongData("a video frame (an image from a video, or video metadata)", v);
}

const enumOf = (table: Record<string, unknown>) => ({ enum: Object.keys(table) });

export const MEDIA_OPERATIONS: Record<string, OperationSpec> = {
  ExtractImageProperty: {
    fields: { property_name: { type: enumOf(IMAGE_PROPERTIES), required: true } },
    run: (v, args, _, ctx) => (isImage(v) ? IMAGE_PROPERTIES[args.property_name as string]!(v) : ctx.wrongData("an image", v)),
  },
  ExtractFrameMetadata: {
    fields: { property_name: { type: enumOf(FRAME_PROPERTIES), required: true } },
    run: (v, args, _, ctx) => FRAME_PROPERTIES[args.property_name as string]!(frameOf(v, ctx), ctx),
  },
  TimestampToISOFormat: {
    fields: {},
    run: (v, _a, _p, ctx) => (v instanceof Date ? v.toISOString() : ctx.wrongData("a timestamp", v)),
  },
  ClassificationPropertyExtract: {
    fields: { property_name: { type: enumOf(CLASSIFICATION_PROPERTIES), required: true } },
    run: (v, args, _, ctx) => (isClassification(v) ? CLASSIFICATION_PROPERTIES[args.property_name as string]!(v) : ctx.wrongData("a classification", v)),
  },
};
