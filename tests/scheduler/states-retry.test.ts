import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/core/errors.ts";
import { isRetryable, nextAttemptAt, retryPolicy } from "../../src/scheduler/retry.ts";
import { JOB_TRANSITIONS, TASK_TRANSITIONS, canMoveJob, canMoveTask, jobTransition, taskTransition } from "../../src/scheduler/states.ts";
import { JOB_STATES, TASK_STATES } from "../../src/scheduler/types.ts";

describe("states", () => {
  test("the tables cover every state and follow the product's lifecycle", () => {
    expect(Object.keys(JOB_TRANSITIONS).sort()).toEqual([...JOB_STATES].sort());
    expect(Object.keys(TASK_TRANSITIONS).sort()).toEqual([...TASK_STATES].sort());
    expect(canMoveJob("pending", "running")).toBe(true);
    expect(canMoveJob("failed", "pending")).toBe(true);
    expect(canMoveJob("succeeded", "pending")).toBe(false);
    expect(canMoveJob("running", "pending")).toBe(false);
    expect(canMoveTask("leased", "queued")).toBe(true);
    expect(canMoveTask("succeeded", "queued")).toBe(false);
    expect(canMoveTask("queued", "succeeded")).toBe(false);
  });

  test("guarded updates name exactly the states allowed to move, and refuse illegal ones", () => {
    expect(taskTransition("succeeded", { where: "task_id = ?" })).toBe("UPDATE tasks SET state = 'succeeded' WHERE (task_id = ?) AND state IN ('leased')");
    expect(jobTransition("pending", { set: "error = NULL", where: "job_id = ?" })).toBe(
      "UPDATE jobs SET state = 'pending', error = NULL WHERE (job_id = ?) AND state IN ('failed', 'aborted')",
    );
    expect(() => taskTransition("succeeded", { from: ["queued"], where: "task_id = ?" })).toThrow("no transition queued → succeeded");
    expect(() => jobTransition("pending", { from: ["succeeded"], where: "job_id = ?" })).toThrow("no transition succeeded → pending");
  });
});

describe("retry policy", () => {
  const policy = { maxAttempts: 10, baseMs: 1000, maxMs: 60_000 };

  test("backs off exponentially with jitter in [step/2, step), capped", () => {
    expect(nextAttemptAt(1, policy, 0, 0)).toBe(500);
    expect(nextAttemptAt(1, policy, 0, 0.999999)).toBe(1000);
    expect(nextAttemptAt(2, policy, 0, 0)).toBe(1000);
    expect(nextAttemptAt(3, policy, 100, 0.5)).toBe(100 + 3000);
    expect(nextAttemptAt(20, policy, 0, 0)).toBe(30_000);
    expect(nextAttemptAt(20, policy, 0, 0.999999)).toBe(60_000);
    for (let a = 1; a < 6; a++) expect(nextAttemptAt(a + 1, policy, 0, 0)).toBeGreaterThan(nextAttemptAt(a, policy, 0, 0));
  });

  test("the default policy takes the configured attempts", () => {
    expect(retryPolicy(3)).toMatchObject({ maxAttempts: 3 });
    expect(retryPolicy(3).maxMs).toBeGreaterThan(retryPolicy(3).baseMs);
  });

  test("errors that cannot succeed on retry are not retried", () => {
    for (const code of ["WORKFLOW_INVALID", "MODEL_NOT_FOUND", "MODEL_LOAD_FAILED", "IMAGE_FAILURE_RATE"]) expect(isRetryable(new AppError(code, "x"))).toBe(false);
    for (const code of ["WORKER_CRASHED", "DISK_FULL", "INTERNAL", "MODEL_RUN_FAILED"]) expect(isRetryable(new AppError(code, "x"))).toBe(true);
  });
});
