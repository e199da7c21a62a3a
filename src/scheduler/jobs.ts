import { segmentItems } from "../engine/video/segments.ts";
import { AppError, invalid, notFound } from "../core/errors.ts";
import { INPUT_PART } from "../storage/batches.ts";
import type { NewBatch } from "../storage/store.ts";
import { resolveJobOptions } from "./jobs-options.ts";
import { assertJobId, exportBatchId, newJobId, processingBatchId, taskIdOf } from "./jobs-naming.ts";
import { emitJobState, jobLog, reportJobChange, type SchedulerDeps } from "./scheduler-deps.ts";
import { JOB, TASK, canMoveJob, jobNotFound, jobNotInState, jobStatesInto } from "./states.ts";
import type { JobOptions, JobRecord, TaskRecord } from "./types.ts";

export interface CreateJobInput {
  /** Default: `job-` and 12 random letters and digits. */
  jobId?: string;
  /** Default: the job id. */
  name?: string;
  workflowId: string;
  /** The workflow definition and its resolved models, as compiled by the caller: the job keeps this snapshot. */
  workflowJson: string;
  modelsJson: string;
  inputBatchId: string;
  type: "images" | "videos";
  /** Over the defaults (defaultJobOptions). */
  options?: Partial<JobOptions>;
  /** Videos: their durations in seconds (probed by the caller), to split long ones into segments. */
  videoDurations?: Record<string, number>;
}

/** Input names in chunks of `size`, in order: task i holds names [i*size, (i+1)*size). */
export function shard(names: readonly string[], size: number): string[][] {
  const chunks: string[][] = [];
  for (let i = 0; i < names.length; i += size) chunks.push(names.slice(i, i + size));
  return chunks;
}

const DAY_MS = 86_400_000;

/**
 * Creates a job over an input batch: shards the batch's files by name into processing tasks (a video per
 * task), and stores the job, its tasks and its two output batches in one transaction. The job starts
 * pending and runs when a worker leases its first task.
 */
export function createJob(deps: SchedulerDeps, input: CreateJobInput): JobRecord {
  const jobId = input.jobId === undefined ? newJobId() : assertJobId(input.jobId);
  const options = resolveJobOptions(deps.config, input.options);
  const batch = deps.store.getBatch(input.inputBatchId);
  if (!batch) throw notFound("Batch", input.inputBatchId, "BATCH_NOT_FOUND");
  if (batch.kind !== "input") throw invalid(`Batch '${batch.id}' is a job's output; a job reads an input batch`, { batchId: batch.id }, "BATCH_NOT_INPUT");
  if (batch.type !== input.type)
    throw invalid(`Batch '${batch.id}' holds ${batch.type}, not ${input.type}`, { batchId: batch.id, type: batch.type }, "BATCH_TYPE_MISMATCH");
  if (deps.store.getJob(jobId)) throw new AppError("JOB_EXISTS", `Job '${jobId}' already exists`, 409, { jobId });
  const names = deps.store.listBatchFileNames(batch.id, INPUT_PART);
  if (names.length === 0) throw invalid(`Batch '${batch.id}' is empty: upload files before starting a job on it`, { batchId: batch.id }, "BATCH_EMPTY");

  const now = deps.clock.now();
  const items = input.type === "videos" ? names.flatMap((n) => segmentItems(n, input.videoDurations?.[n] ?? 0, options.videoSegmentSeconds ?? 0)) : names;
  const tasks = shard(items, input.type === "videos" ? 1 : options.chunkSize).map((group, index) => newTask(jobId, index, group, options, now));
  const job: JobRecord = {
    jobId, name: input.name || jobId, type: input.type, workflowId: input.workflowId, workflowJson: input.workflowJson, modelsJson: input.modelsJson,
    inputBatchId: batch.id, options, state: "pending", currentStage: "processing", error: null,
    createdAtMs: now, startedAtMs: null, finishedAtMs: null, machineMs: 0, updatedAtMs: now,
  };
  const expiresAtMs = now + deps.config.retentionDays * DAY_MS;
  const output = (id: string): NewBatch => ({ id, name: id, type: input.type, kind: "output", createdAtMs: now, expiresAtMs });
  deps.store.createJob(job, tasks, [output(processingBatchId(jobId)), output(exportBatchId(jobId))]);
  const segmented = items.length > names.length ? ` (long videos split into segments of ${options.videoSegmentSeconds} s)` : "";
  jobLog(deps, jobId, "info", `Job created: ${names.length} ${input.type} of batch '${batch.id}' in ${tasks.length} task(s)${segmented}`);
  deps.events.emit({ type: "job:created", jobId, atMs: now });
  return job;
}

function newTask(jobId: string, index: number, items: string[], options: JobOptions, now: number): TaskRecord {
  return {
    taskId: taskIdOf(jobId, "processing", index), jobId, stage: "processing", index, state: TASK.queued, items, itemsTotal: items.length,
    itemsDone: 0, itemsFailed: 0, attempts: 0, stalls: 0, machineType: options.machineType, leaseOwner: null, leaseToken: null,
    leaseExpiresAtMs: null, availableAtMs: now, startedAtMs: null, finishedAtMs: null, machineMs: 0, errorCode: null, error: null,
  };
}

/** Stops a pending or running job: its queued and leased tasks are cancelled, finished results stay. */
export function abortJob(deps: SchedulerDeps, jobId: string, reason = "aborted by user", now = deps.clock.now()): JobRecord {
  const cancelled = deps.store.abortJob(jobId, reason, now);
  jobLog(deps, jobId, "warn", `Job aborted: ${reason}; ${cancelled.length} task(s) cancelled`);
  emitJobState(deps, jobId);
  return deps.store.getJob(jobId)!;
}

/**
 * Runs a failed or aborted job again, redoing only what is not done: its failed and cancelled tasks are
 * queued afresh, succeeded ones keep their results. Options may be changed, except the chunk size (the
 * work is sharded already).
 */
export function restartJob(deps: SchedulerDeps, jobId: string, overrides: Partial<JobOptions> = {}): JobRecord {
  const job = deps.store.getJob(jobId);
  if (!job) throw jobNotFound(jobId);
  if (!canMoveJob(job.state, JOB.pending)) throw jobNotInState(jobId, job.state, "restart", jobStatesInto(JOB.pending));
  const gone = [job.inputBatchId, processingBatchId(jobId), exportBatchId(jobId)].filter((id) => !deps.store.getBatch(id));
  if (gone.length)
    throw new AppError("BATCH_EXPIRED", `Cannot restart job '${jobId}': batch(es) ${gone.join(", ")} expired or were deleted; start a new job`, 409, { batches: gone });
  if (overrides.chunkSize !== undefined && overrides.chunkSize !== job.options.chunkSize)
    throw invalid(`chunkSize cannot change when job '${jobId}' restarts: its work is sharded already`, { field: "chunkSize" });
  const options = resolveJobOptions(deps.config, { ...job.options, ...overrides });
  const now = deps.clock.now();
  const requeued = deps.store.restartJob(jobId, options, now);
  jobLog(deps, jobId, "info", `Job restarted: ${requeued} task(s) queued again`);
  emitJobState(deps, jobId);
  // A job stopped between its last processing task and the export task's creation goes on at once.
  for (const change of deps.store.advanceJobs(now, jobId)) reportJobChange(deps, change);
  return deps.store.getJob(jobId)!;
}
