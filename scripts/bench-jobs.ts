/**
 * `bun run bench jobs`: batch jobs against the engine alone, measured in one run.
 *
 * 1. Throughput: a 1,000-image job of the YOLOv8n-640 detector on 2 local workers vs the engine alone (an
 *    EnginePool of 2 workers, the same total threads) over the same files. Target: ≥ 0.9.
 * 2. Job start (create → first task leased) under 1 s; scheduler overhead per task (a worker's gap between
 *    finishing one task and holding the next, which covers completion and the next lease) under 50 ms.
 * 3. A 100,000-image batch of tiny images on a server in its own process: job creation under 5 s, server RSS
 *    under 400 MB while the first 2,000 images are processed, `show-job-details` under 200 ms.
 *    `BENCH_TRACE=1` prints images done, server RSS and the main thread's heap at each poll.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import sharp from "sharp";
import { ApiClient } from "../src/cli/client.ts";
import { ensureBatch, scanMediaFiles, uploadFiles } from "../src/cli/staging/upload.ts";
import { resolveConfig } from "../src/core/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { EnginePool } from "../src/engine/parallel/pool.ts";
import { startServer } from "../src/server/main.ts";
import { freePort, rssOf } from "./lib/processes.ts";

const ROOT = resolve(import.meta.dir, "..");
const SHARED = resolve(ROOT, "../shared");
const PHOTOS = ["messi5.jpg", "basketball1.png", "fruits.jpg", "imageTextN.png"];

const DETECT = JSON.parse(readFileSync(join(ROOT, "examples/workflows/detect.json"), "utf8"));

/** `count` files cycling through the real photos. */
function photoFolder(dir: string, count: number): void {
  const bytes = PHOTOS.map((p) => readFileSync(join(SHARED, "media", p)));
  for (let i = 0; i < count; i++) writeFileSync(join(dir, `${String(i).padStart(6, "0")}-${PHOTOS[i % 4]}`), bytes[i % 4]!);
}

async function registerDetector(url: string): Promise<void> {
  const form = new FormData();
  form.append("modelId", "yolov8n-640");
  form.append("classes", readFileSync(join(SHARED, "models/coco80.txt"), "utf8"));
  form.append("file", new Blob([readFileSync(join(SHARED, "models/yolov8n-640-int8.onnx"))]), "yolov8n-640.onnx");
  const res = await fetch(`${url}/api/v1/models`, { method: "POST", body: form });
  if (!res.ok) throw new Error(`model: ${await res.text()}`);
  const wf = await fetch(`${url}/api/v1/workflows`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ workflowId: "detect", definition: DETECT }) });
  if (!wf.ok) throw new Error(`workflow: ${await wf.text()}`);
}

