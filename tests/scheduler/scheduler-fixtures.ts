import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/core/log.ts";
import type { Config } from "../../src/core/config.ts";
import { EventBus } from "../../src/scheduler/events.ts";
import type { CreateJobInput } from "../../src/scheduler/jobs.ts";
import { Scheduler } from "../../src/scheduler/scheduler.ts";
import type { Lease, SchedulerEvent, TaskResult } from "../../src/scheduler/types.ts";
import { INPUT_PART } from "../../src/storage/batches.ts";
import type { Store } from "../../src/storage/store.ts";
import { testContext } from "../helpers.ts";

/** A scheduler on a real SQLite file and data dir, a manual clock, a pinned random, and every event recorded. */
export function schedulerContext(overrides: Partial<Record<keyof Config, unknown>> = {}) {
  const t = testContext(overrides);
  const events = new EventBus(silentLogger);
  const seen: SchedulerEvent[] = [];
  events.on("*", (e) => void seen.push(e));
  const scheduler = new Scheduler({ ...t.ctx, events, random: () => 0.5 });
  return { ...t, events, seen, scheduler };
}

export type SchedulerContext = ReturnType<typeof schedulerContext>;

/** An input batch whose file rows are written straight into the store (the scheduler never reads the bytes). */
export function stageBatch(store: Store, id: string, names: string[], type: "images" | "videos" = "images", nowMs = Date.UTC(2026, 0, 1)): void {
  store.createBatch({ id, name: id, type, kind: "input", createdAtMs: nowMs, expiresAtMs: nowMs + 7 * 86_400_000 });
  const rows = names.map((name) => ({ batchId: id, part: INPUT_PART, name, sizeBytes: 1, sha256: "0".repeat(64), contentType: "image/jpeg", createdAtMs: nowMs }));
  for (let i = 0; i < rows.length; i += 10_000) store.putBatchFiles(rows.slice(i, i + 10_000));
}

export const names = (n: number, prefix = "img") => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(6, "0")}.jpg`);

export function jobInput(inputBatchId: string, extra: Partial<CreateJobInput> = {}): CreateJobInput {
  return { workflowId: "wf", workflowJson: '{"version":"1.0","steps":[],"outputs":[]}', modelsJson: "{}", inputBatchId, type: "images", ...extra };
}

let fileSeq = 0;
/** A finished task's result: one results file (and an errors file when some failed) in the data dir's temp folder. */
export function resultOf(t: SchedulerContext, lease: Lease, opts: { failed?: number; machineMs?: number } = {}): TaskResult {
  const failed = opts.failed ?? 0;
  const results = join(t.staging.tmpDir, `r-${++fileSeq}`);
  writeFileSync(results, lease.items.map((image) => JSON.stringify({ image })).join("\n") + "\n");
  const name = lease.stage === "export" ? `${lease.jobId}-000.tar.gz` : `task-${String(lease.index + 1).padStart(6, "0")}.jsonl`;
  const files: TaskResult["files"] = [{ part: lease.stage === "export" ? "archive" : "results", name, tempPath: results, contentType: "application/jsonl" }];
  const failures = lease.items.slice(0, failed).map((item) => ({ item, code: "IMAGE_DECODE_FAILED", message: `cannot decode ${item}` }));
  if (failed > 0) {
    const errors = join(t.staging.tmpDir, `e-${++fileSeq}`);
    writeFileSync(errors, failures.map((f) => JSON.stringify(f)).join("\n"));
    files.push({ part: "errors", name, tempPath: errors, contentType: "application/jsonl" });
  }
  const itemsTotal = lease.stage === "export" ? 1 : lease.items.length;
  return { itemsDone: itemsTotal - failed, itemsFailed: failed, failures, files, machineMs: opts.machineMs ?? 1000 };
}

/** Leases and completes every task it can, as one worker would, until nothing is left to lease. */
export async function drain(t: SchedulerContext, owner = "w1", machineType: "cpu" | "gpu" = "cpu"): Promise<number> {
  let n = 0;
  for (let leases = t.scheduler.lease(owner, machineType, 4); leases.length; leases = t.scheduler.lease(owner, machineType, 4))
    for (const l of leases) {
      await t.scheduler.complete(l.taskId, l.token, resultOf(t, l));
      n++;
    }
  return n;
}
