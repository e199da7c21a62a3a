import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { Staging } from "../storage/staging.ts";
import type { JobChange, LogSeverity, Store } from "../storage/store.ts";
import type { EventBus } from "./events.ts";

/** What the scheduler is given; nothing else is imported as a singleton. */
export interface SchedulerDeps {
  store: Store;
  staging: Staging;
  clock: Clock;
  config: Readonly<Config>;
  log: Logger;
  events: EventBus;
  /** Numbers in [0, 1) for retry jitter; tests pin it. */
  random?: () => number;
}

/**
 * Writes a line to the job's log. It runs after the change it describes is committed, so a failure here
 * (a full disk) is logged and swallowed: the job's state is right, only its story is short of a line.
 */
export function jobLog(deps: SchedulerDeps, jobId: string, severity: LogSeverity, message: string, taskId: string | null = null): void {
  try {
    deps.store.addJobLog({ jobId, taskId, severity, message, atMs: deps.clock.now() });
  } catch (e) {
    deps.log.error("could not write to a job's log", { jobId, error: (e as Error).message });
  }
  deps.log[severity === "info" ? "debug" : severity](message, { jobId, ...(taskId ? { taskId } : {}) });
}

/** Announces a job's current state and stage (after any change of either). */
export function emitJobState(deps: SchedulerDeps, jobId: string): void {
  const job = deps.store.getJob(jobId);
  if (job) deps.events.emit({ type: "job:state", jobId, state: job.state, stage: job.currentStage, error: job.error, atMs: deps.clock.now() });
}

/** Events and log lines for what a task's end (or the sweep) did to its job. */
export function reportJobChange(deps: SchedulerDeps, change: JobChange): void {
  switch (change.kind) {
    case "export-queued":
      jobLog(deps, change.jobId, "info", "All processing tasks succeeded; export task queued", change.taskId);
      break;
    case "succeeded":
      jobLog(deps, change.jobId, "info", "Job succeeded");
      break;
    case "failed":
      jobLog(deps, change.jobId, "error", `Job failed: ${change.error}${change.cancelledTaskIds.length ? `; ${change.cancelledTaskIds.length} other task(s) cancelled` : ""}`);
      break;
  }
  emitJobState(deps, change.jobId);
}
