import type { Logger } from "../core/log.ts";
import { removeBatch } from "../storage/batches.ts";
import type { Staging } from "../storage/staging.ts";
import type { Store } from "../storage/store.ts";

export interface SweepDeps {
  store: Store;
  staging: Staging;
  log: Logger;
}

export interface SweepReport {
  expiredBatches: string[];
  orphanDirs: string[];
}

/**
 * One pass of housekeeping at time `nowMs`: deletes batches past their expiry (rows and files) — except the
 * input and output batches of pending and running jobs, kept until the job ends — and batch folders that
 * have no row (left by a process killed mid-delete). Scheduler.sweep runs it after the jobs' housekeeping;
 * a timer calls that in production, tests call it directly with the time they want.
 */
export function sweep(deps: SweepDeps, nowMs: number): SweepReport {
  const report: SweepReport = { expiredBatches: [], orphanDirs: [] };
  for (;;) {
    const expired = deps.store.listExpiredBatches(nowMs, 100);
    if (expired.length === 0) break;
    for (const batch of expired) {
      removeBatch(deps.store, deps.staging, batch);
      report.expiredBatches.push(batch.id);
      deps.log.info("batch expired and deleted", { batchId: batch.id, files: batch.fileCount });
    }
  }
  for (const kind of ["input", "output"] as const) {
    for (const id of deps.staging.listBatchDirs(kind)) {
      if (deps.store.getBatch(id)) continue;
      deps.staging.removeBatchDir({ id, kind });
      report.orphanDirs.push(id);
      deps.log.warn("removed a batch folder with no batch record", { batchId: id, kind });
    }
  }
  return report;
}
