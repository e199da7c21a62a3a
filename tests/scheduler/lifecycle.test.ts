import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import { createLogger } from "../../src/core/log.ts";
import { EventBus } from "../../src/scheduler/events.ts";
import { jobCost } from "../../src/scheduler/progress.ts";
import type { SchedulerEvent } from "../../src/scheduler/types.ts";
import type { SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import { drain, jobInput, names, resultOf, schedulerContext, stageBatch } from "./scheduler-fixtures.ts";

const S = 1000;
const DAY = 86_400_000;
const rates = { costPerGpuHour: 4, costPerCpuHour: 1 };

describe("abort and restart", () => {
  test("abort cancels queued and leased tasks (heartbeats say so); restart redoes only unfinished work", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(4));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1 } }));
    const [done, running] = t.scheduler.lease("w", "cpu", 2);
    await t.scheduler.complete(done!.taskId, done!.token, resultOf(t, done!));
    const aborted = t.scheduler.abort("j");
    expect(aborted).toMatchObject({ state: "aborted", error: "aborted by user", finishedAtMs: t.clock.now() });
    expect(t.seen.at(-1)).toMatchObject({ type: "job:state", jobId: "j", state: "aborted" });
    expect(t.scheduler.heartbeat("w", [{ taskId: running!.taskId, token: running!.token, itemsDone: 0, itemsFailed: 0 }]).cancelled).toEqual([running!.taskId]);
    await expect(t.scheduler.complete(running!.taskId, running!.token, resultOf(t, running!))).rejects.toMatchObject({ code: "LEASE_LOST" });
    expect(t.scheduler.details("j").stages[0]!.tasks).toMatchObject({ succeeded: 1, cancelled: 3, queued: 0, leased: 0 });
    expect(() => t.scheduler.abort("j")).toThrow(expect.objectContaining({ code: "JOB_NOT_IN_STATE", status: 409 }));
    expect(t.scheduler.lease("w", "cpu", 10)).toEqual([]);

    const restarted = t.scheduler.restart("j", { maxParallelTasks: 2 });
    expect(restarted).toMatchObject({ state: "pending", error: null, finishedAtMs: null });
    expect(restarted.options.maxParallelTasks).toBe(2);
    const again = t.scheduler.lease("w", "cpu", 10);
    expect(again.map((l) => l.taskId)).toEqual(["j-t000002", "j-t000003"]);
    expect(t.store.getTask(done!.taskId)!.state).toBe("succeeded");
    for (const l of again) await t.scheduler.complete(l.taskId, l.token, resultOf(t, l));
    await drain(t);
    expect(t.scheduler.getJob("j")!.state).toBe("succeeded");
    // The first task's results were kept, not redone.
    expect(t.seen.filter((e) => e.type === "task:leased" && e.taskId === done!.taskId)).toHaveLength(1);
  });

  test("restart is refused for running or succeeded jobs, a new chunk size, or expired batches", async () => {
    const t = schedulerContext({ retentionDays: 1 });
    stageBatch(t.store, "in", names(2), "images", t.clock.now());
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    expect(() => t.scheduler.restart("j")).toThrow(expect.objectContaining({ code: "JOB_NOT_IN_STATE" }));
    expect(() => t.scheduler.restart("nope")).toThrow(expect.objectContaining({ code: "JOB_NOT_FOUND", status: 404 }));
    t.scheduler.abort("j");
    expect(() => t.scheduler.restart("j", { chunkSize: 7 })).toThrow(expect.objectContaining({ code: "VALIDATION_FAILED" }));
    t.clock.advance(8 * DAY);
    t.scheduler.sweep(t.clock.now());
    expect(() => t.scheduler.restart("j")).toThrow(expect.objectContaining({ code: "BATCH_EXPIRED" }));
  });

  test("a job over its machine time is aborted by the sweep with a clear reason, leases in flight counted", async () => {
    const t = schedulerContext({ leaseSeconds: 600 });
    stageBatch(t.store, "in", names(4));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1, maxRuntimeSeconds: 10 } }));
    const [a, b] = t.scheduler.lease("w", "cpu", 2);
    await t.scheduler.complete(a!.taskId, a!.token, resultOf(t, a!, { machineMs: 4000 }));
    t.clock.advance(6 * S);
    expect(t.scheduler.sweep(t.clock.now()).abortedJobs).toEqual([]);
    t.clock.advance(1 * S);
    expect(t.scheduler.sweep(t.clock.now()).abortedJobs).toEqual(["j"]);
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "aborted", error: "max runtime of 10 machine-seconds used up" });
    expect(t.store.getTask(b!.taskId)!.state).toBe("cancelled");
    // The cancelled lease's time counts too: 4 s reported plus 7 s held.
    expect(t.scheduler.getJob("j")!.machineMs).toBe(11_000);
  });
});