async function jobThroughput(work: string, count: number): Promise<boolean> {
  const photos = join(work, "photos");
  require("node:fs").mkdirSync(photos);
  photoFolder(photos, count);
  const server = await startServer(resolveConfig({ flags: { port: 0, dataDir: join(work, "data"), workers: 2, logLevel: "error" }, env: {} }), { log: silentLogger });
  try {
    await registerDetector(server.url);
    const client = new ApiClient(server.url, undefined);
    await ensureBatch(client, "bench", "images");
    await uploadFiles(client, scanMediaFiles(photos, "images", false), { batchId: "bench", overwrite: false });

    // The engine alone: the same files through a pool of the same size, same workflow and models.
    const models = { "yolov8n-640": { info: JSON.parse(server.ctx.store.getModel("yolov8n-640")!.infoJson), path: join(server.ctx.staging.modelsDir, `${server.ctx.store.getModel("yolov8n-640")!.sha256}.onnx`) } };
    const pool = await EnginePool.start({ workers: 2 });
    const files = scanMediaFiles(photos, "images", false);
    await Promise.all(files.slice(0, 8).map((f) => pool.run({ workflowKey: "w", definition: DETECT, models, image: { name: f.name, path: f.path }, params: {} })));
    let t0 = performance.now();
    await Promise.all(files.map((f) => pool.run({ workflowKey: "w", definition: DETECT, models, image: { name: f.name, path: f.path }, params: {} })));
    const engineRate = count / ((performance.now() - t0) / 1000);
    await pool.close();

    // The job: timings from the scheduler's events.
    const leasedAt = new Map<string, number>();
    const gaps: number[] = [];
    const lastDoneBy = new Map<string, number>();
    let firstLease = 0;
    server.ctx.events.on("task:leased", (e) => {
      const now = performance.now();
      firstLease ||= now;
      leasedAt.set(e.taskId, now);
      const prev = lastDoneBy.get(e.owner);
      if (prev !== undefined) gaps.push(now - prev);
    });
    server.ctx.events.on("task:succeeded", (e) => {
      const owner = server.ctx.store.getTask(e.taskId)?.leaseOwner;
      if (owner) lastDoneBy.set(owner, performance.now());
    });
    t0 = performance.now();
    await fetch(`${server.url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "bench-job", workflowId: "detect", batchId: "bench" }) });
    let job: any;
    do {
      await Bun.sleep(100);
      job = await (await fetch(`${server.url}/api/v1/jobs/bench-job`)).json();
    } while (!["succeeded", "failed", "aborted"].includes(job.state) && job.progress.stages[0].tasks.succeeded < job.progress.stages[0].tasksTotal);
    const processingSeconds = (performance.now() - t0) / 1000;
    const jobRate = count / processingSeconds;
    const start = (firstLease - t0) / 1000;
    const maxGap = Math.max(0, ...gaps);
    const meanGap = gaps.length ? gaps.reduce((a, b) => a + b, 0) / gaps.length : 0;
    const ratio = jobRate / engineRate;
    console.log(`job of ${count} images (YOLOv8n-640, 2 local workers, ${job.progress.stages[0].tasksTotal} tasks)`);
    console.log(`  engine alone:   ${engineRate.toFixed(1)} img/s`);
    console.log(`  job processing: ${jobRate.toFixed(1)} img/s = ${ratio.toFixed(2)} of the engine (target 0.9) ${ratio >= 0.9 ? "OK" : "UNDER"}`);
    console.log(`  job start (create → first task leased): ${(start * 1000).toFixed(0)} ms (target < 1000 ms) ${start < 1 ? "OK" : "OVER"}`);
    console.log(`  scheduler gap between tasks (complete → next lease): mean ${meanGap.toFixed(1)} ms, max ${maxGap.toFixed(1)} ms over ${gaps.length} (target < 50 ms) ${maxGap < 50 ? "OK" : "OVER"}`);
    return ratio >= 0.9 && start < 1 && maxGap < 50;
  } finally {
    await server.stop();
  }
}


async function bigBatch(work: string, count: number): Promise<boolean> {
  const dir = join(work, "tiny");
  require("node:fs").mkdirSync(dir);
  const base = await sharp({ create: { width: 32, height: 32, channels: 3, background: { r: 90, g: 140, b: 200 } } }).jpeg().toBuffer();
  process.stderr.write(`writing ${count} tiny images ...\n`);
  for (let i = 0; i < count; i++) {
    const note = Buffer.from(`n${i}`);
    const seg = Buffer.concat([Buffer.from([0xff, 0xfe, 0, note.length + 2]), note]);
    writeFileSync(join(dir, `t${String(i).padStart(6, "0")}.jpg`), Buffer.concat([base.subarray(0, 2), seg, base.subarray(2)]));
  }
  const port = await freePort();
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "serve", "--port", String(port), "--data-dir", join(work, "big-data"), "--workers", "2", "--log-level", "error"], { stdout: "ignore", stderr: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 100 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(100);
    await registerDetector(url);
    const idleRss = rssOf(proc.pid);
    const client = new ApiClient(url, undefined);
    await ensureBatch(client, "tiny", "images");
    process.stderr.write("staging ...\n");
    await uploadFiles(client, scanMediaFiles(dir, "images", false), { batchId: "tiny", overwrite: false });
    const stagedRss = rssOf(proc.pid);
    let t0 = performance.now();
    const created = await fetch(`${url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "big", workflowId: "detect", batchId: "tiny" }) });
    const createSeconds = (performance.now() - t0) / 1000;
    if (!created.ok) throw new Error(await created.text());
    let peak = 0;
    let slowest = 0;
    let done = 0;
    while (done < 2000) {
      peak = Math.max(peak, rssOf(proc.pid));
      t0 = performance.now();
      const job = (await (await fetch(`${url}/api/v1/jobs/big`)).json()) as any;
      slowest = Math.max(slowest, performance.now() - t0);
      done = job.progress.stages[0].itemsDone + job.progress.stages[0].itemsFailed;
      if (process.env.BENCH_TRACE) {
        const heap = /vbatch_js_heap_bytes (\d+)/.exec(await (await fetch(`${url}/metrics`)).text())?.[1];
        process.stderr.write(`${done} ${(rssOf(proc.pid) / 1048576).toFixed(0)}MB heap ${(Number(heap) / 1048576).toFixed(0)}MB\n`);
      }
      await Bun.sleep(200);
    }
    await fetch(`${url}/api/v1/jobs/big/abort`, { method: "POST" });
    const mb = peak / 1048576;
    console.log(`a ${count}-image batch (32x32 JPEGs), server in its own process with 2 workers`);
    console.log(`  job creation: ${createSeconds.toFixed(2)} s (target < 5 s) ${createSeconds < 5 ? "OK" : "OVER"}`);
    console.log(`  server peak RSS during the first 2,000 images: ${mb.toFixed(0)} MB (target < 400 MB) ${mb < 400 ? "OK" : "OVER"}`);
    console.log(`    (idle with workers started: ${(idleRss / 1048576).toFixed(0)} MB; after staging: ${(stagedRss / 1048576).toFixed(0)} MB)`);
    console.log(`  show-job-details: slowest ${slowest.toFixed(1)} ms (target < 200 ms) ${slowest < 200 ? "OK" : "OVER"}`);
    return createSeconds < 5 && mb < 400 && slowest < 200;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

export async function benchJobs(images: number, bigCount: number): Promise<boolean> {
  const work = mkdtempSync(join(tmpdir(), "vbatch-bench-jobs-"));
  try {
    const a = images > 0 ? await jobThroughput(work, images) : true;
    const b = bigCount > 0 ? await bigBatch(work, bigCount) : true;
    return a && b;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
