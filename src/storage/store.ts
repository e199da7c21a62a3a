import type { ItemFailure, JobRecord, JobState, Stage, TaskRecord, TaskState } from "../scheduler/types.ts";

/**
 * The store interface: every persistent read and write goes through these verbs. src/storage/sqlite
 * implements it; nothing else imports bun:sqlite.
 */
export type BatchType = "images" | "videos";
export type BatchKind = "input" | "output";

export interface BatchRecord {
  id: string;
  name: string;
  type: BatchType;
  kind: BatchKind;
  createdAtMs: number;
  expiresAtMs: number;
  fileCount: number;
  totalBytes: number;
}

export interface PartRecord {
  batchId: string;
  name: string;
  fileCount: number;
  totalBytes: number;
  createdAtMs: number;
}

export interface BatchFileRecord {
  batchId: string;
  part: string;
  name: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  createdAtMs: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; undefined on the last page. */
  next: string | undefined;
}

/** A registered model; its file is `models/<sha256>.onnx` in the data dir, shared by ids with the same content. */
export interface ModelRecord {
  modelId: string;
  sha256: string;
  family: string;
  task: string;
  /** The engine's ModelInfo as JSON: storage keeps it without knowing its shape. */
  infoJson: string;
  sizeBytes: number;
  createdAtMs: number;
}

/** A stored workflow definition (kept as the JSON text it was given). */
export interface WorkflowRecord {
  workflowId: string;
  definitionJson: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewBatch = Omit<BatchRecord, "fileCount" | "totalBytes">;

export type LogSeverity = "info" | "warn" | "error";
export const LOG_SEVERITIES: readonly LogSeverity[] = ["info", "warn", "error"];

export interface JobLogRecord {
  logId: number;
  jobId: string;
  taskId: string | null;
  severity: LogSeverity;
  message: string;
  atMs: number;
}
export type NewJobLog = Omit<JobLogRecord, "logId">;

/** Failed images of a job sharing one error code, with one of them as an example. */
export interface FailureCause {
  code: string;
  count: number;
  example: { taskId: string; item: string; message: string };
}

export interface ClaimRequest {
  owner: string;
  /** The kind of machine asking: it gets tasks of jobs that asked for that kind, or for `auto`. */
  machineType: "cpu" | "gpu";
  capacity: number;
  nowMs: number;
  expiresAtMs: number;
  newToken(): string;
}
/** Leased tasks, and the jobs that these leases moved from pending to running. */
export interface Claim {
  tasks: TaskRecord[];
  startedJobIds: string[];
}

export interface LeaseProgress {
  taskId: string;
  token: string;
  itemsDone: number;
  itemsFailed: number;
}
export interface HeartbeatAnswer {
  /** Leases renewed, with their jobs (whose progress moved). */
  renewed: { taskId: string; jobId: string }[];
  /** No longer held under that token: expired, taken over, or unknown. */
  lost: string[];
  /** Cancelled under that token: the job was aborted or failed. */
  cancelled: string[];
}

/** A fenced completion: counters, per-image failures and the rows of result files already moved into place. */
export interface TaskCompletion {
  taskId: string;
  token: string;
  nowMs: number;
  itemsDone: number;
  itemsFailed: number;
  machineMs: number;
  failures: ItemFailure[];
  files: BatchFileRecord[];
}
/** A fenced failure: back to the queue at `retryAtMs`, or (null) failed for good, failing its job. */
export interface TaskFailureInput {
  taskId: string;
  token: string;
  nowMs: number;
  code: string;
  message: string;
  retryAtMs: number | null;
  /** Counters and per-image failures to keep (the image-failure-rate rule). */
  counts?: { itemsDone: number; itemsFailed: number; failures: ItemFailure[] };
}

/** What a change did to a job beyond the task itself. */
export type JobChange =
  | { jobId: string; kind: "export-queued"; taskId: string }
  | { jobId: string; kind: "succeeded" }
  | { jobId: string; kind: "failed"; error: string; cancelledTaskIds: string[] };

export interface FailOutcome {
  jobId: string;
  attempts: number;
  requeued: boolean;
  job: JobChange | null;
}

export interface ExpiredLease {
  taskId: string;
  jobId: string;
  stalls: number;
  /** True when the task failed for good (too many stalls); `job` then says the job failed. */
  final: boolean;
  job: JobChange | null;
}

export interface JobProgressRow {
  stage: Stage;
  state: TaskState;
  tasks: number;
  itemsTotal: number;
  itemsDone: number;
  itemsFailed: number;
}
export interface JobProgress {
  rows: JobProgressRow[];
  /** Machine time so far: finished attempts plus the leases running now. */
  machineMs: number;
  gpuMachineMs: number;
}

/** Totals for monitoring (`/metrics`). */
export interface StoreMetrics {
  tasksByState: Record<string, number>;
  jobsByState: Record<string, number>;
  /** Processing items done and failed, and machine time, by job type (images, videos). */
  items: { type: string; done: number; failed: number; ms: number }[];
  /** Queued tasks that may be leased now. */
  queueDepth: number;
}

export interface Store {
  /** Throws AppError BATCH_EXISTS when the id is taken. */
  createBatch(batch: NewBatch): BatchRecord;
  getBatch(id: string): BatchRecord | undefined;
  listBatches(opts: { pageSize: number; cursor?: string }): Page<BatchRecord>;
  listParts(batchId: string): PartRecord[];
  getBatchFile(batchId: string, part: string, name: string): BatchFileRecord | undefined;
  /** Inserts or replaces file rows and keeps the part counters right, in one transaction. */
  putBatchFiles(files: BatchFileRecord[]): void;
  listBatchFiles(batchId: string, opts: { part?: string; pageSize: number; cursor?: string }): Page<BatchFileRecord>;
  /** Deletes the batch with its parts and file rows; false when it did not exist. */
  deleteBatch(id: string): boolean;
  /** Batches whose expiry is at or before `nowMs`, except those a pending or running job uses. */
  listExpiredBatches(nowMs: number, limit: number): BatchRecord[];
  /** Adds a model; with `overwrite` replaces one of the same id, else throws AppError MODEL_EXISTS (409). */
  putModel(model: ModelRecord, overwrite: boolean): void;
  getModel(modelId: string): ModelRecord | undefined;
  /** Models by id. */
  listModels(opts: { pageSize: number; cursor?: string }): Page<ModelRecord>;
  /** False when it did not exist. */
  deleteModel(modelId: string): boolean;
  /** How many models use the file with this content, so that it is deleted with the last one. */
  countModelsWithSha(sha256: string): number;
  /** Adds a workflow; with `overwrite` replaces one of the same id (keeping its creation time), else throws WORKFLOW_EXISTS (409). */
  putWorkflow(workflow: WorkflowRecord, overwrite: boolean): void;
  getWorkflow(workflowId: string): WorkflowRecord | undefined;
  listWorkflows(opts: { pageSize: number; cursor?: string }): Page<WorkflowRecord>;
  deleteWorkflow(workflowId: string): boolean;
  /** File names of a batch part in name order. */
  listBatchFileNames(batchId: string, part: string): string[];

