import type { Database } from "bun:sqlite";
import type { StoreMetrics } from "../store.ts";

/** Totals for `/metrics`: a few aggregate queries over jobs and tasks. */
export function storeMetrics(db: Database, nowMs: number): StoreMetrics {
  const tasksByState = Object.fromEntries(db.query<{ state: string; n: number }, []>("SELECT state, COUNT(*) AS n FROM tasks GROUP BY state").all().map((r) => [r.state, r.n]));
  const jobsByState = Object.fromEntries(db.query<{ state: string; n: number }, []>("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state").all().map((r) => [r.state, r.n]));
  const items = db
    .query<{ type: string; done: number; failed: number; ms: number }, []>(
      "SELECT j.type AS type, COALESCE(SUM(t.items_done), 0) AS done, COALESCE(SUM(t.items_failed), 0) AS failed, COALESCE(SUM(t.machine_ms), 0) AS ms FROM tasks t JOIN jobs j ON j.job_id = t.job_id WHERE t.stage = 'processing' GROUP BY j.type",
    )
    .all();
  const queueDepth = db.query<{ n: number }, [number]>("SELECT COUNT(*) AS n FROM tasks WHERE state = 'queued' AND available_at_ms <= ?").get(nowMs)!.n;
  return { tasksByState, jobsByState, items, queueDepth };
}
