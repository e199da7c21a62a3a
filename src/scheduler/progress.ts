import type { Config } from "../core/config.ts";
import type { FailureCause, JobProgress } from "../storage/store.ts";
import { exportBatchId, processingBatchId } from "./jobs-naming.ts";
import type { SchedulerDeps } from "./scheduler-deps.ts";
import { isActiveJob, jobNotFound } from "./states.ts";
import { STAGES, TASK_STATES, type JobRecord, type MachineType, type Stage, type TaskState } from "./types.ts";

export interface StageProgress {
  stage: Stage;
  /** Tasks in each state (every state present, 0 when none). */
  tasks: Record<TaskState, number>;
  tasksTotal: number;
  itemsTotal: number;
  /** Items done without failure, and items failed, live (heartbeats carry the running tasks' counts). */
  itemsDone: number;
  itemsFailed: number;
}

export interface TaskErrorView {
  taskId: string;
  stage: Stage;
  index: number;
  state: TaskState;
  attempts: number;
  stalls: number;
  errorCode: string | null;
  error: string | null;
}

export interface JobDetails {
  job: JobRecord;
  outputBatches: { processing: string; export: string };
  stages: StageProgress[];
  /** Processing items (done or failed) per second of the job's running time. */
  itemsPerSecond: number;
  /** Seconds until processing is done at that rate; null when unknown (not started, stopped, no rate yet). */
  etaSeconds: number | null;
  machineSeconds: number;
  gpuMachineSeconds: number;
  /** Credits: machine-hours × the rate of the machines that ran (see jobCost). */
  cost: number;
  errorsByCause: FailureCause[];
  /** Tasks that failed, or failed an attempt and wait to run again. */
  taskErrors: TaskErrorView[];
}

const HOUR_MS = 3_600_000;

/**
 * A job's cost in credits. A gpu (cpu) job pays the GPU (CPU) rate for all its machine time; an auto job
 * pays for what ran where: its time on GPU machines at the GPU rate, the rest at the CPU rate.
 */
export function jobCost(machineType: MachineType, machineMs: number, gpuMachineMs: number, rates: Pick<Config, "costPerGpuHour" | "costPerCpuHour">): number {
  if (machineType === "gpu") return (machineMs / HOUR_MS) * rates.costPerGpuHour;
  if (machineType === "cpu") return (machineMs / HOUR_MS) * rates.costPerCpuHour;
  return (gpuMachineMs / HOUR_MS) * rates.costPerGpuHour + ((machineMs - gpuMachineMs) / HOUR_MS) * rates.costPerCpuHour;
}

function stagesOf(p: JobProgress): StageProgress[] {
  return STAGES.flatMap((stage) => {
    const rows = p.rows.filter((r) => r.stage === stage);
    if (rows.length === 0) return [];
    const tasks = Object.fromEntries(TASK_STATES.map((s) => [s, 0])) as Record<TaskState, number>;
    for (const r of rows) tasks[r.state] = r.tasks;
    const sum = (k: "tasks" | "itemsTotal" | "itemsDone" | "itemsFailed") => rows.reduce((s, r) => s + r[k], 0);
    return [{ stage, tasks, tasksTotal: sum("tasks"), itemsTotal: sum("itemsTotal"), itemsDone: sum("itemsDone"), itemsFailed: sum("itemsFailed") }];
  });
}

/** Rate and ETA of the processing stage, from the items handled since the job started. */
function rateOf(job: JobRecord, processing: StageProgress | undefined, now: number): { itemsPerSecond: number; etaSeconds: number | null } {
  if (!processing || job.startedAtMs === null) return { itemsPerSecond: 0, etaSeconds: null };
  const handled = processing.itemsDone + processing.itemsFailed;
  const seconds = ((job.finishedAtMs ?? now) - job.startedAtMs) / 1000;
  const itemsPerSecond = seconds > 0 ? handled / seconds : 0;
  const left = processing.itemsTotal - handled;
  if (left <= 0) return { itemsPerSecond, etaSeconds: 0 };
  return { itemsPerSecond, etaSeconds: isActiveJob(job.state) && itemsPerSecond > 0 ? left / itemsPerSecond : null };
}

export function jobDetails(deps: SchedulerDeps, jobId: string): JobDetails {
  const job = deps.store.getJob(jobId);
  if (!job) throw jobNotFound(jobId);
  const now = deps.clock.now();
  const progress = deps.store.jobProgress(jobId, now);
  const stages = stagesOf(progress);
  return {
    job,
    outputBatches: { processing: processingBatchId(jobId), export: exportBatchId(jobId) },
    stages,
    ...rateOf(job, stages.find((s) => s.stage === "processing"), now),
    machineSeconds: progress.machineMs / 1000,
    gpuMachineSeconds: progress.gpuMachineMs / 1000,
    cost: jobCost(job.options.machineType, progress.machineMs, progress.gpuMachineMs, deps.config),
    errorsByCause: deps.store.failuresByCause(jobId),
    taskErrors: deps.store.listTaskErrors(jobId, 100).map((t) => ({
      taskId: t.taskId, stage: t.stage, index: t.index, state: t.state, attempts: t.attempts, stalls: t.stalls, errorCode: t.errorCode, error: t.error,
    })),
  };
}
