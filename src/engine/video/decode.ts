import { AppError } from "../../core/errors.ts";
import { lastError, type VideoInfo } from "./probe.ts";

/** One decoded frame: upright 8-bit RGB, with where it sits in the video. */
export interface DecodedFrame {
  /** 1-based number of the frame in the whole video. */
  frameNumber: number;
  /** Seconds from the start of the video. */
  timestamp: number;
  data: Uint8Array;
  width: number;
  height: number;
}

export interface DecodeOptions {
  ffmpeg: string;
  /** Frames per second to keep, picked evenly; every frame when unset or not below the video's rate. */
  maxFps?: number | null;
  /** A segment of the video: from this second ... */
  startSeconds?: number;
  /** ... for this many seconds. */
  durationSeconds?: number;
}

/** How the decode ended: frames read, and what ffmpeg said about damage it skipped or stopped at. */
export interface DecodeSummary {
  frames: number;
  /** ffmpeg's error lines (a truncated or damaged stream), at most 20. */
  warnings: string[];
}

/**
 * Which input frames a rate of `target` per second keeps from a video at `fps`: frame n (0-based) when
 * floor(n·target/fps) steps up — 30 fps at 5 keeps every 6th, 25 at 10 keeps 2 of every 5. The same integer
 * arithmetic runs in ffmpeg's select filter and here, so both agree on every frame.
 */
export function samplingRatio(fps: number, maxFps: number | null | undefined): { a: number; b: number } | undefined {
  if (!maxFps || maxFps >= fps) return undefined;
  return { a: Math.round(maxFps * 1000), b: Math.round(fps * 1000) };
}

export function isPicked(n: number, ratio: { a: number; b: number } | undefined): boolean {
  if (!ratio) return true;
  return Math.floor((n * ratio.a) / ratio.b) - Math.floor(((n - 1) * ratio.a) / ratio.b) >= 1;
}

/**
 * Decodes a video with ffmpeg as a stream of raw RGB frames, one frame in memory at a time (ffmpeg waits
 * while a frame is being used). With `maxFps`, frames are picked by ffmpeg's `select` filter before the
 * conversion to RGB, so frames not picked are neither converted nor sent. Every picked frame comes, in order
 * (`-vsync passthrough`: variable frame rates are neither padded nor thinned). Rotated phone videos come
 * upright (ffmpeg applies the rotation). Timestamps: n / fps at a constant rate; at a variable rate, the
 * frames' own, read from ffmpeg's `showinfo` filter (which costs a checksum per frame, so only then).
 *
 * A damaged stream yields the frames before the damage and ends with its warnings in the summary; ffmpeg
 * exiting non-zero throws VIDEO_DECODE_FAILED with its message.
 */
export async function* decodeFrames(path: string, name: string, info: VideoInfo, opts: DecodeOptions): AsyncGenerator<DecodedFrame, DecodeSummary> {
  const ratio = samplingRatio(info.fps, opts.maxFps);
  const start = opts.startSeconds ?? 0;
  const firstFrame = Math.round(start * info.fps);
  const filters = [...(ratio ? [`select='gte(floor(n*${ratio.a}/${ratio.b})-floor((n-1)*${ratio.a}/${ratio.b})\\,1)'`] : []), ...(info.constantRate ? [] : ["showinfo"])];
  const args = [
    opts.ffmpeg,
    "-hide_banner",
    "-nostdin",
    "-loglevel",
    "info",
    ...(start > 0 ? ["-ss", String(start)] : []),
    "-i",
    path,
    ...(opts.durationSeconds ? ["-t", String(opts.durationSeconds)] : []),
    "-map",
    "0:v:0",
    ...(filters.length ? ["-vf", filters.join(",")] : []),
    "-vsync",
    "passthrough",
    "-f",
    "rawvideo",
    "-pix_fmt",
    "rgb24",
    "-",
  ];
  const proc = Bun.spawn(args, { stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const log = readLog(proc.stderr);
  const frameSize = info.width * info.height * 3;
  let frame = new Uint8Array(frameSize);
  let filled = 0;
  let count = 0;
  // Input frame numbers (0-based from the segment's start) of the picked frames, in order.
  let n = 0;
  const nextPicked = () => {
    while (!isPicked(n, ratio)) n++;
    return n++;
  };
  try {
    for await (const chunk of proc.stdout as unknown as AsyncIterable<Uint8Array>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameSize - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameSize) {
          const index = nextPicked();
          const timestamp = info.constantRate ? (firstFrame + index) / info.fps : ((await log.timestamp(count)) ?? (firstFrame + index) / info.fps);
          count++;
          yield { frameNumber: firstFrame + index + 1, timestamp, data: frame, width: info.width, height: info.height };
          frame = new Uint8Array(frameSize);
          filled = 0;
        }
      }
    }
    const code = await proc.exited;
    const warnings = log.errors();
    if (code !== 0)
      throw new AppError("VIDEO_DECODE_FAILED", `ffmpeg failed on '${name}' after ${count} frames (exit ${code}): ${warnings.at(-1) ?? lastError(log.text())}`, 500, {
        video: name,
        frames: count,
        exitCode: code,
      });
    return { frames: count, warnings };
  } finally {
    if (proc.exitCode === null) proc.kill();
  }
}

/** ffmpeg's log as it comes: frame timestamps from `showinfo`, error lines kept apart. */
function readLog(stream: ReadableStream<Uint8Array>) {
  const times: number[] = [];
  const errors: string[] = [];
  let all = "";
  let rest = "";
  let ended = false;
  let waiting: (() => void) | undefined;
  void (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      rest += decoder.decode(chunk, { stream: true });
      const lines = rest.split(/\r?\n|\r/);
      rest = lines.pop() ?? "";
      for (const line of lines) {
        const t = /Parsed_showinfo.* n:\s*\d+ .*pts_time:\s*(-?[\d.]+)/.exec(line);
        if (t) times.push(Number(t[1]));
        else if (/error|invalid|corrupt|truncat|missing|concealing/i.test(line) && !/^\s*(Stream|Input|Output)/.test(line)) {
          if (errors.length < 20) errors.push(line.replace(/^\[[^\]]*\]\s*/, "").trim());
        } else if (all.length < 16_384) all += line + "\n";
      }
      waiting?.();
    }
    ended = true;
    waiting?.();
  })();
  return {
    /** The timestamp of the i-th frame written, waiting for its log line (undefined if it never comes). */
    async timestamp(i: number): Promise<number | undefined> {
      while (times.length <= i && !ended) await new Promise<void>((r) => (waiting = r));
      return times[i];
    },
    errors: () => errors,
    text: () => all + rest,
  };
}
