import type { Database } from "bun:sqlite";
import { ACTIVE_JOB_STATES, FENCED, TASK, expectOne, leaseLost, sqlList, taskFailedMessage, taskTransition } from "../../scheduler/states.ts";
import type { ItemFailure } from "../../scheduler/types.ts";
import type { BatchFileRecord, Claim, ClaimRequest, ExpiredLease, FailOutcome, HeartbeatAnswer, JobChange, LeaseProgress, TaskCompletion, TaskFailureInput } from "../store.ts";
import { addMachineTime, advanceJob, failJob, startJob } from "./job-rows.ts";
import { NO_LEASE, toTask, type TaskRow } from "./task-rows.ts";

/**
 * The lease verbs: claim, renew, complete, fail, and requeue on expiry. Every write by a lease holder is
 * fenced by its token (FENCED) and must change exactly one row, else LEASE_LOST.
 */

interface Candidate {
  job_id: string;
  max_parallel: number | null;
  leased: number;
}

const CANDIDATES = `SELECT j.job_id, json_extract(j.options_json, '$.maxParallelTasks') AS max_parallel,
    (SELECT COUNT(*) FROM tasks l WHERE l.job_id = j.job_id AND l.state = 'leased') AS leased
  FROM jobs j
  WHERE j.state IN ${sqlList(ACTIVE_JOB_STATES)} AND EXISTS (SELECT 1 FROM tasks q WHERE q.job_id = j.job_id AND q.state = 'queued'
    AND q.machine_type IN ('auto', ?1) AND q.available_at_ms <= ?2)
  ORDER BY j.created_at_ms, j.job_id`;

const NEXT_QUEUED = `SELECT * FROM tasks WHERE job_id = ? AND state = 'queued' AND machine_type IN ('auto', ?) AND available_at_ms <= ?
  ORDER BY stage, task_index LIMIT 1`;

const LEASE = taskTransition(TASK.leased, {
  from: [TASK.queued],
  set: `lease_owner = ?, lease_token = ?, lease_expires_at_ms = ?, leased_at_ms = ?, leased_machine_type = ?,
    started_at_ms = COALESCE(started_at_ms, ?), items_done = 0, items_failed = 0`,
  where: "task_id = ?",
}) + " RETURNING *";

/** The job to serve next: fewest tasks leased, then the oldest (candidates come oldest first); under its cap. */
function fairest(jobs: Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const j of jobs) if ((j.max_parallel === null || j.leased < j.max_parallel) && (!best || j.leased < best.leased)) best = j;
  return best;
}

export function claimTasks(db: Database, req: ClaimRequest): Claim {
  const jobs = db.query<Candidate, [string, number]>(CANDIDATES).all(req.machineType, req.nowMs);
  const next = db.query<TaskRow, [string, string, number]>(NEXT_QUEUED);
  const lease = db.query<TaskRow, [string, string, number, number, string, number, string]>(LEASE);
  const claim: Claim = { tasks: [], startedJobIds: [] };
  while (claim.tasks.length < req.capacity) {
    const job = fairest(jobs);
    if (!job) break;
    const row = next.get(job.job_id, req.machineType, req.nowMs);
    if (!row) {
      jobs.splice(jobs.indexOf(job), 1);
      continue;
    }
    const leased = lease.get(req.owner, req.newToken(), req.expiresAtMs, req.nowMs, req.machineType, req.nowMs, row.task_id);
    if (!leased) throw leaseLost(row.task_id);
    job.leased++;
    if (startJob(db, job.job_id, req.nowMs)) claim.startedJobIds.push(job.job_id);
    claim.tasks.push(toTask(leased));
  }
  return claim;
}

export function heartbeatLeases(db: Database, owner: string, leases: LeaseProgress[], expiresAtMs: number): HeartbeatAnswer {
  const renew = db.query<{ job_id: string }, [number, number, number, string, string, string]>(
    `UPDATE tasks SET lease_expires_at_ms = ?, items_done = ?, items_failed = ? WHERE ${FENCED} AND lease_owner = ? AND state = 'leased' RETURNING job_id`,
  );
  const stateUnder = db.query<{ state: string }, [string, string]>(`SELECT state FROM tasks WHERE ${FENCED}`);
  const answer: HeartbeatAnswer = { renewed: [], lost: [], cancelled: [] };
  for (const l of leases) {
    const row = renew.get(expiresAtMs, l.itemsDone, l.itemsFailed, l.taskId, l.token, owner);
    if (row) answer.renewed.push({ taskId: l.taskId, jobId: row.job_id });
    else if (stateUnder.get(l.taskId, l.token)?.state === TASK.cancelled) answer.cancelled.push(l.taskId);
    else answer.lost.push(l.taskId);
  }
  return answer;
}

/** The task as its lease holder sees it; LEASE_LOST unless it is leased under this token. */
function heldTask(db: Database, taskId: string, token: string): TaskRow {
  const row = db.query<TaskRow, [string, string]>(`SELECT * FROM tasks WHERE ${FENCED} AND state = 'leased'`).get(taskId, token);
  if (!row) throw leaseLost(taskId);
  return row;
}

function recordFailures(db: Database, jobId: string, taskId: string, failures: ItemFailure[], nowMs: number): void {
  const insert = db.query("INSERT OR REPLACE INTO task_failures (job_id, task_id, item, code, message, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)");
  for (const f of failures) insert.run(jobId, taskId, f.item, f.code, f.message, nowMs);
}

