import { randomUUID } from "node:crypto";
import { invalid, type AppError } from "../core/errors.ts";
import { describeResultFiles, moveThenCommit } from "./leasing-files.ts";
import { stageBatchId } from "./jobs-naming.ts";
import { nextAttemptAt, isRetryable, retryPolicy } from "./retry.ts";
import { emitJobState, jobLog, reportJobChange, type SchedulerDeps } from "./scheduler-deps.ts";
import { TASK, leaseLost, taskNotFound } from "./states.ts";
import type { Lease, TaskRecord, TaskResult } from "./types.ts";

export interface HeldLease {
  taskId: string;
  token: string;
  /** Images done without failure so far, and images failed (the same counts as TaskResult). */
  itemsDone: number;
  itemsFailed: number;
}

const leaseMs = (deps: SchedulerDeps) => deps.config.leaseSeconds * 1000;

const toLease = (t: TaskRecord): Lease => ({
  taskId: t.taskId, jobId: t.jobId, stage: t.stage, index: t.index, token: t.leaseToken!, expiresAtMs: t.leaseExpiresAtMs!, items: t.items,
});

/** Up to `capacity` tasks for a worker of `machineType`, fair between jobs (see Store.claimTasks). */
export function lease(deps: SchedulerDeps, owner: string, machineType: "cpu" | "gpu", capacity: number): Lease[] {
  if (capacity < 1) return [];
  const now = deps.clock.now();
  const claim = deps.store.claimTasks({ owner, machineType, capacity, nowMs: now, expiresAtMs: now + leaseMs(deps), newToken: randomUUID });
  for (const jobId of claim.startedJobIds) {
    jobLog(deps, jobId, "info", "Job started");
    emitJobState(deps, jobId);
  }
  for (const t of claim.tasks) deps.events.emit({ type: "task:leased", jobId: t.jobId, taskId: t.taskId, owner, atMs: now });
  return claim.tasks.map(toLease);
}

/** Renews an owner's leases and takes their progress; says which were lost and which were cancelled. */
export function heartbeat(deps: SchedulerDeps, owner: string, leases: HeldLease[]): { lost: string[]; cancelled: string[] } {
  const now = deps.clock.now();
  const answer = deps.store.heartbeatLeases(owner, leases, now + leaseMs(deps));
  for (const jobId of new Set(answer.renewed.map((r) => r.jobId))) deps.events.emit({ type: "job:progress", jobId, atMs: now });
  return { lost: answer.lost, cancelled: answer.cancelled };
}

/** The task, if `token` still holds its lease; LEASE_LOST otherwise. */
function heldTask(deps: SchedulerDeps, taskId: string, token: string): TaskRecord {
  const task = deps.store.getTask(taskId);
  if (!task) throw taskNotFound(taskId);
  if (task.state !== TASK.leased || task.leaseToken !== token) throw leaseLost(taskId);
  return task;
}

function checkCounts(task: TaskRecord, r: TaskResult): void {
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  if (!whole(r.itemsDone) || !whole(r.itemsFailed) || !(r.machineMs >= 0) || (task.stage === "processing" && r.itemsDone + r.itemsFailed > task.itemsTotal))
    throw invalid(`Invalid result for task ${task.taskId}: ${r.itemsDone} done and ${r.itemsFailed} failed of ${task.itemsTotal}, ${r.machineMs} ms`, { taskId: task.taskId }, "INVALID_TASK_RESULT");
}

/**
 * A worker's task is done. Fenced by its token: a stale one gets LEASE_LOST and nothing of it is kept. A
 * processing task with too many failed images fails for good instead. Otherwise its files move into the
 * stage's output batch and it succeeds, in one step; the last processing task queues the export, the
 * export task ends the job.
 */
