import { describe, expect, test } from "bun:test";
import { shard } from "../../src/scheduler/jobs.ts";
import { JOB_ID_PATTERN } from "../../src/scheduler/jobs-naming.ts";
import { jobInput, names, schedulerContext, stageBatch } from "./scheduler-fixtures.ts";

const DAY = 86_400_000;

describe("creating jobs", () => {
  test("shards the batch by name order into chunks of chunkSize, the last one shorter", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", ["c.jpg", "a.jpg", "e.jpg", "b.jpg", "d.jpg"]);
    const job = t.scheduler.createJob(jobInput("in", { jobId: "j1", options: { chunkSize: 2 } }));
    expect(job).toMatchObject({ jobId: "j1", name: "j1", state: "pending", currentStage: "processing", inputBatchId: "in", machineMs: 0 });
    const tasks = t.store.listTasks("j1", { stage: "processing", pageSize: 100 }).items;
    expect(tasks.map((x) => x.items)).toEqual([["a.jpg", "b.jpg"], ["c.jpg", "d.jpg"], ["e.jpg"]]);
    expect(tasks.map((x) => [x.taskId, x.index, x.itemsTotal, x.state])).toEqual([
      ["j1-t000001", 0, 2, "queued"],
      ["j1-t000002", 1, 2, "queued"],
      ["j1-t000003", 2, 1, "queued"],
    ]);
    expect(shard(names(10), 3).map((c) => c.length)).toEqual([3, 3, 3, 1]);
    expect(shard(names(6), 3).flat()).toEqual(names(6));
  });

  test("defaults: chunk size from the config, one video per task", () => {
    const t = schedulerContext({ chunkSize: 4 });
    stageBatch(t.store, "imgs", names(10));
    stageBatch(t.store, "vids", ["a.mp4", "b.mp4", "c.mp4"], "videos");
    t.scheduler.createJob(jobInput("imgs", { jobId: "i" }));
    t.scheduler.createJob(jobInput("vids", { jobId: "v", type: "videos" }));
    expect(t.store.listTasks("i", { stage: "processing", pageSize: 100 }).items.map((x) => x.itemsTotal)).toEqual([4, 4, 2]);
    expect(t.store.listTasks("v", { stage: "processing", pageSize: 100 }).items.map((x) => x.items)).toEqual([["a.mp4"], ["b.mp4"], ["c.mp4"]]);
    expect(t.scheduler.getJob("i")!.options).toMatchObject({ chunkSize: 4, machineType: "auto", maxParallelTasks: null });
  });

  test("creates both output batches, of the input's type, expiring after the retention", () => {
    const t = schedulerContext({ retentionDays: 3 });
    stageBatch(t.store, "in", names(3));
    t.scheduler.createJob(jobInput("in", { jobId: "out" }));
    for (const id of ["out-processing", "out-export"])
      expect(t.store.getBatch(id)).toMatchObject({ kind: "output", type: "images", fileCount: 0, expiresAtMs: t.clock.now() + 3 * DAY });
  });

  test("job ids: default job-<12 random>, the pattern checked, duplicates refused with 409", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(3));
    const a = t.scheduler.createJob(jobInput("in"));
    const b = t.scheduler.createJob(jobInput("in"));
    expect(a.jobId).toMatch(/^job-[a-z0-9]{12}$/);
    expect(a.jobId).toMatch(JOB_ID_PATTERN);
    expect(b.jobId).not.toBe(a.jobId);
    for (const bad of ["", "UPPER", "a".repeat(21), "with space", "dot.ted", "slash/x"])
      expect(() => t.scheduler.createJob(jobInput("in", { jobId: bad }))).toThrow(expect.objectContaining({ code: "INVALID_JOB_ID", status: 400 }));
    t.scheduler.createJob(jobInput("in", { jobId: "a".repeat(20) }));
    expect(() => t.scheduler.createJob(jobInput("in", { jobId: "a".repeat(20) }))).toThrow(expect.objectContaining({ code: "JOB_EXISTS", status: 409 }));
  });

  test("refuses a missing, empty or mismatched batch and bad options, storing nothing", () => {
    const t = schedulerContext();
    stageBatch(t.store, "empty", []);
    stageBatch(t.store, "vids", ["a.mp4"], "videos");
    const fails = (input: Parameters<typeof t.scheduler.createJob>[0], code: string) => expect(() => t.scheduler.createJob(input)).toThrow(expect.objectContaining({ code }));
    fails(jobInput("nope", { jobId: "x" }), "BATCH_NOT_FOUND");
    fails(jobInput("empty", { jobId: "x" }), "BATCH_EMPTY");
    fails(jobInput("vids", { jobId: "x" }), "BATCH_TYPE_MISMATCH");
    fails(jobInput("vids", { jobId: "x", type: "videos", options: { chunkSize: 0 } }), "VALIDATION_FAILED");
    fails(jobInput("vids", { jobId: "x", type: "videos", options: { maxImageFailureRate: 1.5 } }), "VALIDATION_FAILED");
    fails(jobInput("vids", { jobId: "x", type: "videos", options: { maxParallelTasks: 0 } }), "VALIDATION_FAILED");
    expect(t.scheduler.getJob("x")).toBeUndefined();
    expect(t.store.getBatch("x-processing")).toBeUndefined();
  });

  test("a clash with an existing batch rolls the whole job back", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(3));
    stageBatch(t.store, "j-export", names(1));
    expect(() => t.scheduler.createJob(jobInput("in", { jobId: "j" }))).toThrow(expect.objectContaining({ code: "BATCH_EXISTS" }));
    expect(t.scheduler.getJob("j")).toBeUndefined();
    expect(t.store.getTask("j-t000001")).toBeUndefined();
    expect(t.store.getBatch("j-processing")).toBeUndefined();
  });

  test("a 100,000-image job is created well within seconds (sanity check; figures belong to the benchmark)", () => {
    const t = schedulerContext();
    stageBatch(t.store, "big", names(100_000));
    const started = performance.now();
    t.scheduler.createJob(jobInput("big", { jobId: "big" }));
    expect(performance.now() - started).toBeLessThan(5000);
    const tasks = t.store.listTasks("big", { stage: "processing", pageSize: 1000 }).items;
    expect(tasks).toHaveLength(391);
    expect(tasks.at(-1)!.itemsTotal).toBe(100_000 - 390 * 256);
    expect(tasks[0]!.items[0]).toBe("img-000000.jpg");
    expect(t.scheduler.details("big").stages[0]).toMatchObject({ tasksTotal: 391, itemsTotal: 100_000 });
  });
});
