import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveFfmpeg } from "../../src/engine/ffmpeg.ts";
import { probeVideo } from "../../src/engine/video/probe.ts";
import type { RunningServer } from "../../src/server/main.ts";
import { jobsServer } from "./jobs-setup.ts";
import { runCli, tempDir } from "../helpers.ts";

/**
 * Video jobs end to end: a real server with local workers, the real CLI, a real detector, videos made by
 * ffmpeg's generators (and broken on purpose), outputs read back with ffmpeg.
 */
let server: RunningServer;
let ffmpeg = "";
const vbatch = (args: string[]) => runCli(args, { VBATCH_API_URL: server.url });
const lines = (path: string): any[] => readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));

async function make(dir: string, name: string, args: string[]): Promise<string> {
  const path = join(dir, name);
  const proc = Bun.spawn([ffmpeg, "-hide_banner", "-loglevel", "error", "-y", ...args, path], { stderr: "pipe" });
  if ((await proc.exited) !== 0) throw new Error(await new Response(proc.stderr).text());
  return path;
}

beforeAll(async () => {
  ffmpeg = (await resolveFfmpeg()).path!;
  ({ server } = await jobsServer());
});
afterAll(() => server.stop());

describe("video jobs", () => {
  test("frames sub-sampled, a row per processed frame, annotated MP4s, summaries; bad videos reported, the job goes on", async () => {
    const dir = tempDir();
    await make(dir, "a-pattern.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=30", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    // An upload cut short: its index (at the front) promises 60 frames, the data holds about 34.
    const cut = await make(dir, "b-cut.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart"]);
    truncateSync(cut, Math.floor((statSync(cut).size * 2) / 3));
    await make(dir, "d-audio.mp4", ["-f", "lavfi", "-i", "sine=frequency=440", "-t", "1", "-c:a", "aac"]);
    const staged = await vbatch(["data-staging", "create-batch-of-videos", "--videos-dir", dir, "--batch-id", "clips"]);
    expect(staged.code).toBe(0);
    // A file that is not a video, and an empty one, are refused at staging already, by name.
    const junk = tempDir();
    writeFileSync(join(junk, "c-notes.mp4"), "not a video\n".repeat(100));
    writeFileSync(join(junk, "e-empty.mp4"), "");
    const refused = await vbatch(["data-staging", "create-batch-of-videos", "--videos-dir", junk, "--batch-id", "junk", "--json"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("c-notes.mp4");
    expect(refused.stdout + refused.stderr).toContain("e-empty.mp4");

    const started = await vbatch(["batch-processing", "process-videos-with-workflow", "--workflow-id", "boxes", "--batch-id", "clips", "--job-id", "vid", "--max-video-fps", "5", "--save-video-outputs", "--json"]);
    expect(started.code).toBe(0);
    const watched = await vbatch(["batch-processing", "watch", "--job-id", "vid", "--interval", "0.2"]);
    expect(watched.code).toBe(0);
    const details = JSON.parse((await vbatch(["batch-processing", "show-job-details", "--job-id", "vid", "--json"])).stdout);
    expect(details.state).toBe("succeeded");

    const out = tempDir();
    expect((await vbatch(["data-staging", "export-batch", "--batch-id", "vid-export", "--target-dir", out])).code).toBe(0);
    const rows = lines(join(out, "results.jsonl"));
    const pattern = rows.filter((r) => r.image === "a-pattern.mp4");
    // 2 s at 30 fps, 5 kept a second: frames 1, 7, 13, …, in order, each with its facts.
    expect(pattern.map((r) => r.frame_number)).toEqual(Array.from({ length: 10 }, (_, i) => 1 + 6 * i));
    expect(pattern[1]).toMatchObject({ frame_timestamp: 0.2, fps: 30, effective_fps: 5, annotated: { type: "video", file: "a-pattern.mp4/annotated.mp4" } });
    expect(pattern[0].predictions.image).toEqual({ width: 160, height: 120 });
    const cutRows = rows.filter((r) => r.image === "b-cut.mp4");
    expect(cutRows.length).toBeGreaterThan(3);

    const errors = lines(join(out, "errors.jsonl"));
    const byVideo = Object.fromEntries(errors.map((e) => [e.image, e.code]));
    expect(byVideo).toMatchObject({ "d-audio.mp4": "VIDEO_NO_VIDEO_STREAM", "b-cut.mp4": "VIDEO_TRUNCATED" });
    expect(details.progress.stages[0]).toMatchObject({ itemsDone: 2, itemsFailed: 1 });

    const mp4 = join(out, "videos", "a-pattern.mp4", "annotated.mp4");
    const info = await probeVideo(mp4, "annotated.mp4", { ffmpeg, maxPixels: 1e8 });
    expect(info).toMatchObject({ codec: "h264", width: 160, height: 120, frameCount: 10, fps: 5 });
    const summary = JSON.parse(readFileSync(join(out, "videos", "a-pattern.mp4", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ video: "a-pattern.mp4", frames_total: 60, frames_processed: 10, effective_fps: 5 });
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.videos.map((v: any) => v.video).sort()).toEqual(["a-pattern.mp4", "b-cut.mp4"]);
    expect(manifest.counts.videoOutputs).toBe(2);
  }, 120_000);

  test("a long video runs as segments on several workers; rows, the annotated MP4 and the summary come back whole", async () => {
    const dir = tempDir();
    await make(dir, "long.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "6", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    expect((await vbatch(["data-staging", "create-batch-of-videos", "--videos-dir", dir, "--batch-id", "long"])).code).toBe(0);
    const started = await vbatch(["batch-processing", "process-videos-with-workflow", "--workflow-id", "boxes", "--batch-id", "long", "--job-id", "seg", "--video-segment-seconds", "2", "--save-video-outputs", "--json"]);
    expect(started.code).toBe(0);
    expect((await vbatch(["batch-processing", "watch", "--job-id", "seg", "--interval", "0.2"])).code).toBe(0);
    const details = JSON.parse((await vbatch(["batch-processing", "show-job-details", "--job-id", "seg", "--json"])).stdout);
    expect(details.progress.stages[0]).toMatchObject({ tasksTotal: 3, itemsDone: 3 });
    const out = tempDir();
    expect((await vbatch(["data-staging", "export-batch", "--batch-id", "seg-export", "--target-dir", out])).code).toBe(0);
    const rows = lines(join(out, "results.jsonl"));
    expect(rows.map((r) => r.frame_number)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1));
    expect(rows.every((r) => r.image === "long.mp4")).toBe(true);
    const info = await probeVideo(join(out, "videos", "long.mp4", "annotated.mp4"), "annotated.mp4", { ffmpeg, maxPixels: 1e8 });
    expect(info).toMatchObject({ width: 160, height: 120, frameCount: 60 });
    const summary = JSON.parse(readFileSync(join(out, "videos", "long.mp4", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ frames_processed: 60, frames_total: 60 });
    expect(summary.segments.map((s: any) => [s.first_frame, s.last_frame])).toEqual([[1, 20], [21, 40], [41, 60]]);
    const manifest = JSON.parse(readFileSync(join(out, "manifest.json"), "utf8"));
    expect(manifest.videos[0].note).toContain("afresh");
  }, 120_000);

  test("an engine thread dying mid-video: the task reruns and every frame's row is there once", async () => {
    const dir = tempDir();
    await make(dir, "walk.mp4", ["-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "4", "-c:v", "libx264", "-pix_fmt", "yuv420p"]);
    expect((await vbatch(["data-staging", "create-batch-of-videos", "--videos-dir", dir, "--batch-id", "walk"])).code).toBe(0);
    let crashed = false;
    const off = server.ctx.events.on("task:leased", () => {
      if (crashed) return;
      crashed = true;
      setTimeout(() => (server.workers!.crashEngineForTest(0), server.workers!.crashEngineForTest(1)), 300);
    });
    try {
      expect((await vbatch(["batch-processing", "process-videos-with-workflow", "--workflow-id", "boxes", "--batch-id", "walk", "--job-id", "walk-job"])).code).toBe(0);
      await vbatch(["batch-processing", "watch", "--job-id", "walk-job", "--interval", "0.2"]);
    } finally {
      off();
    }
    const details = JSON.parse((await vbatch(["batch-processing", "show-job-details", "--job-id", "walk-job", "--json"])).stdout);
    expect(details.state).toBe("succeeded");
    expect(crashed).toBe(true);
    const out = tempDir();
    expect((await vbatch(["data-staging", "export-batch", "--batch-id", "walk-job-export", "--target-dir", out])).code).toBe(0);
    expect(lines(join(out, "results.jsonl")).map((r) => r.frame_number)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
  }, 120_000);
});
