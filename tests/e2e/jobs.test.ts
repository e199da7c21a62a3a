import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeJpegCorpus } from "../../scripts/lib/jpeg-corpus.ts";
import type { RunningServer } from "../../src/server/main.ts";
import { jobsServer } from "./jobs-setup.ts";
import { runCli, shared, tempDir } from "../helpers.ts";

/**
 * Jobs end to end: a real server with two local workers (engine threads), the real CLI, real models.
 */
let server: RunningServer;
const vbatch = (args: string[]) => runCli(args, { VBATCH_API_URL: server.url });
const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, json: (await res.json().catch(() => null)) as any };
};

beforeAll(async () => {
  ({ server } = await jobsServer());
});
afterAll(() => server.stop());

/** 18 real JPEGs and 2 files that look like JPEGs but do not decode: 10 % corrupt. */
async function stageImages(batchId: string): Promise<string[]> {
  const dir = tempDir();
  const names = await writeJpegCorpus(dir, 16, 6_000);
  cpSync(shared("media/messi5.jpg"), join(dir, "messi5.jpg"));
  cpSync(shared("media/basketball1.png"), join(dir, "basketball1.png"));
  const head = readFileSync(shared("media/messi5.jpg")).subarray(0, 400);
  for (const bad of ["broken-1.jpg", "broken-2.jpg"]) writeFileSync(join(dir, bad), Buffer.concat([head, Buffer.alloc(500, 7)]));
  const staged = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", dir, "--batch-id", batchId]);
  expect(staged.code).toBe(0);
  return [...names, "messi5.jpg", "basketball1.png", "broken-1.jpg", "broken-2.jpg"].sort();
}