  /** Inserts the job, its tasks and its output batches in one transaction; JOB_EXISTS (409) when the id is taken. */
  createJob(job: JobRecord, tasks: TaskRecord[], batches: NewBatch[]): void;
  getJob(jobId: string): JobRecord | undefined;
  /** Newest first. */
  listJobs(opts: { pageSize: number; cursor?: string; state?: JobState }): Page<JobRecord>;
  getTask(taskId: string): TaskRecord | undefined;
  /** A stage's tasks in index order. */
  listTasks(jobId: string, opts: { stage: Stage; state?: TaskState; pageSize: number; cursor?: string }): Page<TaskRecord>;
  /** Tasks carrying an error (failed, or queued again after one), by stage and index. */
  listTaskErrors(jobId: string, limit: number): TaskRecord[];
  /** The lease query: up to `capacity` queued tasks, fair between jobs (fewest leased, then oldest). */
  claimTasks(req: ClaimRequest): Claim;
  /** Renews the owner's leases still held under their tokens and records their progress. */
  heartbeatLeases(owner: string, leases: LeaseProgress[], expiresAtMs: number): HeartbeatAnswer;
  /** leased → succeeded under the token, with its files and failures, then advances the job; LEASE_LOST (409) otherwise. */
  completeTask(c: TaskCompletion): JobChange | null;
  /** leased → queued (retry) or failed (for good, failing the job) under the token; LEASE_LOST (409) otherwise. */
  failTask(f: TaskFailureInput): FailOutcome;
  /** Leases expired at `nowMs` go back to the queue with one more stall; past `maxStalls` they fail for good. */
  requeueExpired(nowMs: number, maxStalls: number, leaseMs: number): ExpiredLease[];
  /** Queues the export task of jobs whose processing is done, and ends jobs whose export is done. */
  advanceJobs(nowMs: number, jobId?: string): JobChange[];
  /** pending/running → aborted, its queued and leased tasks cancelled (their ids returned). */
  abortJob(jobId: string, reason: string, nowMs: number): string[];
  /** failed/aborted → pending with new options; failed and cancelled tasks queued afresh. Returns how many. */
  restartJob(jobId: string, options: JobRecord["options"], nowMs: number): number;
  /** Active jobs whose machine time (leases running now included) is past their maxRuntimeSeconds. */
  listJobsOverRuntime(nowMs: number): { jobId: string; maxRuntimeSeconds: number }[];
  jobProgress(jobId: string, nowMs: number): JobProgress;
  addJobLog(log: NewJobLog): void;
  /** Oldest first. */
  listJobLogs(jobId: string, opts: { minSeverity: LogSeverity; pageSize: number; cursor?: string }): Page<JobLogRecord>;
  /** Per-image failures of a job grouped by error code, most frequent first. */
  failuresByCause(jobId: string): FailureCause[];
  metrics(nowMs: number): StoreMetrics;
  close(): void;
}
