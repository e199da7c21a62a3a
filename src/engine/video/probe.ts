import { statSync } from "node:fs";
import { AppError } from "../../core/errors.ts";

/** What a video is, read by ffmpeg before any frame is decoded. Sizes are upright (rotation applied). */
export interface VideoInfo {
  codec: string;
  width: number;
  height: number;
  /** Degrees clockwise the stored frames are turned to be shown upright (0, 90, 180, 270). */
  rotation: number;
  /** The frame rate the stream declares; for a variable rate, its average (frames / duration). */
  fps: number;
  /** The stream declares a frame rate (frame n is at n / fps); else its rate varies. */
  constantRate: boolean;
  /** Seconds; 0 when the container does not say. */
  durationSeconds: number;
  /** Frames stored in the file's video stream (counted from its packets, without decoding). */
  frameCount: number;
  hasAudio: boolean;
}

export interface ProbeOptions {
  ffmpeg: string;
  /** Largest width × height accepted. */
  maxPixels: number;
}

/**
 * Probes a video with ffmpeg alone (no ffprobe needed): the stream facts from `ffmpeg -i`, then the frame
 * count from a copy of the stream to nowhere, which reads packets and decodes nothing. Errors name the file:
 * VIDEO_EMPTY (0 bytes, or no frames), VIDEO_INVALID (not a video ffmpeg can read), VIDEO_NO_VIDEO_STREAM
 * (audio only, ...), VIDEO_TOO_LARGE (over the pixel limit).
 */
export async function probeVideo(path: string, name: string, opts: ProbeOptions): Promise<VideoInfo> {
  if (statSync(path).size === 0) throw new AppError("VIDEO_EMPTY", `Video '${name}' is empty (0 bytes)`, 422, { video: name });
  const header = await ffmpegStderr(opts.ffmpeg, ["-hide_banner", "-nostdin", "-i", path]);
  const stream = /Stream #\d+:\d+[^:]*: Video: ([^\s,]+)[^\n]*?, (\d{1,6})x(\d{1,6})/.exec(header);
  if (!stream) {
    if (/Stream #\d+:\d+[^:]*: (Audio|Subtitle|Data):/.test(header))
      throw new AppError("VIDEO_NO_VIDEO_STREAM", `'${name}' has no video stream (only ${[...new Set([...header.matchAll(/: (Audio|Subtitle|Data):/g)].map((m) => m[1]!.toLowerCase()))].join(", ")})`, 422, { video: name });
    throw new AppError("VIDEO_INVALID", `'${name}' is not a video ffmpeg can read: ${lastError(header)}`, 422, { video: name });
  }
  const line = header.slice(stream.index).split("\n")[0]!;
  const declaredFps = Number(/([\d.]+) fps/.exec(line)?.[1] ?? 0);
  const rotation = readRotation(header);
  let width = Number(stream[2]);
  let height = Number(stream[3]);
  if (rotation === 90 || rotation === 270) [width, height] = [height, width];
  if (width * height > opts.maxPixels)
    throw new AppError("VIDEO_TOO_LARGE", `Video '${name}' is ${width}x${height} pixels a frame, over the limit of ${opts.maxPixels} pixels`, 422, {
      video: name,
      width,
      height,
      maxPixels: opts.maxPixels,
    });
  const durationSeconds = durationOf(header);
  const counted = await ffmpegStderr(opts.ffmpeg, ["-hide_banner", "-nostdin", "-i", path, "-map", "0:v:0", "-c", "copy", "-f", "null", "-"]);
  const frames = [...counted.matchAll(/frame=\s*(\d+)/g)].at(-1);
  const frameCount = frames ? Number(frames[1]) : 0;
  if (frameCount === 0) throw new AppError("VIDEO_EMPTY", `Video '${name}' has no frames`, 422, { video: name });
  // A variable frame rate stream declares no rate (only a time base): its average rate stands for it.
  const average = durationSeconds > 0 ? Math.round((frameCount / durationSeconds) * 1000) / 1000 : 0;
  const fps = declaredFps > 0 ? declaredFps : average > 0 ? average : Number(/([\d.]+) tbr/.exec(line)?.[1] ?? 25);
  return { codec: stream[1]!, width, height, rotation, fps, constantRate: declaredFps > 0, durationSeconds, frameCount, hasAudio: /: Audio:/.test(header) };
}

/** A video's duration in seconds from its header alone (0 when unknown or not a video). */
export async function probeDuration(ffmpeg: string, path: string): Promise<number> {
  const header = await ffmpegStderr(ffmpeg, ["-hide_banner", "-nostdin", "-i", path]);
  return /: Video: /.test(header) ? durationOf(header) : 0;
}

/** The container's duration in seconds from ffmpeg's `Duration: HH:MM:SS.ss` line (0 when it says N/A). */
function durationOf(header: string): number {
  const d = /Duration: (\d+):(\d+):([\d.]+)/.exec(header);
  return d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : 0;
}

/** Rotation as clockwise degrees in 0..359, from the stream's `rotate` tag or its display matrix. */
function readRotation(header: string): number {
  const tag = /^\s*rotate\s*:\s*(-?\d+)/m.exec(header);
  // The display matrix states the counter-clockwise turn that shows the frame upright.
  const matrix = /rotation of (-?[\d.]+) degrees/.exec(header);
  const degrees = tag ? Number(tag[1]) : matrix ? -Number(matrix[1]) : 0;
  return ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
}

async function ffmpegStderr(ffmpeg: string, args: string[]): Promise<string> {
  const proc = Bun.spawn([ffmpeg, ...args], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
  const text = await new Response(proc.stderr).text();
  await proc.exited;
  return text;
}

/** The last line of ffmpeg's output that says what went wrong. */
export function lastError(stderr: string): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !/^(Input|Output|Stream|Metadata|Duration|At least one output|frame=|video:|Press \[q\])/.test(l));
  return lines.at(-1) ?? "ffmpeg gave no reason";
}