describe("events", () => {
  test("every state change is announced; a throwing listener breaks nothing", async () => {
    const t = schedulerContext();
    const logged: string[] = [];
    const bus = new EventBus(createLogger("error", (line) => logged.push(line)));
    const got: SchedulerEvent[] = [];
    bus.on("job:state", () => {
      throw new Error("listener bug");
    });
    bus.on("*", async () => Promise.reject(new Error("async listener bug")));
    bus.on("task:succeeded", (e) => void got.push(e));
    const stop = bus.on("job:created", (e) => void got.push(e));
    stop();
    bus.emit({ type: "job:created", jobId: "x", atMs: 1 });
    bus.emit({ type: "job:state", jobId: "x", state: "running", stage: "processing", error: null, atMs: 1 });
    bus.emit({ type: "task:succeeded", jobId: "x", taskId: "x-t1", atMs: 2 });
    await Bun.sleep(0);
    expect(got).toEqual([{ type: "task:succeeded", jobId: "x", taskId: "x-t1", atMs: 2 }]);
    expect(logged.filter((l) => l.includes("an event listener failed"))).toHaveLength(4);

    t.events.on("*", () => {
      throw new Error("boom");
    });
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    await drain(t);
    expect(t.scheduler.getJob("j")!.state).toBe("succeeded");
    expect(t.seen.map((e) => e.type)).toEqual([
      "job:created", "job:state", "task:leased", "task:succeeded", "job:progress", "job:state", "task:leased", "task:succeeded", "job:progress", "job:state",
    ]);
  });
});

describe("progress, cost and logs", () => {
  test("tasks by state, items done, rate, ETA, machine time and cost while running and at the end", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(40));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 10, machineType: "gpu" } }));
    const [a, b] = t.scheduler.lease("g", "gpu", 2);
    t.clock.advance(10 * S);
    await t.scheduler.complete(a!.taskId, a!.token, resultOf(t, a!, { failed: 2, machineMs: 10_000 }));
    t.scheduler.heartbeat("g", [{ taskId: b!.taskId, token: b!.token, itemsDone: 5, itemsFailed: 0 }]);
    const d = t.scheduler.details("j");
    expect(d.stages).toEqual([
      { stage: "processing", tasks: { queued: 2, leased: 1, succeeded: 1, failed: 0, cancelled: 0 }, tasksTotal: 4, itemsTotal: 40, itemsDone: 13, itemsFailed: 2 },
    ]);
    // 15 images handled in 10 s: 1.5/s, 25 left.
    expect(d.itemsPerSecond).toBeCloseTo(1.5);
    expect(d.etaSeconds).toBeCloseTo(25 / 1.5);
    // 10 s reported by the finished task plus 10 s of the lease still running.
    expect(d.machineSeconds).toBe(20);
    expect(d.cost).toBeCloseTo((20 / 3600) * 4);
    expect(d.outputBatches).toEqual({ processing: "j-processing", export: "j-export" });
    await t.scheduler.complete(b!.taskId, b!.token, resultOf(t, b!));
    await drain(t, "g", "gpu");
    const end = t.scheduler.details("j");
    expect(end.job.state).toBe("succeeded");
    expect(end.etaSeconds).toBe(0);
    expect(end.stages.map((s) => s.stage)).toEqual(["processing", "export"]);
  });

  test("cost: gpu and cpu jobs at their rate, auto jobs by the machines that ran them", async () => {
    expect(jobCost("gpu", 3_600_000, 0, rates)).toBe(4);
    expect(jobCost("cpu", 3_600_000, 3_600_000, rates)).toBe(1);
    expect(jobCost("auto", 3_600_000, 1_800_000, rates)).toBe(2.5);
    const t = schedulerContext({ costPerGpuHour: 10, costPerCpuHour: 2 });
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1 } }));
    const g = t.scheduler.lease("g", "gpu", 1)[0]!;
    const c = t.scheduler.lease("c", "cpu", 1)[0]!;
    await t.scheduler.complete(g.taskId, g.token, resultOf(t, g, { machineMs: 360_000 }));
    await t.scheduler.complete(c.taskId, c.token, resultOf(t, c, { machineMs: 360_000 }));
    const d = t.scheduler.details("j");
    expect([d.machineSeconds, d.gpuMachineSeconds]).toEqual([720, 360]);
    expect(d.cost).toBeCloseTo(0.1 * 10 + 0.1 * 2);
  });

  test("the job's log records its story with severities and task ids; filtered by minimum severity", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(1));
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    const l = t.scheduler.lease("w", "cpu", 1)[0]!;
    t.scheduler.fail(l.taskId, l.token, new AppError("MODEL_NOT_FOUND", "no such model", 404));
    const all = t.scheduler.logs("j").items;
    expect(all.map((x) => x.severity)).toEqual(["info", "info", "error", "error"]);
    expect(all[2]).toMatchObject({ taskId: l.taskId, message: expect.stringContaining("MODEL_NOT_FOUND: no such model") });
    expect(t.scheduler.logs("j", "error").items).toHaveLength(2);
    const first = t.scheduler.logs("j", "info", { pageSize: 3 });
    expect(first.items).toHaveLength(3);
    expect(t.scheduler.logs("j", "info", { pageSize: 3, cursor: first.next }).items).toEqual([all[3]!]);
    expect(() => t.scheduler.logs("nope")).toThrow(expect.objectContaining({ code: "JOB_NOT_FOUND" }));
  });
});

