import { beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, truncateSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveFfmpeg } from "../../src/engine/ffmpeg.ts";
import { decodeFrames, isPicked, samplingRatio, type DecodedFrame, type DecodeSummary } from "../../src/engine/video/decode.ts";
import { VideoEncoder } from "../../src/engine/video/encode.ts";
import { probeVideo } from "../../src/engine/video/probe.ts";
import { shared, tempDir } from "../helpers.ts";

let ffmpeg = "";
let dir = "";

/** Makes a small test video with ffmpeg's own generators. */
async function make(name: string, args: string[]): Promise<string> {
  const path = join(dir, name);
  const proc = Bun.spawn([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", ...args, path], { stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(await new Response(proc.stderr).text());
  return path;
}

async function decodeAll(path: string, maxFps?: number, ff = ffmpeg): Promise<{ frames: Omit<DecodedFrame, "data">[]; summary: DecodeSummary }> {
  const info = await probeVideo(path, "v", { ffmpeg: ff, maxPixels: 1e8 });
  const gen = decodeFrames(path, "v", info, { ffmpeg: ff, maxFps });
  const frames: Omit<DecodedFrame, "data">[] = [];
  for (;;) {
    const r = await gen.next();
    if (r.done) return { frames, summary: r.value };
    expect(r.value.data.length).toBe(r.value.width * r.value.height * 3);
    frames.push({ frameNumber: r.value.frameNumber, timestamp: r.value.timestamp, width: r.value.width, height: r.value.height });
  }
}

beforeAll(async () => {
  ffmpeg = (await resolveFfmpeg()).path!;
  dir = tempDir("vbatch-video-");
});

describe("video probe, decode and encode", () => {
  test("probe reads size, rate, duration and the exact frame count of the real video", async () => {
    const info = await probeVideo(shared("media/vtest.avi"), "vtest.avi", { ffmpeg, maxPixels: 1e8 });
    expect(info).toMatchObject({ width: 768, height: 576, fps: 10, frameCount: 795, rotation: 0, hasAudio: false });
    expect(info.durationSeconds).toBeCloseTo(79.5, 1);
  });

  test("every frame, in order, at full rate; 30 fps at 5 keeps every 6th frame", async () => {
    const path = await make("cfr.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=30", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    const all = await decodeAll(path);
    expect(all.frames.map((f) => f.frameNumber)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(all.frames[30]!.timestamp).toBeCloseTo(1, 3);
    const five = await decodeAll(path, 5);
    expect(five.frames.map((f) => f.frameNumber)).toEqual([1, 7, 13, 19, 25, 31, 37, 43, 49, 55]);
    expect(five.frames.map((f) => f.timestamp)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1, 1.2, 1.4, 1.6, 1.8]);
  });

  test("an uneven ratio picks evenly (25 fps at 10 keeps 2 of every 5), the same frames ffmpeg picks", () => {
    const ratio = samplingRatio(25, 10);
    const picked = Array.from({ length: 10 }, (_, n) => n).filter((n) => isPicked(n, ratio));
    expect(picked).toEqual([0, 3, 5, 8]);
    expect(samplingRatio(10, 30)).toBeUndefined();
  });

  test("a variable frame rate video: no frame dropped or repeated, its own timestamps", async () => {
    // 1 s at 10 fps then 1 s at 25 fps, kept variable in a millisecond time base.
    const graph = "testsrc=size=64x48:rate=10:duration=1,settb=1/1000[a];testsrc=size=64x48:rate=25:duration=1,settb=1/1000[b];[a][b]concat=n=2:v=1[out]";
    const path = await make("vfr.mkv", ["-filter_complex", graph, "-map", "[out]", "-vsync", "vfr", "-r", "1000", "-c:v", "libx264"]);
    const info = await probeVideo(path, "vfr.mkv", { ffmpeg, maxPixels: 1e8 });
    expect(info.frameCount).toBe(35);
    expect(info.fps).toBeCloseTo(35 / info.durationSeconds, 2);
    const { frames } = await decodeAll(path);
    expect(frames.map((f) => f.frameNumber)).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect(frames[9]!.timestamp).toBeCloseTo(0.9, 3);
    expect(frames[10]!.timestamp).toBeCloseTo(1.0, 3);
    expect(frames[11]!.timestamp).toBeCloseTo(1.04, 3);
  });

  test("a rotated phone video comes upright: sizes swapped in the probe and in every frame", async () => {
    const plain = await make("flat.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    const rotated = join(dir, "rotated.mp4");
    const proc = Bun.spawn([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", "-i", plain, "-c", "copy", "-metadata:s:v:0", "rotate=90", rotated]);
    expect(await proc.exited).toBe(0);
    const info = await probeVideo(rotated, "rotated.mp4", { ffmpeg, maxPixels: 1e8 });
    expect([90, 270]).toContain(info.rotation);
    expect([info.width, info.height]).toEqual([48, 64]);
    const { frames } = await decodeAll(rotated);
    expect(frames.length).toBe(10);
    expect(frames.every((f) => f.width === 48 && f.height === 64)).toBe(true);
  });

  test("bad files are refused by name: empty, not a video, audio only, over the pixel limit, no frames", async () => {
    const empty = join(dir, "empty.mp4");
    writeFileSync(empty, "");
    await expect(probeVideo(empty, "empty.mp4", { ffmpeg, maxPixels: 1e8 })).rejects.toMatchObject({ code: "VIDEO_EMPTY" });
    const text = join(dir, "notes.mp4");
    writeFileSync(text, "this is not a video at all\n".repeat(50));
    await expect(probeVideo(text, "notes.mp4", { ffmpeg, maxPixels: 1e8 })).rejects.toMatchObject({ code: "VIDEO_INVALID", message: expect.stringContaining("notes.mp4") });
    const audio = await make("audio.m4a", ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac"]);
    await expect(probeVideo(audio, "audio.m4a", { ffmpeg, maxPixels: 1e8 })).rejects.toMatchObject({ code: "VIDEO_NO_VIDEO_STREAM", message: expect.stringContaining("audio") });
    const cfr = await make("small.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "1", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    await expect(probeVideo(cfr, "small.mp4", { ffmpeg, maxPixels: 1000 })).rejects.toMatchObject({ code: "VIDEO_TOO_LARGE", details: { width: 64, height: 48 } });
    const zero = await make("zero.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-frames:v", "0", "-c:v", "libx264", "-pix_fmt", "yuv420p"]).catch(() => undefined);
    if (zero && statSync(zero).size > 0) await expect(probeVideo(zero, "zero.mp4", { ffmpeg, maxPixels: 1e8 })).rejects.toMatchObject({ code: expect.stringMatching(/VIDEO_EMPTY|VIDEO_INVALID|VIDEO_NO_VIDEO_STREAM/) });
  });

  test("a truncated video gives the frames before the damage", async () => {
    const path = await make("cut.avi", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "6", "-c:v", "mjpeg", "-q:v", "3"]);
    truncateSync(path, Math.floor(statSync(path).size / 2));
    const info = await probeVideo(path, "cut.avi", { ffmpeg, maxPixels: 1e8 });
    const { frames } = await decodeAll(path);
    expect(frames.length).toBeGreaterThan(5);
    expect(frames.length).toBeLessThan(60);
    expect(frames.map((f) => f.frameNumber)).toEqual(Array.from({ length: frames.length }, (_, i) => i + 1));
    expect(info.frameCount).toBeGreaterThanOrEqual(frames.length);
  });

  test("ffmpeg exiting non-zero mid-stream fails the decode with its message", async () => {
    const path = await make("ok.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10", "-t", "3", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    // A wrapper that lets ffmpeg decode 5 frames, then says why it stops and exits 1, as a crash would.
    const fake = join(dir, "failing-ffmpeg.sh");
    writeFileSync(
      fake,
      `#!/bin/bash\ncase "$*" in *rawvideo*) args=("$@"); unset 'args[\${#args[@]}-1]'; "${ffmpeg}" "\${args[@]}" -frames:v 5 -; echo "Error while decoding stream #0:0: disk on fire" >&2; exit 1;; *) exec "${ffmpeg}" "$@";; esac\n`,
    );
    chmodSync(fake, 0o755);
    const err = await decodeAll(path, undefined, fake).then(() => undefined, (e) => e);
    expect(err).toMatchObject({ code: "VIDEO_DECODE_FAILED", message: expect.stringContaining("disk on fire") });
    expect(err.details.frames).toBe(5);
  });

  test("the encoder writes an H.264 MP4 that ffmpeg reads back with the frame count and (even) size", async () => {
    const out = join(dir, "out.mp4");
    const enc = new VideoEncoder(ffmpeg, out, 63, 47, 5);
    for (let i = 0; i < 12; i++) await enc.write(new Uint8Array(63 * 47 * 3).fill(i * 20), 63, 47);
    await enc.close();
    const info = await probeVideo(out, "out.mp4", { ffmpeg, maxPixels: 1e8 });
    expect(info).toMatchObject({ codec: "h264", width: 64, height: 48, fps: 5, frameCount: 12 });
  });
});