const SUCCEED = taskTransition(TASK.succeeded, {
  from: [TASK.leased],
  set: "finished_at_ms = ?, items_done = ?, items_failed = ?, machine_ms = machine_ms + ?, error_code = NULL, error = NULL",
  where: FENCED,
});

export function completeTask(db: Database, c: TaskCompletion, putFiles: (files: BatchFileRecord[]) => void): JobChange | null {
  const task = heldTask(db, c.taskId, c.token);
  const ms = Math.max(0, Math.round(c.machineMs));
  expectOne(db.query(SUCCEED).run(c.nowMs, c.itemsDone, c.itemsFailed, ms, c.taskId, c.token).changes, () => leaseLost(c.taskId));
  putFiles(c.files);
  recordFailures(db, task.job_id, c.taskId, c.failures, c.nowMs);
  addMachineTime(db, task.job_id, ms, task.leased_machine_type === "gpu" ? ms : 0, c.nowMs);
  return advanceJob(db, task.job_id, c.nowMs);
}

const RETRY = taskTransition(TASK.queued, {
  from: [TASK.leased],
  set: `attempts = attempts + 1, available_at_ms = ?, error_code = ?, error = ?, machine_ms = machine_ms + ?, items_done = 0, items_failed = 0, ${NO_LEASE}`,
  where: FENCED,
});
const FAIL = taskTransition(TASK.failed, {
  from: [TASK.leased],
  set: `attempts = attempts + 1, finished_at_ms = ?, error_code = ?, error = ?, machine_ms = machine_ms + ?,
    items_done = COALESCE(?, items_done), items_failed = COALESCE(?, items_failed)`,
  where: FENCED,
});

/** Machine time of the lease held now, on the whole and on a GPU. */
const heldMs = (t: TaskRow, nowMs: number) => {
  const ms = t.leased_at_ms === null ? 0 : Math.max(0, nowMs - t.leased_at_ms);
  return { ms, gpuMs: t.leased_machine_type === "gpu" ? ms : 0 };
};

export function failTask(db: Database, f: TaskFailureInput): FailOutcome {
  const task = heldTask(db, f.taskId, f.token);
  const held = heldMs(task, f.nowMs);
  const changes =
    f.retryAtMs !== null
      ? db.query(RETRY).run(f.retryAtMs, f.code, f.message, held.ms, f.taskId, f.token).changes
      : db.query(FAIL).run(f.nowMs, f.code, f.message, held.ms, f.counts?.itemsDone ?? null, f.counts?.itemsFailed ?? null, f.taskId, f.token).changes;
  expectOne(changes, () => leaseLost(f.taskId));
  addMachineTime(db, task.job_id, held.ms, held.gpuMs, f.nowMs);
  if (f.counts) recordFailures(db, task.job_id, f.taskId, f.counts.failures, f.nowMs);
  const job = f.retryAtMs === null ? failJob(db, task.job_id, taskFailedMessage(f.taskId, f.code, f.message), f.nowMs) : null;
  return { jobId: task.job_id, attempts: task.attempts + 1, requeued: f.retryAtMs !== null, job };
}

const STALL = taskTransition(TASK.queued, {
  from: [TASK.leased],
  set: `stalls = stalls + 1, available_at_ms = ?, machine_ms = machine_ms + ?, items_done = 0, items_failed = 0, ${NO_LEASE}`,
  where: FENCED,
});
const LOST = taskTransition(TASK.failed, {
  from: [TASK.leased],
  set: "stalls = stalls + 1, finished_at_ms = ?, machine_ms = machine_ms + ?, error_code = 'WORKER_LOST', error = ?",
  where: FENCED,
});

/**
 * Leases past their expiry: the worker is gone (or too slow to renew). Its machine time counts up to its
 * last renewal. One task losing its worker more than `maxStalls` times is failed for good, and its job.
 */
export function requeueExpired(db: Database, nowMs: number, maxStalls: number, leaseMs: number): ExpiredLease[] {
  const expired = db.query<TaskRow, [number]>("SELECT * FROM tasks WHERE state = 'leased' AND lease_expires_at_ms <= ? ORDER BY lease_expires_at_ms").all(nowMs);
  const out: ExpiredLease[] = [];
  for (const t of expired) {
    const stalls = t.stalls + 1;
    const final = stalls > maxStalls;
    const ms = Math.max(0, (t.lease_expires_at_ms ?? nowMs) - leaseMs - (t.leased_at_ms ?? nowMs));
    const message = `worker lost ${stalls} times`;
    const changes = final
      ? db.query(LOST).run(nowMs, ms, message, t.task_id, t.lease_token!).changes
      : db.query(STALL).run(nowMs, ms, t.task_id, t.lease_token!).changes;
    // Zero rows: an earlier task of the same job failed for good in this pass and cancelled this one.
    if (changes === 0) continue;
    addMachineTime(db, t.job_id, ms, t.leased_machine_type === "gpu" ? ms : 0, nowMs);
    const job = final ? failJob(db, t.job_id, taskFailedMessage(t.task_id, "WORKER_LOST", message), nowMs) : null;
    out.push({ taskId: t.task_id, jobId: t.job_id, stalls, final, job });
  }
  return out;
}
