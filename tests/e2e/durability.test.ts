import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeJpegCorpus } from "../../scripts/lib/jpeg-corpus.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { startServer } from "../../src/server/main.ts";
import { ROOT, runCli, shared, tempDir } from "../helpers.ts";

/**
 * What must survive: a server killed with SIGKILL mid-job, an engine thread that dies, an abort. After
 * each, the job completes and every input image appears exactly once in the merged results.
 */
const FAST = { VBATCH_LEASE_SECONDS: "2", VBATCH_SWEEP_INTERVAL_S: "0.2", VBATCH_LOG_LEVEL: "error" };

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** The server as its own process, so that it can be killed for real. */
async function serveProcess(dataDir: string, port: number) {
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "serve", "--port", String(port), "--data-dir", dataDir, "--workers", "2"], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...FAST },
    stdout: "ignore",
    stderr: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await fetch(`${url}/healthz`).then((r) => r.ok, () => false)); i++) await Bun.sleep(100);
  return { proc, url };
}

async function setUp(url: string, batchId: string, count: number) {
  const env = { VBATCH_API_URL: url };
  expect((await runCli(["models", "add", "--model-id", "yolov8n-320", "--file", shared("models/yolov8n-320-int8.onnx"), "--classes", shared("models/coco80.txt")], env)).code).toBe(0);
  const def = JSON.parse(readFileSync(join(ROOT, "examples/workflows/detect.json"), "utf8"));
  def.steps[0].model_id = "yolov8n-320";
  const wf = join(tempDir(), "wf.json");
  writeFileSync(wf, JSON.stringify(def));
  expect((await runCli(["workflows", "add", "--workflow-id", "detect", "--file", wf], env)).code).toBe(0);
  const dir = tempDir();
  const names = await writeJpegCorpus(dir, count, 5_000);
  expect((await runCli(["data-staging", "create-batch-of-images", "--images-dir", dir, "--batch-id", batchId], env)).code).toBe(0);
  return names;
}

const job = async (url: string, id: string) => (await (await fetch(`${url}/api/v1/jobs/${id}`)).json()) as any;

async function until(what: () => Promise<boolean>, seconds: number, label: string): Promise<void> {
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    if (await what()) return;
    await Bun.sleep(100);
  }
  throw new Error(`timed out waiting for ${label}`);
}

/** The merged results of a finished job, exported through the CLI. */
async function results(url: string, jobId: string): Promise<any[]> {
  const out = tempDir();
  expect((await runCli(["data-staging", "export-batch", "--batch-id", `${jobId}-export`, "--target-dir", out], { VBATCH_API_URL: url })).code).toBe(0);
  return readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
}

describe("durability", () => {
  test("kill -9 of the server mid-job: restarted on the same data dir, the job completes, each image exactly once", async () => {
    const dataDir = tempDir();
    const port = await freePort();
    let server = await serveProcess(dataDir, port);
    const names = await setUp(server.url, "many", 48);
    const start = await fetch(`${server.url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "survivor", workflowId: "detect", batchId: "many", options: { chunkSize: 4 } }) });
    expect(start.status).toBe(201);
    await until(async () => (await job(server.url, "survivor")).progress.stages[0].tasks.succeeded >= 2, 60, "some tasks to finish");
    server.proc.kill(9);
    await server.proc.exited;
    const before = readdirSync(join(dataDir, "tmp"));

    server = await serveProcess(dataDir, port);
    try {
      await until(async () => ["succeeded", "failed"].includes((await job(server.url, "survivor")).state), 120, "the job to end");
      expect((await job(server.url, "survivor")).state).toBe("succeeded");
      const rows = await results(server.url, "survivor");
      expect(rows.map((r) => r.image)).toEqual(names);
      // Every stored result file is whole: its size is the recorded one; temp files of the dead process are gone.
      const content = (await (await fetch(`${server.url}/api/v1/batches/survivor-processing/content?part=results`)).json()) as any;
      expect(content.files.length).toBe(12);
      for (const f of content.files) expect(statSync(join(dataDir, "outputs/survivor-processing/results", f.name)).size).toBe(f.sizeBytes);
      expect(before.length >= 0 && readdirSync(join(dataDir, "tmp")).filter((f) => before.includes(f))).toEqual([]);
    } finally {
      server.proc.kill(9);
      await server.proc.exited;
    }
  });

  test("an engine thread that dies: its task runs again and results are not duplicated", async () => {
    const server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), workers: 2, sweepIntervalS: 0.2, leaseSeconds: 2 }, env: {} }), { log: silentLogger });
    try {
      const names = await setUp(server.url, "crash", 24);
      let crashed = false;
      server.ctx.events.on("task:leased", () => {
        if (crashed) return;
        crashed = true;
        setTimeout(() => server.workers!.crashEngineForTest(0), 50);
        setTimeout(() => server.workers!.crashEngineForTest(1), 50);
      });
      const res = await fetch(`${server.url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId: "crashy", workflowId: "detect", batchId: "crash", options: { chunkSize: 6 } }) });
      expect(res.status).toBe(201);
      await until(async () => ["succeeded", "failed"].includes((await job(server.url, "crashy")).state), 120, "the job to end");
      const details = await job(server.url, "crashy");
      expect(details.state).toBe("succeeded");
      expect(crashed).toBe(true);
      const rows = await results(server.url, "crashy");
      expect(rows.map((r) => r.image)).toEqual(names);
      const logs = (await (await fetch(`${server.url}/api/v1/jobs/crashy/logs`)).json()) as any;
      expect(logs.logs.some((l: any) => /WORKER_CRASHED|POOL_CLOSED|lease expired/.test(l.message))).toBe(true);
    } finally {
      await server.stop();
    }
  });

  test("abort then restart gives the same results as an uninterrupted run", async () => {
    const server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), workers: 2, sweepIntervalS: 0.2, leaseSeconds: 2 }, env: {} }), { log: silentLogger });
    try {
      const names = await setUp(server.url, "same", 32);
      const post = (jobId: string) => fetch(`${server.url}/api/v1/jobs`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobId, workflowId: "detect", batchId: "same", options: { chunkSize: 4 } }) });
      await post("whole");
      await until(async () => (await job(server.url, "whole")).state === "succeeded", 120, "the uninterrupted job");
      await post("broken");
      await until(async () => (await job(server.url, "broken")).progress.stages[0].tasks.succeeded >= 1, 60, "a first task");
      const aborted = await fetch(`${server.url}/api/v1/jobs/broken/abort`, { method: "POST" });
      expect(((await aborted.json()) as any).state).toBe("aborted");
      await Bun.sleep(500);
      const restarted = await fetch(`${server.url}/api/v1/jobs/broken/restart`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
      expect(((await restarted.json()) as any).state).toBe("pending");
      await until(async () => (await job(server.url, "broken")).state === "succeeded", 120, "the restarted job");
      // Same images, same detections (ids are fresh per run, so they are left out of the comparison).
      const strip = (rows: any[]) => rows.map((r) => ({ image: r.image, boxes: r.predictions.predictions.map((p: any) => [p.class, p.x, p.y, p.width, p.height, p.confidence]) }));
      const whole = strip(await results(server.url, "whole"));
      expect(whole.map((r) => r.image)).toEqual(names);
      expect(strip(await results(server.url, "broken"))).toEqual(whole);
    } finally {
      await server.stop();
    }
  });
});

afterAll(() => {
  expect(existsSync(ROOT)).toBe(true);
});
