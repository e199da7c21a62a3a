/**
 * Jobs and tasks as the scheduler, the store, the workers and the HTTP layer all see them.
 *
 * A job runs one workflow over one input batch in two stages: `processing` (tasks of up to `chunkSize`
 * images, or one video each) then `export` (one task merging the processing results). Each stage writes an
 * output batch: `<jobId>-processing` and `<jobId>-export`.
 */
export const JOB_STATES = ["pending", "running", "succeeded", "failed", "aborted"] as const;
export type JobState = (typeof JOB_STATES)[number];

export const TASK_STATES = ["queued", "leased", "succeeded", "failed", "cancelled"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export const STAGES = ["processing", "export"] as const;
export type Stage = (typeof STAGES)[number];

export type MachineType = "auto" | "cpu" | "gpu";

/** Everything a caller can set on a job (CLI flags, API body, UI form). */
export interface JobOptions {
  machineType: MachineType;
  /** Workers this job may use per machine (local workers and each agent). */
  workersPerMachine: number | null;
  /** Total machine-seconds the job may use (all workers together); null: no limit. */
  maxRuntimeSeconds: number | null;
  /** Tasks of this job running at once; null: as many as workers are free. */
  maxParallelTasks: number | null;
  /** A task fails when more than this share of its images fail (0..1). */
  maxImageFailureRate: number;
  aggregationFormat: "jsonl" | "csv";
  /** Archive format of the export stage. */
  archiveFormat: "tar.gz" | "zip";
  saveImageOutputs: boolean;
  /** Names of the workflow's image outputs to save; empty: all of them (when saveImageOutputs). */
  imageOutputsToSave: string[];
  workflowParams: Record<string, unknown>;
  /** Name of the workflow's image input to feed; null: its only image input. */
  imageInputName: string | null;
  notificationsUrl: string | null;
  /** Also notify on each task's end (not only on job state changes). */
  notifyTasks: boolean;
  /** Images per processing task. */
  chunkSize: number;
  /** Videos: frames per second to process (null: every frame). Used by the video issue. */
  maxVideoFps: number | null;
  saveVideoOutputs: boolean;
  /** Videos longer than this many seconds run as several tasks, one per segment (null: never split). */
  videoSegmentSeconds: number | null;
}

export interface JobRecord {
  jobId: string;
  name: string;
  type: "images" | "videos";
  workflowId: string;
  /** The definition as it was when the job was created: a restart runs the same workflow. */
  workflowJson: string;
  /** Model id → { info, path } resolved at creation (ModelInfo as JSON, the file's path in the data dir). */
  modelsJson: string;
  inputBatchId: string;
  options: JobOptions;
  state: JobState;
  currentStage: Stage | null;
  /** Why the job failed or was aborted. */
  error: string | null;
  createdAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  /** Machine time used by all its tasks (all attempts). */
  machineMs: number;
  updatedAtMs: number;
}

export interface TaskRecord {
  taskId: string;
  jobId: string;
  stage: Stage;
  /** Order within the stage: results are merged in this order (input order). */
  index: number;
  state: TaskState;
  /** Input file names of the input batch (processing), empty for export. */
  items: string[];
  itemsTotal: number;
  itemsDone: number;
  itemsFailed: number;
  /** Attempts that ran and failed (errors), and leases that expired (stalls): counted apart. */
  attempts: number;
  stalls: number;
  machineType: MachineType;
  leaseOwner: string | null;
  leaseToken: string | null;
  leaseExpiresAtMs: number | null;
  /** Earliest time it may be leased again (retry back-off). */
  availableAtMs: number;
  startedAtMs: number | null;
  finishedAtMs: number | null;
  machineMs: number;
  errorCode: string | null;
  error: string | null;
}

/** A task handed to a worker: what it needs to run it, and the token that fences its later writes. */
export interface Lease {
  taskId: string;
  jobId: string;
  stage: Stage;
  index: number;
  token: string;
  expiresAtMs: number;
  items: string[];
}

/** One image (or frame) that failed inside a task, with its cause. */
export interface ItemFailure {
  item: string;
  code: string;
  message: string;
}

/** What a worker reports when a processing task is done: result files are in the worker's temp folder. */
export interface TaskResult {
  itemsDone: number;
  itemsFailed: number;
  failures: ItemFailure[];
  /** Files to add to the stage's output batch: part, name in the part, and the temp file to move there. */
  files: { part: string; name: string; tempPath: string; contentType: string }[];
  machineMs: number;
}

/** Events on the bus: SSE, webhooks, metrics and tests listen to them. */
export type SchedulerEvent =
  | { type: "job:created"; jobId: string; atMs: number }
  | { type: "job:state"; jobId: string; state: JobState; stage: Stage | null; error: string | null; atMs: number }
  | { type: "job:progress"; jobId: string; atMs: number }
  | { type: "task:leased"; jobId: string; taskId: string; owner: string; atMs: number }
  | { type: "task:succeeded"; jobId: string; taskId: string; atMs: number }
  | { type: "task:failed"; jobId: string; taskId: string; error: string; final: boolean; atMs: number }
  | { type: "task:requeued"; jobId: string; taskId: string; reason: "lease-expired" | "retry" | "lease-lost"; atMs: number }
  | { type: "agent:lost"; agentId: string; atMs: number };
