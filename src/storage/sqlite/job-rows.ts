import type { Database } from "bun:sqlite";
import { AppError } from "../../core/errors.ts";
import { taskIdOf } from "../../scheduler/jobs-naming.ts";
import { ACTIVE_JOB_STATES, JOB, TASK, expectOne, isActiveJob, jobNotFound, jobNotInState, jobStatesInto, jobTransition, sqlList } from "../../scheduler/states.ts";
import type { JobOptions, JobRecord, JobState, Stage } from "../../scheduler/types.ts";
import type { JobChange, JobProgress, JobProgressRow, Page } from "../store.ts";
import { decodeCursor, page } from "./paging.ts";
import { cancelTasks, insertTasks } from "./task-rows.ts";

/** The statements of the jobs table, and the job-wide changes (fail, abort, restart, advance) built on tasks. */
interface JobRow {
  job_id: string;
  name: string;
  type: JobRecord["type"];
  workflow_id: string;
  workflow_json: string;
  models_json: string;
  input_batch_id: string;
  options_json: string;
  state: JobState;
  current_stage: Stage | null;
  error: string | null;
  created_at_ms: number;
  started_at_ms: number | null;
  finished_at_ms: number | null;
  machine_ms: number;
  gpu_machine_ms: number;
  updated_at_ms: number;
}

const toJob = (r: JobRow): JobRecord => ({
  jobId: r.job_id,
  name: r.name,
  type: r.type,
  workflowId: r.workflow_id,
  workflowJson: r.workflow_json,
  modelsJson: r.models_json,
  inputBatchId: r.input_batch_id,
  options: JSON.parse(r.options_json) as JobOptions,
  state: r.state,
  currentStage: r.current_stage,
  error: r.error,
  createdAtMs: r.created_at_ms,
  startedAtMs: r.started_at_ms,
  finishedAtMs: r.finished_at_ms,
  machineMs: r.machine_ms,
  updatedAtMs: r.updated_at_ms,
});

const ACTIVE = sqlList(ACTIVE_JOB_STATES);

