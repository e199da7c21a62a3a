import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { AppError } from "../../src/core/errors.ts";
import { nextAttemptAt, retryPolicy } from "../../src/scheduler/retry.ts";
import { drain, jobInput, names, resultOf, schedulerContext, stageBatch } from "./scheduler-fixtures.ts";

describe("completing and failing tasks", () => {
  test("results move into the output batch exactly once; a second complete is refused", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(4));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 2 } }));
    const l = t.scheduler.lease("w", "cpu", 1)[0]!;
    const result = resultOf(t, l, { failed: 1, machineMs: 1500 });
    expect(await t.scheduler.complete(l.taskId, l.token, result)).toEqual({ state: "succeeded" });
    const files = t.store.listBatchFiles("j-processing", { pageSize: 10 }).items;
    expect(files.map((f) => [f.part, f.name])).toEqual([["errors", "task-000001.jsonl"], ["results", "task-000001.jsonl"]]);
    const path = t.staging.filePath({ id: "j-processing", kind: "output" }, "results", "task-000001.jsonl");
    expect(readFileSync(path, "utf8")).toContain(names(1)[0]!);
    expect(files[1]!.sizeBytes).toBe(readFileSync(path).length);
    expect(files[1]!.sha256).toBe(new Bun.CryptoHasher("sha256").update(readFileSync(path)).digest("hex"));
    expect(existsSync(result.files[0]!.tempPath)).toBe(false);
    expect(t.store.getTask(l.taskId)).toMatchObject({ state: "succeeded", itemsDone: 1, itemsFailed: 1, machineMs: 1500, finishedAtMs: t.clock.now() });
    expect(t.scheduler.getJob("j")!.machineMs).toBe(1500);

    const again = resultOf(t, l);
    await expect(t.scheduler.complete(l.taskId, l.token, again)).rejects.toMatchObject({ code: "LEASE_LOST" });
    expect(t.store.getBatch("j-processing")!.fileCount).toBe(2);
    expect(t.scheduler.details("j").errorsByCause).toEqual([{ code: "IMAGE_DECODE_FAILED", count: 1, example: { taskId: l.taskId, item: names(1)[0]!, message: `cannot decode ${names(1)[0]}` } }]);
  });

  test("the last processing task queues the export task; the export task ends the job", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(3));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 2, machineType: "gpu" } }));
    const [a, b] = t.scheduler.lease("g", "gpu", 2);
    await t.scheduler.complete(a!.taskId, a!.token, resultOf(t, a!));
    expect(t.store.getTask("j-export")).toBeUndefined();
    await t.scheduler.complete(b!.taskId, b!.token, resultOf(t, b!));
    expect(t.store.getTask("j-export")).toMatchObject({ stage: "export", state: "queued", machineType: "auto", itemsTotal: 1 });
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "running", currentStage: "export" });
    // Merging needs no engine: a CPU worker may take a GPU job's export.
    const e = t.scheduler.lease("c", "cpu", 1)[0]!;
    expect(e).toMatchObject({ taskId: "j-export", stage: "export", items: [] });
    await t.scheduler.complete(e.taskId, e.token, resultOf(t, e));
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "succeeded", finishedAtMs: t.clock.now(), error: null });
    expect(t.store.listBatchFiles("j-export", { pageSize: 10 }).items.map((f) => `${f.part}/${f.name}`)).toEqual(["archive/j-000.tar.gz"]);
    expect(t.seen.filter((x) => x.type === "job:state").map((x) => x.type === "job:state" && `${x.state}/${x.stage}`)).toEqual([
      "running/processing",
      "running/export",
      "succeeded/export",
    ]);
  });

  test("a task whose image failure rate exceeds the job's limit fails for good, and the job with it", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(8));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 4, maxImageFailureRate: 0.5 } }));
    const [ok, bad] = t.scheduler.lease("w", "cpu", 2);
    expect(await t.scheduler.complete(ok!.taskId, ok!.token, resultOf(t, ok!, { failed: 2 }))).toEqual({ state: "succeeded" });
    const badResult = resultOf(t, bad!, { failed: 3 });
    expect(await t.scheduler.complete(bad!.taskId, bad!.token, badResult)).toEqual({ state: "failed" });
    expect(t.store.getTask(bad!.taskId)).toMatchObject({ state: "failed", attempts: 1, itemsFailed: 3, errorCode: "IMAGE_FAILURE_RATE", error: "image failure rate 0.75 exceeds 0.5 (3 of 4 failed)" });
    expect(t.store.listBatchFiles("j-processing", { pageSize: 10 }).items.every((f) => f.name === "task-000001.jsonl")).toBe(true);
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "failed" });
    expect(t.scheduler.getJob("j")!.error).toContain("IMAGE_FAILURE_RATE");
    expect(t.scheduler.details("j").errorsByCause[0]).toMatchObject({ code: "IMAGE_DECODE_FAILED", count: 5 });
  });

  test("a retryable error goes back to the queue after the back-off, up to maxAttempts", () => {
    const t = schedulerContext({ maxAttempts: 3 });
    stageBatch(t.store, "in", names(1));
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    const policy = retryPolicy(3);
    for (let attempt = 1; attempt <= 2; attempt++) {
      const l = t.scheduler.lease("w", "cpu", 1)[0]!;
      const now = t.clock.now();
      expect(t.scheduler.fail(l.taskId, l.token, new AppError("WORKER_CRASHED", "engine died", 500))).toEqual({ state: "queued" });
      const due = nextAttemptAt(attempt, policy, now, 0.5);
      expect(t.store.getTask(l.taskId)).toMatchObject({ state: "queued", attempts: attempt, stalls: 0, availableAtMs: due, errorCode: "WORKER_CRASHED" });
      expect(t.scheduler.lease("w", "cpu", 1)).toEqual([]);
      t.clock.set(due - 1);
      expect(t.scheduler.lease("w", "cpu", 1)).toEqual([]);
      t.clock.set(due);
    }
    const l = t.scheduler.lease("w", "cpu", 1)[0]!;
    expect(t.scheduler.fail(l.taskId, l.token, new AppError("WORKER_CRASHED", "engine died", 500))).toEqual({ state: "failed" });
    expect(t.store.getTask(l.taskId)).toMatchObject({ state: "failed", attempts: 3 });
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "failed", error: `Task ${l.taskId} failed (WORKER_CRASHED): engine died` });
    expect(t.seen.filter((e) => e.type === "task:failed").map((e) => e.type === "task:failed" && e.final)).toEqual([false, false, true]);
  });

  test("errors that cannot succeed on retry fail the task and the job at once; other tasks are cancelled", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(3));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1 } }));
    const [a, b] = t.scheduler.lease("w", "cpu", 2);
    t.clock.advance(3000);
    expect(t.scheduler.fail(a!.taskId, a!.token, new AppError("MODEL_LOAD_FAILED", "bad onnx", 500))).toEqual({ state: "failed" });
    expect(t.store.getTask(a!.taskId)).toMatchObject({ state: "failed", attempts: 1, machineMs: 3000 });
    // Machine time counts for the failed attempt and for the lease cancelled with the job.
    expect(t.scheduler.getJob("j")!.machineMs).toBe(6000);
    expect(t.store.getTask(b!.taskId)!.state).toBe("cancelled");
    expect(t.store.getTask("j-t000003")!.state).toBe("cancelled");
    expect(t.scheduler.heartbeat("w", [{ taskId: b!.taskId, token: b!.token, itemsDone: 0, itemsFailed: 0 }])).toEqual({ lost: [], cancelled: [b!.taskId] });
    // A worker may also say an error is not worth retrying.
    const t2 = schedulerContext();
    stageBatch(t2.store, "in", names(1));
    t2.scheduler.createJob(jobInput("in", { jobId: "k" }));
    const c = t2.scheduler.lease("w", "cpu", 1)[0]!;
    expect(t2.scheduler.fail(c.taskId, c.token, new AppError("INTERNAL", "x", 500), false)).toEqual({ state: "failed" });
  });

  test("a result with impossible counts or an unsafe file name is refused and changes nothing", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    const l = t.scheduler.lease("w", "cpu", 1)[0]!;
    const r = resultOf(t, l);
    await expect(t.scheduler.complete(l.taskId, l.token, { ...r, itemsDone: 5 })).rejects.toMatchObject({ code: "INVALID_TASK_RESULT" });
    const escape = { ...r, files: [{ ...r.files[0]!, name: "../../evil.txt" }] };
    await expect(t.scheduler.complete(l.taskId, l.token, escape)).rejects.toMatchObject({ code: "INVALID_FILE_NAME" });
    expect(t.store.getTask(l.taskId)!.state).toBe("leased");
    await t.scheduler.complete(l.taskId, l.token, r);
    expect(t.store.getTask(l.taskId)!.state).toBe("succeeded");
  });

  test("a whole job through one worker: every task once, then the export, then success", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(10));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 3 } }));
    expect(await drain(t)).toBe(5);
    expect(t.scheduler.getJob("j")!.state).toBe("succeeded");
    expect(t.store.getBatch("j-processing")!.fileCount).toBe(4);
    expect(t.seen.filter((e) => e.type === "task:succeeded")).toHaveLength(5);
  });
});