export async function complete(deps: SchedulerDeps, taskId: string, token: string, result: TaskResult): Promise<{ state: "succeeded" | "failed" }> {
  const task = heldTask(deps, taskId, token);
  checkCounts(task, result);
  const job = deps.store.getJob(task.jobId)!;
  const { failed, total } = failureBase(deps, job.type, task, result);
  const rate = total > 0 ? failed / total : 0;
  if (task.stage === "processing" && rate > job.options.maxImageFailureRate) {
    const why = `${job.type === "videos" ? "video" : "image"} failure rate ${round(rate)} exceeds ${round(job.options.maxImageFailureRate)} (${failed} of ${total} failed)`;
    const error = { code: "IMAGE_FAILURE_RATE", message: why };
    recordFailure(deps, task, error, null, { itemsDone: result.itemsDone, itemsFailed: result.itemsFailed, failures: result.failures });
    return { state: "failed" };
  }
  const files = await describeResultFiles(deps.staging, stageBatchId(task.jobId, task.stage), result.files, deps.clock.now());
  // The reading above yielded: check the lease again before anything moves.
  heldTask(deps, taskId, token);
  const now = deps.clock.now();
  const change = moveThenCommit(deps.staging, files, () =>
    deps.store.completeTask({ ...result, machineMs: Math.round(result.machineMs), taskId, token, nowMs: now, files: files.map((f) => f.row) }),
  );
  jobLog(deps, task.jobId, "info", `Task succeeded: ${result.itemsDone} done, ${result.itemsFailed} failed, ${files.length} file(s)`, taskId);
  deps.events.emit({ type: "task:succeeded", jobId: task.jobId, taskId, atMs: now });
  deps.events.emit({ type: "job:progress", jobId: task.jobId, atMs: now });
  if (change) reportJobChange(deps, change);
  return { state: "succeeded" };
}

/**
 * What the failure rate is judged on: an image task's own images; for videos (a task per video), the job's
 * videos — those failed so far with this one, of all — so one bad video among many fails nothing.
 */
function failureBase(deps: SchedulerDeps, type: "images" | "videos", task: { jobId: string; itemsTotal: number }, result: TaskResult): { failed: number; total: number } {
  if (type !== "videos") return { failed: result.itemsFailed, total: task.itemsTotal };
  const rows = deps.store.jobProgress(task.jobId, deps.clock.now()).rows.filter((r) => r.stage === "processing");
  const earlier = rows.filter((r) => r.state === "succeeded" || r.state === "failed").reduce((n, r) => n + r.itemsFailed, 0);
  return { failed: earlier + result.itemsFailed, total: rows.reduce((n, r) => n + r.itemsTotal, 0) };
}

const round = (n: number) => String(Math.round(n * 1000) / 1000);

/**
 * A worker's task failed. Retryable errors go back to the queue after a back-off until the attempts are
 * used up; errors that cannot succeed on retry fail the task, and its job, at once.
 */
export function fail(deps: SchedulerDeps, taskId: string, token: string, error: AppError, retryable = true): { state: "queued" | "failed" } {
  const task = heldTask(deps, taskId, token);
  const now = deps.clock.now();
  const attempts = task.attempts + 1;
  const policy = retryPolicy(deps.config.maxAttempts);
  const retryAtMs = retryable && isRetryable(error) && attempts < policy.maxAttempts ? nextAttemptAt(attempts, policy, now, (deps.random ?? Math.random)()) : null;
  return recordFailure(deps, task, error, retryAtMs);
}

function recordFailure(
  deps: SchedulerDeps,
  task: TaskRecord,
  error: Pick<AppError, "code" | "message">,
  retryAtMs: number | null,
  counts?: { itemsDone: number; itemsFailed: number; failures: TaskResult["failures"] },
): { state: "queued" | "failed" } {
  const now = deps.clock.now();
  const outcome = deps.store.failTask({ taskId: task.taskId, token: task.leaseToken!, nowMs: now, code: error.code, message: error.message, retryAtMs, counts });
  const text = `${error.code}: ${error.message}`;
  const final = !outcome.requeued;
  jobLog(deps, task.jobId, final ? "error" : "warn", `Task attempt ${outcome.attempts} failed (${text})${final ? "; no retry" : `; retry after ${Math.round((retryAtMs! - now) / 1000)} s`}`, task.taskId);
  deps.events.emit({ type: "task:failed", jobId: task.jobId, taskId: task.taskId, error: text, final, atMs: now });
  if (!final) deps.events.emit({ type: "task:requeued", jobId: task.jobId, taskId: task.taskId, reason: "retry", atMs: now });
  if (outcome.job) reportJobChange(deps, outcome.job);
  return { state: final ? "failed" : "queued" };
}
