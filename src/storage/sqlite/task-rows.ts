import type { Database } from "bun:sqlite";
import { TASK, taskTransition } from "../../scheduler/states.ts";
import type { MachineType, Stage, TaskRecord, TaskState } from "../../scheduler/types.ts";
import type { Page } from "../store.ts";
import { decodeCursor, page } from "./paging.ts";

/** The statements of the tasks table; the job and lease verbs of SqliteStore build on these. */
export interface TaskRow {
  task_id: string;
  job_id: string;
  stage: Stage;
  task_index: number;
  state: TaskState;
  items_json: string;
  items_total: number;
  items_done: number;
  items_failed: number;
  attempts: number;
  stalls: number;
  machine_type: MachineType;
  lease_owner: string | null;
  lease_token: string | null;
  lease_expires_at_ms: number | null;
  leased_at_ms: number | null;
  leased_machine_type: "cpu" | "gpu" | null;
  available_at_ms: number;
  started_at_ms: number | null;
  finished_at_ms: number | null;
  machine_ms: number;
  error_code: string | null;
  error: string | null;
}

export const toTask = (r: TaskRow): TaskRecord => ({
  taskId: r.task_id,
  jobId: r.job_id,
  stage: r.stage,
  index: r.task_index,
  state: r.state,
  items: JSON.parse(r.items_json) as string[],
  itemsTotal: r.items_total,
  itemsDone: r.items_done,
  itemsFailed: r.items_failed,
  attempts: r.attempts,
  stalls: r.stalls,
  machineType: r.machine_type,
  leaseOwner: r.lease_owner,
  leaseToken: r.lease_token,
  leaseExpiresAtMs: r.lease_expires_at_ms,
  availableAtMs: r.available_at_ms,
  startedAtMs: r.started_at_ms,
  finishedAtMs: r.finished_at_ms,
  machineMs: r.machine_ms,
  errorCode: r.error_code,
  error: r.error,
});

/** The lease columns cleared when a task goes back to the queue: nobody holds it. */
export const NO_LEASE = "lease_owner = NULL, lease_token = NULL, lease_expires_at_ms = NULL, leased_at_ms = NULL, leased_machine_type = NULL";

/** Machine time of the lease held now, at `?` (ms); 0 when none is held. */
export const HELD_MS = "COALESCE(MAX(0, ? - leased_at_ms), 0)";

export function insertTasks(db: Database, tasks: TaskRecord[]): void {
  const insert = db.query(`INSERT INTO tasks (task_id, job_id, stage, task_index, state, items_json, items_total, items_done, items_failed,
    attempts, stalls, machine_type, available_at_ms, machine_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  for (const t of tasks)
    insert.run(t.taskId, t.jobId, t.stage, t.index, t.state, JSON.stringify(t.items), t.itemsTotal, t.itemsDone, t.itemsFailed, t.attempts, t.stalls, t.machineType, t.availableAtMs, t.machineMs);
}

export function getTask(db: Database, taskId: string): TaskRecord | undefined {
  const row = db.query<TaskRow, [string]>("SELECT * FROM tasks WHERE task_id = ?").get(taskId);
  return row ? toTask(row) : undefined;
}

export function listTasks(db: Database, jobId: string, opts: { stage: Stage; state?: TaskState; pageSize: number; cursor?: string }): Page<TaskRecord> {
  const after = opts.cursor ? Number(decodeCursor(opts.cursor, 1)[0]) : -1;
  const rows = db
    .query<TaskRow, [string, string, string | null, string | null, number, number]>(
      "SELECT * FROM tasks WHERE job_id = ? AND stage = ? AND (? IS NULL OR state = ?) AND task_index > ? ORDER BY task_index LIMIT ?",
    )
    .all(jobId, opts.stage, opts.state ?? null, opts.state ?? null, after, opts.pageSize + 1);
  return page(rows.map(toTask), opts.pageSize, (t) => [t.index]);
}

export function listTaskErrors(db: Database, jobId: string, limit: number): TaskRecord[] {
  return db
    .query<TaskRow, [string, number]>("SELECT * FROM tasks WHERE job_id = ? AND error IS NOT NULL ORDER BY stage DESC, task_index LIMIT ?")
    .all(jobId, limit)
    .map(toTask);
}

/** Machine time a cancelled lease had used, per kind of machine. */
export interface CancelledTask {
  task_id: string;
  held_ms: number;
  leased_machine_type: "cpu" | "gpu" | null;
}

const CANCEL = taskTransition(TASK.cancelled, {
  set: `finished_at_ms = ?, machine_ms = machine_ms + ${HELD_MS}`,
  where: "job_id = ?",
});

/** Cancels a job's queued and leased tasks; leases keep their token so that heartbeats can tell "cancelled". */
export function cancelTasks(db: Database, jobId: string, nowMs: number): CancelledTask[] {
  return db
    .query<CancelledTask, [number, number, string, number]>(`${CANCEL} RETURNING task_id, ${HELD_MS} AS held_ms, leased_machine_type`)
    .all(nowMs, nowMs, jobId, nowMs);
}

const REQUEUE_FOR_RESTART = taskTransition(TASK.queued, {
  from: [TASK.failed, TASK.cancelled],
  set: `attempts = 0, stalls = 0, available_at_ms = ?, ${NO_LEASE}, items_done = 0, items_failed = 0, finished_at_ms = NULL,
    error_code = NULL, error = NULL, machine_type = CASE WHEN stage = 'export' THEN machine_type ELSE ? END`,
  where: "job_id = ?",
});

/** Queues a restarted job's failed and cancelled tasks afresh (attempts and stalls reset); succeeded ones stay. */
export function requeueUnfinished(db: Database, jobId: string, machineType: MachineType, nowMs: number): number {
  db.query("DELETE FROM task_failures WHERE task_id IN (SELECT task_id FROM tasks WHERE job_id = ? AND state IN ('failed', 'cancelled'))").run(jobId);
  return db.query(REQUEUE_FOR_RESTART).run(nowMs, machineType, jobId).changes;
}
