import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError, isAppError } from "../core/errors.ts";
import { resolveFfmpeg } from "../engine/ffmpeg.ts";
import { DEFAULT_MAX_PIXELS } from "../engine/image/workflow-image.ts";
import type { EnginePool } from "../engine/parallel/pool.ts";
import type { RunResult } from "../engine/parallel/protocol.ts";
import type { FrameMetadata } from "../engine/uql/types.ts";
import { decodeFrames, isPicked, samplingRatio, type DecodeSummary } from "../engine/video/decode.ts";
import { VideoEncoder } from "../engine/video/encode.ts";
import { probeVideo, type VideoInfo } from "../engine/video/probe.ts";
import { parseVideoItem, partSuffix, type VideoItem } from "../engine/video/segments.ts";
import { INPUT_PART } from "../storage/batches.ts";
import type { Staging } from "../storage/staging.ts";
import { openRowWriter } from "./result-rows.ts";
import { errorsFile, itemError, resultsFile, taskFile, type JobPlan, type TaskControl } from "./task-runner.ts";
import type { ItemFailure, JobRecord, Lease, TaskResult } from "./types.ts";

/** Frames of a video in flight at once: the next frame is decoded and sent while one runs. */
const IN_FLIGHT = 2;

export interface VideoTaskDeps {
  pool: EnginePool;
  staging: Staging;
  workDir: string;
  /** A configured ffmpeg; else the bundled one, else the one on PATH. */
  ffmpegPath?: string;
  maxPixels?: number;
}

/** What a video's task found, written beside its annotated videos as `<video>/summary.json`. */
interface VideoSummary {
  video: string;
  width: number;
  height: number;
  rotation: number;
  fps: number;
  effective_fps: number;
  duration_seconds: number;
  frames_total: number;
  frames_processed: number;
  frames_failed: number;
  /** Distinct tracker ids seen in the results. */
  tracks: number;
  /** The last value of each count output (e.g. a line counter's `count_in`) by output path. */
  counts: Record<string, number>;
  /** For a segment of a longer video: where it sits; stateful steps start afresh there. */
  segment: { start_seconds: number; end_seconds: number; first_frame: number; last_frame: number; tracker_state: string } | null;
  warnings: string[];
}

/**
 * Runs a video task: each video of the lease is probed, decoded by ffmpeg as a stream (frames not picked by
 * `maxVideoFps` never reach the engine), and its frames run in order through the workflow on this worker's
 * engine, with the state of stateful steps kept per video. A row per processed frame streams to the task's
 * result file; image outputs are encoded into an MP4 per output (part `videos`) when asked. A file that is
 * not a usable video is a failure of that video; damage mid-stream keeps the frames before it and reports
 * the rest; ffmpeg failing outright fails the task (it is retried per policy).
 */
export async function runVideoTask(lease: Lease, job: JobRecord, plan: JobPlan, deps: VideoTaskDeps, control: TaskControl): Promise<TaskResult | undefined> {
  const started = performance.now();
  mkdirSync(deps.workDir, { recursive: true });
  const ffmpeg = (await resolveFfmpeg(deps.ffmpegPath)).path;
  if (!ffmpeg) throw new AppError("FFMPEG_NOT_FOUND", "No ffmpeg to decode videos: set ffmpegPath (VBATCH_FFMPEG_PATH) or install ffmpeg", 500);
  const format = job.options.aggregationFormat;
  const resultPath = join(deps.workDir, taskFile(lease.index, format));
  const rows = openRowWriter(resultPath, format, ["image", "frame_number", "frame_timestamp", "fps", "effective_fps", ...plan.outputNames]);
  const failures: ItemFailure[] = [];
  const frameFailures: { image: string; frame_number: number; code: string; message: string }[] = [];
  const videosDir = join(deps.workDir, "videos");
  const files: TaskResult["files"] = [];
  let done = 0;
  try {
    for (const item of lease.items) {
      if (control.stopped()) return undefined;
      const { name, segment } = parseVideoItem(item);
      const path = deps.staging.filePath({ id: job.inputBatchId, kind: "input" }, INPUT_PART, name);
      let info: VideoInfo;
      try {
        info = await probeVideo(path, name, { ffmpeg, maxPixels: deps.maxPixels ?? DEFAULT_MAX_PIXELS });
      } catch (e) {
        if (!isAppError(e)) throw e;
        failures.push({ item, code: e.code, message: e.message });
        control.progress(done + failures.length, failures.length);
        continue;
      }
      const outcome = await runVideo(name, segment, path, info, job, plan, { ...deps, ffmpeg, videosDir }, control, (row) => rows.write(row), frameFailures);
      if (!outcome) return undefined;
      files.push(...outcome.files);
      done++;
      control.progress(done + failures.length, failures.length);
    }
  } finally {
    rows.close();
  }
  files.unshift(resultsFile(resultPath, lease.index, format));
  if (failures.length || frameFailures.length) files.push(errorsFile(deps.workDir, lease.index, failures, frameFailures));
  return { itemsDone: done, itemsFailed: failures.length, failures, files, machineMs: Math.round(performance.now() - started) };
}

