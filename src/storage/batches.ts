import type { Staging } from "./staging.ts";
import type { BatchRecord, Store } from "./store.ts";

/** The one way a batch is removed: rows first (it disappears at once), then its folder. */
export function removeBatch(store: Store, staging: Staging, batch: BatchRecord): boolean {
  const removed = store.deleteBatch(batch.id);
  staging.removeBatchDir(batch);
  return removed;
}

/** The part that input batches keep their files in. */
export const INPUT_PART = "default";
