import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { AppError } from "../../src/core/errors.ts";
import { jobInput, names, resultOf, schedulerContext, stageBatch } from "./scheduler-fixtures.ts";

const S = 1000;

describe("leasing", () => {
  test("a lease carries a token, an expiry and the task's items; the job starts running", () => {
    const t = schedulerContext({ leaseSeconds: 30 });
    stageBatch(t.store, "in", names(3));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 2 } }));
    const [l] = t.scheduler.lease("w1", "cpu", 1);
    expect(l).toMatchObject({ taskId: "j-t000001", jobId: "j", stage: "processing", index: 0, expiresAtMs: t.clock.now() + 30 * S, items: names(2) });
    expect(l!.token).toMatch(/^[0-9a-f-]{36}$/);
    expect(t.scheduler.getJob("j")).toMatchObject({ state: "running", startedAtMs: t.clock.now() });
    expect(t.store.getTask(l!.taskId)).toMatchObject({ state: "leased", leaseOwner: "w1", leaseToken: l!.token });
    expect(t.scheduler.lease("w2", "cpu", 5).map((x) => x.taskId)).toEqual(["j-t000002"]);
    expect(t.scheduler.lease("w3", "cpu", 5)).toEqual([]);
  });

  test("fair between jobs: the job with fewest leased tasks first, ties to the oldest; no job starves", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(10));
    t.scheduler.createJob(jobInput("in", { jobId: "old", options: { chunkSize: 1 } }));
    t.clock.advance(S);
    t.scheduler.createJob(jobInput("in", { jobId: "new", options: { chunkSize: 1 } }));
    const order = Array.from({ length: 6 }, (_, i) => t.scheduler.lease(`w${i}`, "cpu", 1)[0]!.jobId);
    expect(order).toEqual(["old", "new", "old", "new", "old", "new"]);
    // One worker asking for many gets them spread over both jobs, too.
    const many = t.scheduler.lease("big", "cpu", 4).map((l) => l.jobId);
    expect(many.filter((j) => j === "old")).toHaveLength(2);
    expect(many.filter((j) => j === "new")).toHaveLength(2);
  });

  test("maxParallelTasks caps a job's running tasks; others fill the free workers", async () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(10));
    t.scheduler.createJob(jobInput("in", { jobId: "capped", options: { chunkSize: 1, maxParallelTasks: 2 } }));
    t.clock.advance(S);
    t.scheduler.createJob(jobInput("in", { jobId: "free", options: { chunkSize: 1 } }));
    const leases = t.scheduler.lease("w", "cpu", 6);
    expect(leases.filter((l) => l.jobId === "capped")).toHaveLength(2);
    expect(leases.filter((l) => l.jobId === "free")).toHaveLength(4);
    const one = leases.find((l) => l.jobId === "capped")!;
    expect(t.scheduler.lease("w", "cpu", 1)[0]!.jobId).toBe("free");
    await t.scheduler.complete(one.taskId, one.token, resultOf(t, one));
    expect(t.scheduler.lease("w", "cpu", 3).filter((l) => l.jobId === "capped")).toHaveLength(1);
  });

  test("machine types: gpu jobs only on gpu workers, cpu jobs only on cpu workers, auto anywhere", () => {
    const t = schedulerContext();
    stageBatch(t.store, "in", names(2));
    for (const type of ["gpu", "cpu", "auto"] as const) {
      t.scheduler.createJob(jobInput("in", { jobId: type, options: { machineType: type, chunkSize: 1 } }));
      t.clock.advance(S);
    }
    const cpu = t.scheduler.lease("c", "cpu", 10).map((l) => l.jobId);
    expect(new Set(cpu)).toEqual(new Set(["cpu", "auto"]));
    expect(cpu).toHaveLength(4);
    expect(t.scheduler.lease("g", "gpu", 10).map((l) => l.jobId)).toEqual(["gpu", "gpu"]);
  });

  test("heartbeats renew leases, carry progress, and report lost leases", () => {
    const t = schedulerContext({ leaseSeconds: 10 });
    stageBatch(t.store, "in", names(4));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 2 } }));
    const [a, b] = t.scheduler.lease("w", "cpu", 2);
    t.clock.advance(5 * S);
    const answer = t.scheduler.heartbeat("w", [
      { taskId: a!.taskId, token: a!.token, itemsDone: 1, itemsFailed: 1 },
      { taskId: b!.taskId, token: "stale", itemsDone: 2, itemsFailed: 0 },
      { taskId: "nope", token: "x", itemsDone: 0, itemsFailed: 0 },
    ]);
    expect(answer).toEqual({ lost: [b!.taskId, "nope"], cancelled: [] });
    expect(t.store.getTask(a!.taskId)).toMatchObject({ leaseExpiresAtMs: t.clock.now() + 10 * S, itemsDone: 1, itemsFailed: 1 });
    expect(t.scheduler.details("j").stages[0]).toMatchObject({ itemsDone: 1, itemsFailed: 1 });
    expect(t.seen.some((e) => e.type === "job:progress" && e.jobId === "j")).toBe(true);
    // Another owner cannot renew this lease, even with its token.
    expect(t.scheduler.heartbeat("intruder", [{ taskId: a!.taskId, token: a!.token, itemsDone: 2, itemsFailed: 0 }]).lost).toEqual([a!.taskId]);
  });

  test("an expired lease is requeued with a stall, not an attempt; too many stalls fail the task and the job", async () => {
    const t = schedulerContext({ leaseSeconds: 10, maxStalls: 2 });
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 1 } }));
    const other = t.scheduler.lease("w0", "cpu", 1)[0]!;
    for (let stall = 1; stall <= 2; stall++) {
      const l = t.scheduler.lease("w", "cpu", 1)[0]!;
      expect(l.taskId).toBe("j-t000002");
      t.clock.advance(5 * S);
      t.scheduler.heartbeat("w0", [{ taskId: other.taskId, token: other.token, itemsDone: 0, itemsFailed: 0 }]);
      t.clock.advance(5 * S);
      expect(t.scheduler.sweep(t.clock.now()).requeued).toEqual([l.taskId]);
      expect(t.store.getTask(l.taskId)).toMatchObject({ state: "queued", stalls: stall, attempts: 0, leaseToken: null, availableAtMs: t.clock.now() });
      expect(t.seen.at(-1)).toMatchObject({ type: "task:requeued", taskId: l.taskId, reason: "lease-expired" });
      // The worker that lost it comes back too late: refused, its results dropped.
      expect(t.scheduler.heartbeat("w", [{ taskId: l.taskId, token: l.token, itemsDone: 1, itemsFailed: 0 }]).lost).toEqual([l.taskId]);
      const late = resultOf(t, l);
      await expect(t.scheduler.complete(l.taskId, l.token, late)).rejects.toMatchObject({ code: "LEASE_LOST", status: 409 });
      expect(existsSync(late.files[0]!.tempPath)).toBe(true);
    }
    const last = t.scheduler.lease("w", "cpu", 1)[0]!;
    t.clock.advance(5 * S);
    t.scheduler.heartbeat("w0", [{ taskId: other.taskId, token: other.token, itemsDone: 0, itemsFailed: 0 }]);
    t.clock.advance(6 * S);
    const report = t.scheduler.sweep(t.clock.now());
    expect(report.lostTasks).toEqual([last.taskId]);
    expect(t.store.getTask(last.taskId)).toMatchObject({ state: "failed", stalls: 3, errorCode: "WORKER_LOST", error: "worker lost 3 times" });
    const job = t.scheduler.getJob("j")!;
    expect(job.state).toBe("failed");
    expect(job.error).toContain(`Task ${last.taskId} failed (WORKER_LOST): worker lost 3 times`);
    // The other task, still leased and renewed, was cancelled with its job: its heartbeat says so.
    expect(t.store.getTask(other.taskId)!.state).toBe("cancelled");
    expect(t.scheduler.heartbeat("w0", [{ taskId: other.taskId, token: other.token, itemsDone: 0, itemsFailed: 0 }])).toEqual({ lost: [], cancelled: [other.taskId] });
  });

  test("fencing: a stale token cannot complete, fail or renew, and moves no files", async () => {
    const t = schedulerContext({ leaseSeconds: 10 });
    stageBatch(t.store, "in", names(2));
    t.scheduler.createJob(jobInput("in", { jobId: "j", options: { chunkSize: 2 } }));
    const first = t.scheduler.lease("w1", "cpu", 1)[0]!;
    t.clock.advance(11 * S);
    t.scheduler.sweep(t.clock.now());
    const second = t.scheduler.lease("w2", "cpu", 1)[0]!;
    expect(second.taskId).toBe(first.taskId);
    expect(second.token).not.toBe(first.token);
    const stale = resultOf(t, first);
    await expect(t.scheduler.complete(first.taskId, first.token, stale)).rejects.toMatchObject({ code: "LEASE_LOST" });
    expect(() => t.scheduler.fail(first.taskId, first.token, new AppError("INTERNAL", "boom", 500))).toThrow(expect.objectContaining({ code: "LEASE_LOST" }));
    expect(t.store.listBatchFiles("j-processing", { pageSize: 10 }).items).toEqual([]);
    expect(existsSync(t.staging.filePath({ id: "j-processing", kind: "output" }, "results", "task-000001.jsonl"))).toBe(false);
    expect(t.store.getTask(first.taskId)).toMatchObject({ state: "leased", leaseOwner: "w2", attempts: 0 });
    await t.scheduler.complete(second.taskId, second.token, resultOf(t, second));
    expect(t.store.listBatchFiles("j-processing", { pageSize: 10 }).items.map((f) => f.name)).toEqual(["task-000001.jsonl"]);
  });
});
