/**
 * `bun run bench video`: video decoding and video jobs, each against a baseline measured in the same run.
 *
 * 1. Decode: `decodeFrames` (ffmpeg → raw RGB frames in the engine's format, every frame) on vtest.avi vs
 *    `ffmpeg -f null` decoding the same file. Alternating rounds, medians. Target: at least 0.8.
 * 2. Sub-sampling: a job on vtest.avi at `--max-video-fps 2` (YOLOv8n-320 detector) vs processed frames ×
 *    the per-frame time of the same workflow on the same engine (frames sent straight to an engine worker).
 *    Target: at most 1.2 — skipped frames cost almost nothing.
 * 3. Memory: a generated video of `--hours` (1) hour(s) (testsrc, 160x120, 2 fps) through a detector +
 *    ByteTrack workflow at `--max-video-fps 1` on a server in its own process; the server's RSS in the first
 *    and in the last minute of processing. Target: growth under 50 MB.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ApiClient } from "../src/cli/client.ts";
import { ensureBatch, scanMediaFiles, uploadFiles } from "../src/cli/staging/upload.ts";
import { resolveConfig } from "../src/core/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { resolveFfmpeg } from "../src/engine/ffmpeg.ts";
import { EnginePool } from "../src/engine/parallel/pool.ts";
import { decodeFrames } from "../src/engine/video/decode.ts";
import { probeVideo } from "../src/engine/video/probe.ts";
import { startServer } from "../src/server/main.ts";
import { freePort, rssOf } from "./lib/processes.ts";

const ROOT = resolve(import.meta.dir, "..");
const SHARED = resolve(ROOT, "../shared");
const VTEST = join(SHARED, "media/vtest.avi");

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / 1000;
}

async function decodeBench(ffmpeg: string): Promise<boolean> {
  const info = await probeVideo(VTEST, "vtest.avi", { ffmpeg, maxPixels: 1e8 });
  const ours: number[] = [];
  const plain: number[] = [];
  const rgb: number[] = [];
  const ffmpegAlone = (args: string[]) => timed(async () => {
    const p = Bun.spawn([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-i", VTEST, "-map", "0:v:0", ...args]);
    await p.exited;
  });
  for (let round = 0; round < 3; round++) {
    plain.push(await ffmpegAlone(["-f", "null", "-"]));
    rgb.push(await ffmpegAlone(["-pix_fmt", "rgb24", "-f", "rawvideo", "-y", "/dev/null"]));
    ours.push(await timed(async () => {
      let n = 0;
      for await (const _ of decodeFrames(VTEST, "vtest.avi", info, { ffmpeg })) n++;
      if (n !== info.frameCount) throw new Error(`decoded ${n} of ${info.frameCount} frames`);
    }));
  }
  const ratio = median(plain) / median(ours);
  console.log(`decoding vtest.avi (${info.frameCount} frames, ${info.width}x${info.height}), medians of 3`);
  console.log(`  ffmpeg -f null:            ${median(plain).toFixed(2)} s`);
  console.log(`  ffmpeg to RGB, /dev/null:  ${median(rgb).toFixed(2)} s (the colour conversion alone; no pipe)`);
  console.log(`  decodeFrames (RGB frames): ${median(ours).toFixed(2)} s = ${ratio.toFixed(2)} of ffmpeg -f null (target ≥ 0.8) ${ratio >= 0.8 ? "OK" : "UNDER"}; ${(median(rgb) / median(ours)).toFixed(2)} of ffmpeg's own RGB output`);
  return ratio >= 0.8;
}

function detectWorkflow(model: string, tracker: boolean) {
  return {
    version: "1.0",
    inputs: [{ type: "WorkflowImage", name: "image" }],
    steps: [
      { type: "roboflow_core/roboflow_object_detection_model@v2", name: "detector", images: "$inputs.image", model_id: model },
      ...(tracker ? [{ type: "roboflow_core/byte_tracker@v3", name: "tracker", image: "$inputs.image", detections: "$steps.detector.predictions" }] : []),
    ],
    outputs: [{ type: "JsonField", name: "predictions", selector: tracker ? "$steps.tracker.tracked_detections" : "$steps.detector.predictions" }],
  };
}

async function register(url: string, modelId: string, file: string, workflowId: string, definition: unknown): Promise<void> {
  const form = new FormData();
  form.append("modelId", modelId);
  form.append("classes", readFileSync(join(SHARED, "models/coco80.txt"), "utf8"));
  form.append("file", new Blob([readFileSync(join(SHARED, "models", file))]), `${modelId}.onnx`);
  const res = await fetch(`${url}/api/v1/models`, { method: "POST", body: form });
  if (!res.ok && res.status !== 409) throw new Error(`model: ${await res.text()}`);
  const wf = await fetch(`${url}/api/v1/workflows`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ workflowId, definition }) });
  if (!wf.ok) throw new Error(`workflow: ${await wf.text()}`);
}

async function stageVideo(url: string, batchId: string, dir: string): Promise<void> {
  const client = new ApiClient(url, undefined);
  await ensureBatch(client, batchId, "videos");
  await uploadFiles(client, scanMediaFiles(dir, "videos", false), { batchId, overwrite: false });
}

async function waitJob(url: string, jobId: string, onPoll?: () => void): Promise<any> {
  for (;;) {
    const job = (await (await fetch(`${url}/api/v1/jobs/${jobId}`)).json()) as any;
    if (["succeeded", "failed", "aborted"].includes(job.state)) return job;
    onPoll?.();
    await Bun.sleep(200);
  }
}

async function subsamplingBench(work: string, ffmpeg: string): Promise<boolean> {
  const server = await startServer(resolveConfig({ flags: { port: 0, dataDir: join(work, "data"), workers: 1, logLevel: "error" }, env: {} }), { log: silentLogger });
  try {
    const definition = detectWorkflow("yolov8n-320", false);
    await register(server.url, "yolov8n-320", "yolov8n-320-int8.onnx", "detect", definition);
    const dir = join(work, "video");
    require("node:fs").mkdirSync(dir);
    require("node:fs").symlinkSync(VTEST, join(dir, "vtest.avi"));
    await stageVideo(server.url, "vtest", dir);

    // The per-frame time of the workflow on an engine worker, frames sent one after another as a task does.
    const model = server.ctx.store.getModel("yolov8n-320")!;
    const models = { "yolov8n-320": { info: JSON.parse(model.infoJson), path: join(server.ctx.staging.modelsDir, `${model.sha256}.onnx`) } };
    const pool = await EnginePool.start({ workers: 1 });
    const info = await probeVideo(VTEST, "vtest.avi", { ffmpeg, maxPixels: 1e8 });
    const frames: Uint8Array[] = [];
    for await (const f of decodeFrames(VTEST, "vtest.avi", info, { ffmpeg, maxFps: 2 })) if (frames.push(f.data) >= 48) break;
    const run = (data: Uint8Array) => pool.run({ workflowKey: "w", definition, models, image: { name: "f", raw: { data, width: info.width, height: info.height } }, params: {} });
    for (const f of frames.slice(0, 8)) await run(f);
    const perFrame = (await timed(async () => {
      for (const f of frames.slice(8)) await run(f);
    })) / (frames.length - 8);
    await pool.close();

    const t0 = performance.now();
    const created = await fetch(`${server.url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "fps2", type: "videos", workflowId: "detect", batchId: "vtest", options: { maxVideoFps: 2 } }) });
    if (!created.ok) throw new Error(await created.text());
    const job = await waitJob(server.url, "fps2");
    if (job.state !== "succeeded") throw new Error(`job ${job.state}: ${job.error}`);
    // Machine time of the whole job (the video's task, and the export after it): slightly against us.
    const seconds: number = job.progress.machineSeconds;
    const processed = Math.floor((info.frameCount - 1) / 5) + 1;
    const ratio = seconds / (processed * perFrame);
    console.log(`vtest.avi (${info.frameCount} frames at ${info.fps} fps) at --max-video-fps 2: ${processed} frames processed`);
    console.log(`  per-frame workflow time (YOLOv8n-320, engine worker): ${(perFrame * 1000).toFixed(1)} ms → ${(processed * perFrame).toFixed(1)} s for the processed frames`);
    console.log(`  the job's machine time: ${seconds.toFixed(1)} s (wall ${((performance.now() - t0) / 1000).toFixed(1)} s) = ${ratio.toFixed(2)}x (target ≤ 1.2) ${ratio <= 1.2 ? "OK" : "OVER"}`);
    return ratio <= 1.2;
  } finally {
    await server.stop();
  }
}


async function memoryBench(work: string, ffmpeg: string, hours: number): Promise<boolean> {
  const dir = join(work, "long");
  require("node:fs").mkdirSync(dir);
  const seconds = Math.round(hours * 3600);
  process.stderr.write(`generating a ${seconds} s video ...\n`);
  const gen = Bun.spawn([ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc=size=160x120:rate=2:duration=${seconds}`, "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", join(dir, "long.mp4")]);
  if ((await gen.exited) !== 0) throw new Error("could not generate the video");
  const port = await freePort();
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "serve", "--port", String(port), "--data-dir", join(work, "long-data"), "--workers", "1", "--log-level", "error"], { stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(100);
    await register(url, "yolox-nano", "yolox-nano-416.onnx", "track", detectWorkflow("yolox-nano", true));
    await stageVideo(url, "long", dir);
    const samples: { t: number; rss: number }[] = [];
    const t0 = performance.now();
    const created = await fetch(`${url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "long", type: "videos", workflowId: "track", batchId: "long", options: { maxVideoFps: 1 } }) });
    if (!created.ok) throw new Error(await created.text());
    const job = await waitJob(url, "long", () => {
      samples.push({ t: (performance.now() - t0) / 1000, rss: rssOf(proc.pid) });
    });
    if (job.state !== "succeeded") throw new Error(`job ${job.state}: ${job.error}`);
    const end = samples.at(-1)!.t;
    // The first and the last minute; a quarter of the run each when it is shorter than 4 minutes.
    const window = Math.min(60, end / 4);
    const first = samples.filter((s) => s.t <= window);
    const last = samples.filter((s) => s.t >= end - window);
    const mb = (xs: { rss: number }[]) => Math.max(...xs.map((s) => s.rss)) / 1048576;
    const growth = mb(last) - mb(first);
    console.log(`a ${seconds} s generated video (160x120, 2 fps) at --max-video-fps 1, YOLOX-nano + ByteTrack, server in its own process, 1 worker`);
    console.log(`  processed in ${end.toFixed(0)} s; server RSS peak in the first ${window.toFixed(0)} s ${mb(first).toFixed(0)} MB, in the last ${window.toFixed(0)} s ${mb(last).toFixed(0)} MB`);
    console.log(`  growth ${growth.toFixed(1)} MB (target < 50 MB) ${growth < 50 ? "OK" : "OVER"}`);
    return growth < 50;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

export async function benchVideo(hours: number): Promise<boolean> {
  const ffmpeg = (await resolveFfmpeg()).path;
  if (!ffmpeg) throw new Error("no ffmpeg");
  const work = mkdtempSync(join(tmpdir(), "vbatch-bench-video-"));
  try {
    const a = await decodeBench(ffmpeg);
    const b = await subsamplingBench(work, ffmpeg);
    const c = hours > 0 ? await memoryBench(work, ffmpeg, hours) : true;
    return a && b && c;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