export function insertJob(db: Database, j: JobRecord): void {
  try {
    db.query(`INSERT INTO jobs (job_id, name, type, workflow_id, workflow_json, models_json, input_batch_id, options_json, state, current_stage,
      error, created_at_ms, started_at_ms, finished_at_ms, machine_ms, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
      j.jobId, j.name, j.type, j.workflowId, j.workflowJson, j.modelsJson, j.inputBatchId, JSON.stringify(j.options), j.state, j.currentStage,
      j.error, j.createdAtMs, j.startedAtMs, j.finishedAtMs, j.machineMs, j.updatedAtMs,
    );
  } catch (e) {
    if (String((e as Error).message).includes("UNIQUE")) throw new AppError("JOB_EXISTS", `Job '${j.jobId}' already exists`, 409, { jobId: j.jobId });
    throw e;
  }
}

export function getJob(db: Database, jobId: string): JobRecord | undefined {
  const row = db.query<JobRow, [string]>("SELECT * FROM jobs WHERE job_id = ?").get(jobId);
  return row ? toJob(row) : undefined;
}

export function listJobs(db: Database, opts: { pageSize: number; cursor?: string; state?: JobState }): Page<JobRecord> {
  // Without a cursor, everything sorts before (MAX, ""): the first page.
  const [atMs, id] = opts.cursor ? (decodeCursor(opts.cursor, 2) as [number, string]) : [Number.MAX_SAFE_INTEGER, ""];
  const rows = db
    .query<JobRow, [string | null, string | null, number, string, number]>(
      "SELECT * FROM jobs WHERE (? IS NULL OR state = ?) AND (created_at_ms, job_id) < (?, ?) ORDER BY created_at_ms DESC, job_id DESC LIMIT ?",
    )
    .all(opts.state ?? null, opts.state ?? null, atMs, id, opts.pageSize + 1);
  return page(rows.map(toJob), opts.pageSize, (j) => [j.createdAtMs, j.jobId]);
}

const stateOf = (db: Database, jobId: string) => db.query<{ state: JobState }, [string]>("SELECT state FROM jobs WHERE job_id = ?").get(jobId)?.state;

/** Adds machine time (the part on GPU machines apart) to the job. */
export function addMachineTime(db: Database, jobId: string, ms: number, gpuMs: number, nowMs: number): void {
  if (ms <= 0) return;
  db.query("UPDATE jobs SET machine_ms = machine_ms + ?, gpu_machine_ms = gpu_machine_ms + ?, updated_at_ms = ? WHERE job_id = ?").run(Math.round(ms), Math.round(gpuMs), nowMs, jobId);
}

const START = jobTransition(JOB.running, { from: [JOB.pending], set: "started_at_ms = COALESCE(started_at_ms, ?), updated_at_ms = ?", where: "job_id = ?" });

/** pending → running (first lease); false when it was running already. */
export const startJob = (db: Database, jobId: string, nowMs: number) => db.query(START).run(nowMs, nowMs, jobId).changes === 1;

/** Cancels the job's queued and leased tasks, counting the machine time the leases had used. */
function cancelAll(db: Database, jobId: string, nowMs: number): string[] {
  const cancelled = cancelTasks(db, jobId, nowMs);
  const held = cancelled.reduce((sum, t) => sum + t.held_ms, 0);
  const gpu = cancelled.reduce((sum, t) => sum + (t.leased_machine_type === "gpu" ? t.held_ms : 0), 0);
  addMachineTime(db, jobId, held, gpu, nowMs);
  return cancelled.map((t) => t.task_id);
}

const FAIL = jobTransition(JOB.failed, { set: "error = ?, finished_at_ms = ?, updated_at_ms = ?", where: "job_id = ?" });

/** An active job → failed, its other work cancelled; null when the job had ended already. */
export function failJob(db: Database, jobId: string, error: string, nowMs: number): JobChange | null {
  if (db.query(FAIL).run(error, nowMs, nowMs, jobId).changes === 0) return null;
  return { jobId, kind: "failed", error, cancelledTaskIds: cancelAll(db, jobId, nowMs) };
}

const ABORT = jobTransition(JOB.aborted, { set: "error = ?, finished_at_ms = ?, updated_at_ms = ?", where: "job_id = ?" });

export function abortJob(db: Database, jobId: string, reason: string, nowMs: number): string[] {
  const state = stateOf(db, jobId);
  if (!state) throw jobNotFound(jobId);
  expectOne(db.query(ABORT).run(reason, nowMs, nowMs, jobId).changes, () => jobNotInState(jobId, state, "abort", jobStatesInto(JOB.aborted)));
  return cancelAll(db, jobId, nowMs);
}

const RESTART = jobTransition(JOB.pending, { set: "options_json = ?, error = NULL, finished_at_ms = NULL, updated_at_ms = ?", where: "job_id = ?" });

/** Checks and moves the job; the caller queues its unfinished tasks in the same transaction. */
export function restartJob(db: Database, jobId: string, options: JobOptions, nowMs: number): void {
  const state = stateOf(db, jobId);
  if (!state) throw jobNotFound(jobId);
  expectOne(db.query(RESTART).run(JSON.stringify(options), nowMs, jobId).changes, () => jobNotInState(jobId, state, "restart", jobStatesInto(JOB.pending)));
}

const SUCCEED = jobTransition(JOB.succeeded, { set: "finished_at_ms = ?, updated_at_ms = ?", where: "job_id = ?" });

interface StageCounts {
  processing: number;
  processed: number;
  exports: number;
  exported: number;
}

/**
 * Moves an active job to its next stage: all processing tasks succeeded and no export task yet → the export
 * task is queued; the export task succeeded → the job succeeded. Null when there is nothing to do.
 */
export function advanceJob(db: Database, jobId: string, nowMs: number): JobChange | null {
  const state = stateOf(db, jobId);
  if (!state || !isActiveJob(state)) return null;
  const c = db
    .query<StageCounts, [string]>(
      `SELECT COALESCE(SUM(stage = 'processing'), 0) AS processing, COALESCE(SUM(stage = 'processing' AND state = 'succeeded'), 0) AS processed,
        COALESCE(SUM(stage = 'export'), 0) AS exports, COALESCE(SUM(stage = 'export' AND state = 'succeeded'), 0) AS exported
       FROM tasks WHERE job_id = ?`,
    )
    .get(jobId)!;
  if (c.exports === 0 && c.processing > 0 && c.processed === c.processing) {
    const taskId = taskIdOf(jobId, "export", 0);
    insertTasks(db, [{
      taskId, jobId, stage: "export", index: 0, state: TASK.queued, items: [], itemsTotal: 1, itemsDone: 0, itemsFailed: 0, attempts: 0, stalls: 0,
      // Merging and packing needs no engine: any free worker does it.
      machineType: "auto",
      leaseOwner: null, leaseToken: null, leaseExpiresAtMs: null, availableAtMs: nowMs, startedAtMs: null, finishedAtMs: null, machineMs: 0, errorCode: null, error: null,
    }]);
    db.query("UPDATE jobs SET current_stage = 'export', updated_at_ms = ? WHERE job_id = ?").run(nowMs, jobId);
    return { jobId, kind: "export-queued", taskId };
  }
  if (c.exports > 0 && c.exported === c.exports && db.query(SUCCEED).run(nowMs, nowMs, jobId).changes === 1) return { jobId, kind: "succeeded" };
  return null;
}

export function advanceJobs(db: Database, nowMs: number, jobId?: string): JobChange[] {
  const ids = jobId ? [jobId] : db.query<{ job_id: string }, []>(`SELECT job_id FROM jobs WHERE state IN ${ACTIVE}`).all().map((r) => r.job_id);
  return ids.map((id) => advanceJob(db, id, nowMs)).filter((c): c is JobChange => c !== null);
}

export function listJobsOverRuntime(db: Database, nowMs: number): { jobId: string; maxRuntimeSeconds: number }[] {
  return db
    .query<{ jobId: string; maxRuntimeSeconds: number }, [number]>(
      `SELECT job_id AS jobId, limit_s AS maxRuntimeSeconds FROM (
         SELECT j.job_id, json_extract(j.options_json, '$.maxRuntimeSeconds') AS limit_s,
           j.machine_ms + COALESCE((SELECT SUM(MAX(0, ?1 - t.leased_at_ms)) FROM tasks t WHERE t.job_id = j.job_id AND t.state = 'leased'), 0) AS used_ms
         FROM jobs j WHERE j.state IN ${ACTIVE})
       WHERE limit_s IS NOT NULL AND used_ms > limit_s * 1000`,
    )
    .all(nowMs);
}

export function jobProgress(db: Database, jobId: string, nowMs: number): JobProgress {
  const rows = db
    .query<JobProgressRow & { liveMs: number; liveGpuMs: number }, [number, string]>(
      `SELECT stage, state, COUNT(*) AS tasks, SUM(items_total) AS itemsTotal, SUM(items_done) AS itemsDone, SUM(items_failed) AS itemsFailed,
         SUM(CASE WHEN state = 'leased' THEN MAX(0, ?1 - leased_at_ms) ELSE 0 END) AS liveMs,
         SUM(CASE WHEN state = 'leased' AND leased_machine_type = 'gpu' THEN MAX(0, ?1 - leased_at_ms) ELSE 0 END) AS liveGpuMs
       FROM tasks WHERE job_id = ?2 GROUP BY stage, state`,
    )
    .all(nowMs, jobId);
  const job = db.query<{ machine_ms: number; gpu_machine_ms: number }, [string]>("SELECT machine_ms, gpu_machine_ms FROM jobs WHERE job_id = ?").get(jobId);
  if (!job) throw jobNotFound(jobId);
  return {
    rows: rows.map(({ liveMs: _l, liveGpuMs: _g, ...r }) => r),
    machineMs: job.machine_ms + rows.reduce((s, r) => s + r.liveMs, 0),
    gpuMachineMs: job.gpu_machine_ms + rows.reduce((s, r) => s + r.liveGpuMs, 0),
  };
}
