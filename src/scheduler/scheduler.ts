import { isAppError, type AppError } from "../core/errors.ts";
import type { JobLogRecord, LogSeverity, Page } from "../storage/store.ts";
import { abortJob, createJob, restartJob, type CreateJobInput } from "./jobs.ts";
import { complete, fail, heartbeat, lease, type HeldLease } from "./leasing.ts";
import { jobDetails, type JobDetails } from "./progress.ts";
import { jobLog, reportJobChange, type SchedulerDeps } from "./scheduler-deps.ts";
import { jobNotFound } from "./states.ts";
import { sweep as sweepBatches, type SweepReport } from "./sweeper.ts";
import type { JobOptions, JobRecord, JobState, Lease, TaskResult } from "./types.ts";

export interface SchedulerSweepReport extends SweepReport {
  /** Tasks whose lease expired and went back to the queue. */
  requeued: string[];
  /** Tasks failed for good after too many lost workers. */
  lostTasks: string[];
  exportsQueued: string[];
  succeededJobs: string[];
  /** Jobs stopped for using up their machine time. */
  abortedJobs: string[];
}

/**
 * The scheduler: jobs and their tasks, leased to workers (local threads and remote agents make the same
 * calls), fenced by lease tokens, retried with back-off, swept for lost workers and finished stages.
 * Every state change is a store transaction followed by events on the bus and a line in the job's log.
 */
export class Scheduler {
  constructor(private readonly deps: SchedulerDeps) {}

  createJob(input: CreateJobInput): JobRecord {
    return createJob(this.deps, input);
  }

  getJob(jobId: string): JobRecord | undefined {
    return this.deps.store.getJob(jobId);
  }

  listJobs(opts: { pageSize: number; cursor?: string; state?: JobState }): Page<JobRecord> {
    return this.deps.store.listJobs(opts);
  }

  lease(owner: string, machineType: "cpu" | "gpu", capacity: number): Lease[] {
    return lease(this.deps, owner, machineType, capacity);
  }

  heartbeat(owner: string, leases: HeldLease[]): { lost: string[]; cancelled: string[] } {
    return heartbeat(this.deps, owner, leases);
  }

  complete(taskId: string, token: string, result: TaskResult): Promise<{ state: "succeeded" | "failed" }> {
    return complete(this.deps, taskId, token, result);
  }

  /** `retryable: false` when the worker knows that the error would recur; the retry rule applies on top. */
  fail(taskId: string, token: string, error: AppError, retryable?: boolean): { state: "queued" | "failed" } {
    return fail(this.deps, taskId, token, error, retryable);
  }

  abort(jobId: string, reason?: string): JobRecord {
    return abortJob(this.deps, jobId, reason);
  }

  restart(jobId: string, overrides?: Partial<JobOptions>): JobRecord {
    return restartJob(this.deps, jobId, overrides);
  }

  details(jobId: string): JobDetails {
    return jobDetails(this.deps, jobId);
  }

  /** The job's log, oldest first, from `minSeverity` up. */
  logs(jobId: string, minSeverity: LogSeverity = "info", page: { pageSize: number; cursor?: string } = { pageSize: 1000 }): Page<JobLogRecord> {
    if (!this.deps.store.getJob(jobId)) throw jobNotFound(jobId);
    return this.deps.store.listJobLogs(jobId, { minSeverity, ...page });
  }

  /**
   * One pass of housekeeping at `now`: expired leases requeued (or failed after too many stalls), finished
   * stages advanced, jobs over their machine time aborted, then expired batches deleted (except those of
   * pending and running jobs). A timer calls it; tests call it with the time they want.
   */
  sweep(now = this.deps.clock.now()): SchedulerSweepReport {
    const report: SchedulerSweepReport = { requeued: [], lostTasks: [], exportsQueued: [], succeededJobs: [], abortedJobs: [], expiredBatches: [], orphanDirs: [] };
    this.requeueExpired(now, report);
    for (const change of this.deps.store.advanceJobs(now)) {
      if (change.kind === "export-queued") report.exportsQueued.push(change.jobId);
      if (change.kind === "succeeded") report.succeededJobs.push(change.jobId);
      reportJobChange(this.deps, change);
    }
    for (const { jobId, maxRuntimeSeconds } of this.deps.store.listJobsOverRuntime(now)) {
      if (this.abortQuietly(jobId, `max runtime of ${maxRuntimeSeconds} machine-seconds used up`, now)) report.abortedJobs.push(jobId);
    }
    const batches = sweepBatches(this.deps, now);
    return { ...report, ...batches };
  }

  private requeueExpired(now: number, report: SchedulerSweepReport): void {
    const { store, config, events } = this.deps;
    for (const t of store.requeueExpired(now, config.maxStalls, config.leaseSeconds * 1000)) {
      const message = `lease expired: worker lost (${t.stalls} time${t.stalls === 1 ? "" : "s"})`;
      jobLog(this.deps, t.jobId, t.final ? "error" : "warn", t.final ? `${message}; no retry` : `${message}; task queued again`, t.taskId);
      if (t.final) {
        report.lostTasks.push(t.taskId);
        events.emit({ type: "task:failed", jobId: t.jobId, taskId: t.taskId, error: `WORKER_LOST: worker lost ${t.stalls} times`, final: true, atMs: now });
      } else {
        report.requeued.push(t.taskId);
        events.emit({ type: "task:requeued", jobId: t.jobId, taskId: t.taskId, reason: "lease-expired", atMs: now });
      }
      if (t.job) reportJobChange(this.deps, t.job);
    }
  }

  /** Aborts a job found over its limit; it may have ended since (a task finished it): that is no error. */
  private abortQuietly(jobId: string, reason: string, now: number): boolean {
    try {
      abortJob(this.deps, jobId, reason, now);
      return true;
    } catch (e) {
      if (isAppError(e) && e.code === "JOB_NOT_IN_STATE") return false;
      throw e;
    }
  }
}
