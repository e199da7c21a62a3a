import { AppError } from "../core/errors.ts";
import { JOB_STATES, type JobState, type TaskState } from "./types.ts";

/**
 * The one owner of job and task states: the states, which moves are allowed, and the guarded UPDATEs that
 * make them. Every state change in the store is built here, as `UPDATE … WHERE <key> AND state IN
 * (<states allowed to move there>)`, and a change that must hit exactly one row and hits none is an error
 * the caller can act on (LEASE_LOST, JOB_NOT_IN_STATE) rather than a silent no-op.
 */
export const JOB = {
  pending: "pending",
  running: "running",
  succeeded: "succeeded",
  failed: "failed",
  aborted: "aborted",
} as const satisfies { [S in JobState]: S };

export const TASK = {
  queued: "queued",
  leased: "leased",
  succeeded: "succeeded",
  failed: "failed",
  cancelled: "cancelled",
} as const satisfies { [S in TaskState]: S };

/** Job: pending → running → (succeeded | failed | aborted); failed and aborted jobs can be restarted. */
export const JOB_TRANSITIONS: Readonly<Record<JobState, readonly JobState[]>> = {
  pending: [JOB.running, JOB.failed, JOB.aborted],
  running: [JOB.succeeded, JOB.failed, JOB.aborted],
  succeeded: [],
  failed: [JOB.pending],
  aborted: [JOB.pending],
};

/** Task: queued → leased → (succeeded | failed | cancelled); leased → queued on expiry or retry; restart requeues. */
export const TASK_TRANSITIONS: Readonly<Record<TaskState, readonly TaskState[]>> = {
  queued: [TASK.leased, TASK.cancelled],
  leased: [TASK.queued, TASK.succeeded, TASK.failed, TASK.cancelled],
  succeeded: [],
  failed: [TASK.queued],
  cancelled: [TASK.queued],
};

/** Jobs that still hold work (their tasks may be leased, their batches are in use). */
export const ACTIVE_JOB_STATES: readonly JobState[] = [JOB.pending, JOB.running];
export const isActiveJob = (state: JobState) => ACTIVE_JOB_STATES.includes(state);

export const canMoveJob = (from: JobState, to: JobState) => JOB_TRANSITIONS[from].includes(to);
/** The job states that may move to `to` (for "only failed or aborted jobs can be restarted"). */
export const jobStatesInto = (to: JobState) => JOB_STATES.filter((s) => canMoveJob(s, to));
export const canMoveTask = (from: TaskState, to: TaskState) => TASK_TRANSITIONS[from].includes(to);

/** `('a', 'b')` for an IN clause; states are constants of this module, never user input. */
export const sqlList = (states: readonly string[]) => `(${states.map((s) => `'${s}'`).join(", ")})`;

interface GuardedUpdate<S extends string> {
  /** States the row may be in; by default every state allowed to move to the target. */
  from?: readonly S[];
  /** Further assignments, e.g. `finished_at_ms = ?`. */
  set?: string;
  /** Which rows, with placeholders, e.g. `task_id = ? AND lease_token = ?`. */
  where: string;
}

function guarded<S extends string>(table: string, transitions: Readonly<Record<S, readonly S[]>>, to: S, u: GuardedUpdate<S>): string {
  const allowed = (Object.keys(transitions) as S[]).filter((s) => transitions[s].includes(to));
  const from = u.from ?? allowed;
  const illegal = from.filter((s) => !allowed.includes(s));
  // A programming error, caught by the first test that builds the statement.
  if (illegal.length || from.length === 0) throw new Error(`${table}: no transition ${illegal.join(", ") || "∅"} → ${to}`);
  return `UPDATE ${table} SET state = '${to}'${u.set ? `, ${u.set}` : ""} WHERE (${u.where}) AND state IN ${sqlList(from)}`;
}

/** A guarded task UPDATE statement moving tasks to `to`. */
export const taskTransition = (to: TaskState, u: GuardedUpdate<TaskState>) => guarded("tasks", TASK_TRANSITIONS, to, u);
/** A guarded job UPDATE statement moving jobs to `to`. */
export const jobTransition = (to: JobState, u: GuardedUpdate<JobState>) => guarded("jobs", JOB_TRANSITIONS, to, u);

/** The fence of every write a lease holder makes: the task, still leased, under this very token. */
export const FENCED = "task_id = ? AND lease_token = ?";

/** Throws when a guarded update that must change exactly one row did not. */
export function expectOne(changes: number, error: () => AppError): void {
  if (changes !== 1) throw error();
}

export const leaseLost = (taskId: string) =>
  new AppError("LEASE_LOST", `The lease on task ${taskId} is no longer held (it expired, was cancelled or was taken over); drop its results`, 409, { taskId });

export const jobNotFound = (jobId: string) => new AppError("JOB_NOT_FOUND", `Job '${jobId}' was not found`, 404, { id: jobId });
export const taskNotFound = (taskId: string) => new AppError("TASK_NOT_FOUND", `Task '${taskId}' was not found`, 404, { id: taskId });

export function jobNotInState(jobId: string, state: JobState, action: string, allowed: readonly JobState[]): AppError {
  return new AppError("JOB_NOT_IN_STATE", `Cannot ${action} job '${jobId}': it is ${state} (only ${allowed.join(" or ")} jobs can be)`, 409, {
    jobId,
    state,
    allowed,
  });
}

/** The job's error when one of its tasks failed for good: names the task and the cause. */
export const taskFailedMessage = (taskId: string, code: string, message: string) => `Task ${taskId} failed (${code}): ${message}`;
