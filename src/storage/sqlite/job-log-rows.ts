import type { Database } from "bun:sqlite";
import { LOG_SEVERITIES, type FailureCause, type JobLogRecord, type LogSeverity, type NewJobLog, type Page } from "../store.ts";
import { decodeCursor, page } from "./paging.ts";

/** The statements of a job's log and of its per-image failures. */
interface LogRow {
  log_id: number;
  job_id: string;
  task_id: string | null;
  severity: LogSeverity;
  message: string;
  at_ms: number;
}

const toLog = (r: LogRow): JobLogRecord => ({ logId: r.log_id, jobId: r.job_id, taskId: r.task_id, severity: r.severity, message: r.message, atMs: r.at_ms });

export function addJobLog(db: Database, l: NewJobLog): void {
  db.query("INSERT INTO job_logs (job_id, task_id, severity, message, at_ms) VALUES (?, ?, ?, ?, ?)").run(l.jobId, l.taskId, l.severity, l.message, l.atMs);
}

export function listJobLogs(db: Database, jobId: string, opts: { minSeverity: LogSeverity; pageSize: number; cursor?: string }): Page<JobLogRecord> {
  const after = opts.cursor ? Number(decodeCursor(opts.cursor, 1)[0]) : 0;
  const severities = JSON.stringify(LOG_SEVERITIES.slice(LOG_SEVERITIES.indexOf(opts.minSeverity)));
  const rows = db
    .query<LogRow, [string, number, string, number]>(
      "SELECT * FROM job_logs WHERE job_id = ? AND log_id > ? AND severity IN (SELECT value FROM json_each(?)) ORDER BY log_id LIMIT ?",
    )
    .all(jobId, after, severities, opts.pageSize + 1);
  return page(rows.map(toLog), opts.pageSize, (l) => [l.logId]);
}

export function failuresByCause(db: Database, jobId: string): FailureCause[] {
  // SQLite takes the bare columns (task_id, message) from the row that gave MIN(item): one real example per code.
  return db
    .query<{ code: string; count: number; item: string; task_id: string; message: string }, [string]>(
      "SELECT code, COUNT(*) AS count, MIN(item) AS item, task_id, message FROM task_failures WHERE job_id = ? GROUP BY code ORDER BY count DESC, code",
    )
    .all(jobId)
    .map((r) => ({ code: r.code, count: r.count, example: { taskId: r.task_id, item: r.item, message: r.message } }));
}