function lines(path: string): any[] {
  return readFileSync(path, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

describe("batch jobs on local workers", () => {
  test("a job runs, reports, and exports results in input order with COCO, YOLO labels, errors and images", async () => {
    const names = await stageImages("photos");
    const started = await vbatch(["batch-processing", "process-images-with-workflow", "--workflow-id", "boxes", "--batch-id", "photos", "--job-id", "job-a", "--chunk-size", "6", "--save-image-outputs", "--image-outputs-to-save", "annotated", "--json"]);
    expect(started.code).toBe(0);
    expect(JSON.parse(started.stdout)).toMatchObject({ jobId: "job-a", outputBatches: { processing: "job-a-processing", export: "job-a-export" } });
    const watched = await vbatch(["batch-processing", "watch", "--job-id", "job-a", "--interval", "0.2"]);
    expect(watched.code).toBe(0);

    const details = JSON.parse((await vbatch(["batch-processing", "show-job-details", "--job-id", "job-a", "--json"])).stdout);
    expect(details.state).toBe("succeeded");
    const processing = details.progress.stages.find((s: any) => s.stage === "processing");
    expect(processing).toMatchObject({ tasksTotal: 4, itemsTotal: 20, itemsDone: 18, itemsFailed: 2 });
    expect(details.errorsByCause).toEqual([expect.objectContaining({ code: "IMAGE_DECODE_FAILED", count: 2 })]);
    expect(details.progress.machineSeconds).toBeGreaterThan(0);
    expect(details.progress.cost).toBeGreaterThan(0);

    const out = tempDir();
    expect((await vbatch(["data-staging", "export-batch", "--batch-id", "job-a-export", "--target-dir", out])).code).toBe(0);
    // The export batch has one part: it lands flat in the target folder.
    const dir = out;
    const rows = lines(join(dir, "results.jsonl"));
    expect(rows.map((r) => r.image)).toEqual(names.filter((n) => !n.startsWith("broken")));
    const messi = rows.find((r) => r.image === "messi5.jpg");
    expect(messi.predictions.predictions.map((p: any) => p.class)).toContain("sports ball");
    expect(messi.annotated).toMatchObject({ type: "image", file: "messi5.jpg/annotated.jpg", width: 548, height: 342 });
    expect(readFileSync(join(dir, "images/messi5.jpg/annotated.jpg")).subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    const coco = JSON.parse(readFileSync(join(dir, "coco.json"), "utf8"));
    expect(coco.images.length).toBe(18);
    expect(coco.categories.map((c: any) => c.name)).toContain("person");
    const ballLabel = readFileSync(join(dir, "labels/messi5.txt"), "utf8").trim().split("\n").find((l) => l.startsWith("32 "))!;
    const [, cx, cy] = ballLabel.split(" ").map(Number);
    expect(Math.abs(cx! - 363.3 / 548)).toBeLessThan(0.01);
    expect(Math.abs(cy! - 312.4 / 342)).toBeLessThan(0.01);
    expect(lines(join(dir, "errors.jsonl")).map((e) => e.image).sort()).toEqual(["broken-1.jpg", "broken-2.jpg"]);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest).toMatchObject({ job: { id: "job-a" }, workflow: { id: "boxes" } });

    const logs = await vbatch(["batch-processing", "fetch-logs", "--job-id", "job-a"]);
    expect(logs.stdout).toContain("Job succeeded");
    const listed = JSON.parse((await vbatch(["batch-processing", "list-jobs", "--json"])).stdout);
    expect(listed.map((j: any) => j.jobId)).toContain("job-a");
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toContain('vbatch_tasks{state="succeeded"}');
    expect(metrics).toMatch(/vbatch_images_processed_total \d+/);
    expect(Number(/process_resident_memory_bytes (\d+)/.exec(metrics)?.[1])).toBeGreaterThan(10 * 1048576);
  }, 60_000);

  test("bad requests create no job: unknown workflow or batch, empty batch, a video batch for an image job, a taken id", async () => {
    await stageImages("more");
    expect((await api("POST", "/api/v1/jobs", { workflowId: "nope", batchId: "more" })).json.error.code).toBe("WORKFLOW_NOT_FOUND");
    expect((await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "nope" })).json.error.code).toBe("BATCH_NOT_FOUND");
    await api("POST", "/api/v1/batches", { batchId: "empty", type: "images" });
    expect((await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "empty" })).json.error.code).toBe("BATCH_EMPTY");
    await api("POST", "/api/v1/batches", { batchId: "clips", type: "videos" });
    await fetch(`${server.url}/api/v1/batches/clips/files?name=v.avi`, { method: "POST", body: readFileSync(shared("media/vtest.avi")) });
    expect((await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "clips" })).json.error.code).toBe("BATCH_TYPE_MISMATCH");
    const first = await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "more", jobId: "twice" });
    expect(first.status).toBe(201);
    const again = await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "more", jobId: "twice" });
    expect(again.status).toBe(409);
    const jobs = (await api("GET", "/api/v1/jobs")).json.jobs.map((j: any) => j.jobId);
    expect(jobs.filter((id: string) => id === "twice").length).toBe(1);
  });

  test("a task fails when its image failure rate is over the limit, and the job with it", async () => {
    await stageImages("strict");
    const job = await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "strict", jobId: "strict-job", options: { maxImageFailureRate: 0.05, chunkSize: 20 } });
    expect(job.status).toBe(201);
    const watched = await vbatch(["batch-processing", "watch", "--job-id", "strict-job", "--interval", "0.2"]);
    expect(watched.code).toBe(1);
    const details = (await api("GET", "/api/v1/jobs/strict-job")).json;
    expect(details.state).toBe("failed");
    expect(details.error).toMatch(/failure rate/i);
  }, 60_000);

  test("webhooks: a receiver answering 500, then 200, gets the same event again; a hanging one slows no job", async () => {
    await stageImages("hooked");
    const seen: { id: string; attempt: number; state: string }[] = [];
    const receiver = Bun.serve({
      port: 0,
      async fetch(req) {
        const body = (await req.json()) as any;
        if (new URL(req.url).pathname === "/hang") return new Promise<Response>(() => {});
        seen.push({ id: req.headers.get("x-vbatch-event-id")!, attempt: body.delivery_attempt, state: body.state });
        return new Response(null, { status: body.delivery_attempt === 1 ? 500 : 200 });
      },
    });
    try {
      const base = `http://127.0.0.1:${receiver.port}`;
      await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "hooked", jobId: "hooked-job", options: { notificationsUrl: `${base}/hook`, chunkSize: 10 } });
      await api("POST", "/api/v1/jobs", { workflowId: "boxes", batchId: "hooked", jobId: "hanging-job", options: { notificationsUrl: `${base}/hang`, chunkSize: 10 } });
      expect((await vbatch(["batch-processing", "watch", "--job-id", "hanging-job", "--interval", "0.2"])).code).toBe(0);
      expect((await vbatch(["batch-processing", "watch", "--job-id", "hooked-job", "--interval", "0.2"])).code).toBe(0);
      const end = Date.now() + 15_000;
      while (Date.now() < end && !seen.some((s) => s.state === "succeeded" && s.attempt === 2)) await Bun.sleep(100);
      const final = seen.filter((s) => s.state === "succeeded");
      expect(final.map((s) => s.attempt)).toEqual([1, 2]);
      expect(final[0]!.id).toBe(final[1]!.id);
      const logs = await vbatch(["batch-processing", "fetch-logs", "--job-id", "hooked-job", "--log-severity", "warning"]);
      expect(logs.stdout).toMatch(/500/);
    } finally {
      receiver.stop(true);
    }
  }, 60_000);
});