async function runVideo(
  name: string,
  segment: VideoItem["segment"],
  path: string,
  info: VideoInfo,
  job: JobRecord,
  plan: JobPlan,
  deps: VideoTaskDeps & { ffmpeg: string; videosDir: string },
  control: TaskControl,
  writeRow: (row: Record<string, unknown>) => void,
  frameFailures: { image: string; frame_number: number; code: string; message: string }[],
): Promise<{ files: TaskResult["files"] } | undefined> {
  const maxFps = job.options.maxVideoFps;
  const ratio = samplingRatio(info.fps, maxFps);
  const effectiveFps = ratio ? (info.fps * ratio.a) / ratio.b : info.fps;
  // Frames of the segment (or the whole video) and how many of them are to be processed.
  const first = segment ? Math.round(segment.start * info.fps) : 0;
  const last = segment ? Math.min(info.frameCount, Math.round(segment.end * info.fps)) : info.frameCount;
  let expected = 0;
  for (let n = 0; n < last - first; n++) if (isPicked(n, ratio)) expected++;
  const part = partSuffix(segment);
  const save = job.options.saveVideoOutputs;
  const encoders = new Map<string, VideoEncoder>();
  const summary: VideoSummary = {
    video: name,
    width: info.width,
    height: info.height,
    rotation: info.rotation,
    fps: info.fps,
    effective_fps: Math.round(effectiveFps * 1000) / 1000,
    duration_seconds: info.durationSeconds,
    frames_total: last - first,
    frames_processed: 0,
    frames_failed: 0,
    tracks: 0,
    counts: {},
    segment: segment ? { start_seconds: segment.start, end_seconds: segment.end, first_frame: first + 1, last_frame: last, tracker_state: "fresh at the segment's start" } : null,
    warnings: [],
  };
  const trackers = new Set<number>();
  // A fresh state for this video on this worker, whatever an earlier attempt left.
  deps.pool.endVideo(name);
  const frames = decodeFrames(path, name, info, { ffmpeg: deps.ffmpeg, maxFps, ...(segment ? { startSeconds: segment.start, durationSeconds: segment.end - segment.start } : {}) });
  const pending: { frameNumber: number; timestamp: number; run: Promise<RunResult | AppError> }[] = [];
  let decodeSummary: DecodeSummary | undefined;
  const send = async (): Promise<boolean> => {
    const next = await frames.next();
    if (next.done) {
      decodeSummary = next.value;
      return false;
    }
    const frame = next.value;
    const video: FrameMetadata = {
      video_identifier: name,
      frame_number: frame.frameNumber,
      frame_timestamp: new Date(Math.round(frame.timestamp * 1000)),
      fps: info.fps,
      comes_from_video_file: true,
    };
    const run = deps.pool
      .run({
        workflowKey: job.jobId,
        definition: plan.definition,
        models: plan.models,
        image: { name, raw: { data: frame.data, width: frame.width, height: frame.height }, video: { ...video, measured_fps: effectiveFps } as FrameMetadata },
        params: job.options.workflowParams,
        ...(save ? { returnPixels: true, imageOutputs: job.options.imageOutputsToSave, imagePrefix: `${name}/` } : {}),
      })
      .catch(itemError);
    // Awaited in turn below; marked handled now so a crash seen first by a later frame is not "unhandled".
    run.catch(() => undefined);
    pending.push({ frameNumber: frame.frameNumber, timestamp: frame.timestamp, run });
    return true;
  };
  try {
    let more = true;
    while (more && pending.length < IN_FLIGHT) more = await send();
    while (pending.length) {
      const { run, ...frame } = pending.shift()!;
      const outcome = await run;
      if (control.stopped()) return undefined;
      if (more) more = await send();
      if (outcome instanceof AppError) {
        summary.frames_failed++;
        frameFailures.push({ image: name, frame_number: frame.frameNumber, code: outcome.code, message: outcome.message });
        continue;
      }
      summary.frames_processed++;
      collectFacts(outcome.outputs, "", trackers, summary.counts);
      writeRow({ image: name, frame_number: frame.frameNumber, frame_timestamp: Math.round(frame.timestamp * 1000) / 1000, fps: info.fps, effective_fps: summary.effective_fps, ...outcome.outputs });
      for (const [output, px] of Object.entries(outcome.pixels ?? {})) {
        let encoder = encoders.get(output);
        if (!encoder) {
          mkdirSync(join(deps.videosDir, name), { recursive: true });
          encoder = new VideoEncoder(deps.ffmpeg, join(deps.videosDir, name, `${output}${part}.mp4`), px.width, px.height, effectiveFps);
          encoders.set(output, encoder);
        }
        await encoder.write(px.data, px.width, px.height);
      }
    }
    for (const encoder of encoders.values()) await encoder.close();
  } finally {
    for (const encoder of encoders.values()) encoder.abort();
    for (const p of pending) p.run.catch(() => undefined);
    await frames.return(undefined as never).catch(() => undefined);
    deps.pool.endVideo(name);
  }
  const decoded = decodeSummary?.frames ?? 0;
  summary.warnings = decodeSummary?.warnings ?? [];
  // Frames the container's duration promises: more than the stream holds means the file was cut short.
  const promised = Math.round(info.durationSeconds * info.fps);
  const cut = !segment && info.frameCount < promised - Math.max(2, promised * 0.02);
  if (decoded < expected || cut)
    frameFailures.push({
      image: name,
      frame_number: decoded ? summary.frames_processed + summary.frames_failed : 0,
      code: "VIDEO_TRUNCATED",
      message: cut
        ? `Video '${name}' is truncated or damaged: it holds ${info.frameCount} of the ${promised} frames its duration (${info.durationSeconds} s) promises; the frames up to the damage were processed${summary.warnings.length ? ` (ffmpeg: ${summary.warnings.at(-1)})` : ""}`
        : `Video '${name}' ended after ${decoded} of ${expected} frames to process${summary.warnings.length ? ` (ffmpeg: ${summary.warnings.at(-1)})` : ""}`,
    });
  summary.tracks = trackers.size;
  const summaryPath = join(deps.videosDir, name, `summary${part}.json`);
  mkdirSync(join(deps.videosDir, name), { recursive: true });
  writeFileSync(summaryPath, JSON.stringify(summary, null, 2) + "\n");
  const files: TaskResult["files"] = [{ part: "videos", name: `${name}/summary${part}.json`, tempPath: summaryPath, contentType: "application/json" }];
  for (const [output, encoder] of encoders)
    if (encoder.framesWritten > 0) files.push({ part: "videos", name: `${name}/${output}${part}.mp4`, tempPath: encoder.path, contentType: "video/mp4" });
  return { files };
}

/** Tracker ids and the latest count outputs (`count_in`, `count_out`, ...) found in a frame's outputs. */
function collectFacts(value: unknown, path: string, trackers: Set<number>, counts: Record<string, number>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectFacts(item, path, trackers, counts);
    return;
  }
  if (!value || typeof value !== "object") return;
  for (const [k, v] of Object.entries(value)) {
    const at = path ? `${path}.${k}` : k;
    if (k === "tracker_id" && typeof v === "number") trackers.add(v);
    else if (/^count_/.test(k) && typeof v === "number") counts[at] = v;
    else if (typeof v === "number" && /count/.test(at) && !path.includes("predictions")) counts[at] = v;
    else collectFacts(v, at, trackers, counts);
  }
}