describe("sweep and batch expiry", () => {
  test("batches of pending or running jobs outlive their expiry; they go once the job ends", async () => {
    const t = schedulerContext({ retentionDays: 1 });
    stageBatch(t.store, "in", names(2), "images", t.clock.now());
    stageBatch(t.store, "idle", names(1), "images", t.clock.now());
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1 } }));
    t.clock.advance(8 * DAY);
    expect(t.scheduler.sweep(t.clock.now()).expiredBatches).toEqual(["idle"]);
    for (const id of ["in", "j-processing", "j-export"]) expect(t.store.getBatch(id)).toBeDefined();
    await drain(t);
    expect(t.scheduler.sweep(t.clock.now()).expiredBatches.sort()).toEqual(["in", "j-export", "j-processing"]);
  });

  test("the sweep queues a missing export task and ends a job whose export is done", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j" }));
    const l = t.scheduler.lease("w", "cpu", 1)[0]!;
    await t.scheduler.complete(l.taskId, l.token, resultOf(t, l));
    // As a store cut short between the two would look (or one written before export tasks existed).
    const db = (t.store as SqliteStore).db;
    db.run("DELETE FROM tasks WHERE stage = 'export'");
    expect(t.scheduler.sweep(t.clock.now()).exportsQueued).toEqual(["j"]);
    expect(t.store.getTask("j-export")!.state).toBe("queued");
    const e = t.scheduler.lease("w", "cpu", 1)[0]!;
    db.run("UPDATE tasks SET state = 'succeeded' WHERE task_id = ?", [e.taskId]);
    expect(t.scheduler.sweep(t.clock.now()).succeededJobs).toEqual(["j"]);
    expect(t.scheduler.getJob("j")!.state).toBe("succeeded");
  });

  test("jobs page newest first, filtered by state", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(1));
    for (const id of ["a", "b", "c"]) {
      t.scheduler.createJob(jobInput("in", { jobId: id }));
      t.clock.advance(S);
    }
    t.scheduler.abort("b");
    const first = t.scheduler.listJobs({ pageSize: 2 });
    expect(first.items.map((j) => j.jobId)).toEqual(["c", "b"]);
    expect(t.scheduler.listJobs({ pageSize: 2, cursor: first.next }).items.map((j) => j.jobId)).toEqual(["a"]);
    expect(t.scheduler.listJobs({ pageSize: 10, state: "aborted" }).items.map((j) => j.jobId)).toEqual(["b"]);
  });
});
