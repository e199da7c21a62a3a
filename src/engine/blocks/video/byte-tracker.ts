import type { Detections } from "../../detections.ts";
import { asDetections, DETECTION_KINDS, floatInput, intInput, predictionsInput, typeIds, withItems } from "../common.ts";
import type { Block, BlockContext, InputSpec, Kind, StepInputs } from "../types.ts";
import { frameOf, metadataInput, videoImageInput } from "./anchors.ts";
import { ByteTracker, NO_ID, type Box } from "./bytetrack.ts";

/**
 * `byte_tracker@v1|v2|v3`: ByteTrack over a video's frames, one tracker per video (created on its first
 * frame with that frame's settings and fps). Each output detection is an input detection with its
 * `tracker_id`; detections no confirmed track claims are left out, as in the reference. v3 also splits
 * them into ids seen for the first time and ids seen before.
 */

const TRACKED_KINDS: readonly Kind[] = ["object_detection_prediction", "instance_segmentation_prediction"];

const trackerInputs: Record<string, InputSpec> = {
  track_activation_threshold: floatInput(0.25),
  lost_track_buffer: intInput(30, 0),
  minimum_matching_threshold: floatInput(0.8),
  minimum_consecutive_frames: intInput(1, 1),
};

interface VideoTracker {
  tracker: ByteTracker;
  /** Tracker ids already output (v3), oldest first, at most `instances_cache_size`. */
  seen: Set<number>;
}

function newTracker(inputs: StepInputs, fps: number): VideoTracker {
  const tracker = new ByteTracker({
    trackActivationThreshold: Number(inputs.track_activation_threshold ?? 0.25),
    lostTrackBuffer: Number(inputs.lost_track_buffer ?? 30),
    minimumMatchingThreshold: Number(inputs.minimum_matching_threshold ?? 0.8),
    minimumConsecutiveFrames: Number(inputs.minimum_consecutive_frames ?? 1),
    frameRate: fps,
  });
  return { tracker, seen: new Set() };
}

function track(state: VideoTracker, d: Detections): Detections {
  const ids = state.tracker.update(d.items.map((det) => ({ box: [det.x1, det.y1, det.x2, det.y2] as Box, score: det.confidence })));
  const items = d.items.flatMap((det, i) => (ids[i] === NO_ID ? [] : [{ ...det, trackerId: ids[i]! }]));
  return withItems(d, items);
}

/** The reference's v2/v3 run with fps 0 (lost tracks dropped at once) when the frame rate is unknown. */
function runTracker(inputs: StepInputs, ctx: BlockContext, fps: number): { state: VideoTracker; tracked: Detections } {
  const state = ctx.videoState(() => newTracker(inputs, fps));
  return { state, tracked: track(state, asDetections(inputs.detections, "detections")) };
}

export const byteTrackerV1: Block = {
  manifest: {
    types: typeIds("byte_tracker", "v1", "ByteTracker"),
    description: "Tracks objects across a video's frames with ByteTrack (gives each detection a tracker_id).",
    inputs: { metadata: metadataInput(), detections: { ...predictionsInput(TRACKED_KINDS), aliases: ["predictions"] }, ...trackerInputs },
    outputs: { tracked_detections: { kinds: TRACKED_KINDS, sameKindAs: "detections" } },
  },
  async run(inputs, ctx) {
    const frame = frameOf(inputs.metadata, ctx);
    if (!frame.fps) throw new Error(`Step '${ctx.step}': ByteTrack needs the video's frame rate (fps), which the frame metadata lacks`);
    return { tracked_detections: runTracker(inputs, ctx, frame.fps).tracked };
  },
};

export const byteTrackerV2: Block = {
  manifest: {
    types: typeIds("byte_tracker", "v2"),
    description: "Tracks objects across a video's frames with ByteTrack (gives each detection a tracker_id).",
    inputs: { image: videoImageInput(), detections: predictionsInput(TRACKED_KINDS), ...trackerInputs },
    outputs: { tracked_detections: { kinds: TRACKED_KINDS, sameKindAs: "detections" } },
  },
  async run(inputs, ctx) {
    return { tracked_detections: runTracker(inputs, ctx, ctx.frame().fps || 0).tracked };
  },
};

export const byteTrackerV3: Block = {
  manifest: {
    types: typeIds("byte_tracker", "v3"),
    description: "Tracks objects with ByteTrack and tells objects seen for the first time from those seen before.",
    inputs: {
      image: videoImageInput(),
      detections: predictionsInput(DETECTION_KINDS),
      ...trackerInputs,
      instances_cache_size: { kinds: [], static: "integer", default: 16384, min: 1 },
    },
    outputs: {
      tracked_detections: { kinds: DETECTION_KINDS, sameKindAs: "detections" },
      new_instances: { kinds: DETECTION_KINDS, sameKindAs: "detections" },
      already_seen_instances: { kinds: DETECTION_KINDS, sameKindAs: "detections" },
    },
  },
  async run(inputs, ctx) {
    const { state, tracked } = runTracker(inputs, ctx, ctx.frame().fps || 0);
    const size = Math.max(1, Number(inputs.instances_cache_size ?? 16384));
    const seenBefore = tracked.items.map((det) => {
      const id = det.trackerId!;
      if (state.seen.has(id)) return true;
      // A Set iterates in insertion order: the first entry is the oldest id (FIFO eviction).
      while (state.seen.size >= size) state.seen.delete(state.seen.values().next().value!);
      state.seen.add(id);
      return false;
    });
    return {
      tracked_detections: tracked,
      new_instances: withItems(tracked, tracked.items.filter((_, i) => !seenBefore[i])),
      already_seen_instances: withItems(tracked, tracked.items.filter((_, i) => seenBefore[i])),
    };
  },
};
