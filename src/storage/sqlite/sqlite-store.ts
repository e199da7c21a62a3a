import { Database } from "bun:sqlite";
import { AppError } from "../../core/errors.ts";
import { MIGRATIONS, type Migration } from "../migrations/index.ts";
import { ACTIVE_JOB_STATES, sqlList } from "../../scheduler/states.ts";
import type { JobOptions, JobRecord, JobState, Stage, TaskRecord, TaskState } from "../../scheduler/types.ts";
import type * as S from "../store.ts";
import type { BatchFileRecord, BatchRecord, ModelRecord, NewBatch, Page, PartRecord, Store, WorkflowRecord, StoreMetrics } from "../store.ts";
import * as logs from "./job-log-rows.ts";
import * as jobs from "./job-rows.ts";
import * as leases from "./lease-rows.ts";
import * as tasks from "./task-rows.ts";
import * as workflows from "./workflow-rows.ts";
import { storeMetrics } from "./metrics-rows.ts";
import { decodeCursor, page } from "./paging.ts";

interface BatchRow {
  id: string;
  name: string;
  type: BatchRecord["type"];
  kind: BatchRecord["kind"];
  created_at_ms: number;
  expires_at_ms: number;
  file_count: number;
  total_bytes: number;
}
interface PartRow {
  batch_id: string;
  name: string;
  file_count: number;
  total_bytes: number;
  created_at_ms: number;
}
interface FileRow {
  batch_id: string;
  part_name: string;
  name: string;
  size_bytes: number;
  sha256: string;
  content_type: string;
  created_at_ms: number;
}

interface ModelRow {
  model_id: string;
  sha256: string;
  family: string;
  task: string;
  info_json: string;
  size_bytes: number;
  created_at_ms: number;
}

const BATCH_SELECT = `SELECT b.*, COALESCE(SUM(p.file_count), 0) AS file_count, COALESCE(SUM(p.total_bytes), 0) AS total_bytes
  FROM batches b LEFT JOIN batch_parts p ON p.batch_id = b.id`;

/** A batch a pending or running job reads (its input) or writes (`<job>-processing`, `<job>-export`). */
const BATCH_IN_USE = `SELECT 1 FROM jobs j WHERE j.state IN ${sqlList(ACTIVE_JOB_STATES)}
  AND b.id IN (j.input_batch_id, j.job_id || '-processing', j.job_id || '-export')`;

const toBatch = (r: BatchRow): BatchRecord => ({
  id: r.id,
  name: r.name,
  type: r.type,
  kind: r.kind,
  createdAtMs: r.created_at_ms,
  expiresAtMs: r.expires_at_ms,
  fileCount: r.file_count,
  totalBytes: r.total_bytes,
});
const toPart = (r: PartRow): PartRecord => ({
  batchId: r.batch_id,
  name: r.name,
  fileCount: r.file_count,
  totalBytes: r.total_bytes,
  createdAtMs: r.created_at_ms,
});
const toFile = (r: FileRow): BatchFileRecord => ({
  batchId: r.batch_id,
  part: r.part_name,
  name: r.name,
  sizeBytes: r.size_bytes,
  sha256: r.sha256,
  contentType: r.content_type,
  createdAtMs: r.created_at_ms,
});
const toModel = (r: ModelRow): ModelRecord => ({
  modelId: r.model_id,
  sha256: r.sha256,
  family: r.family,
  task: r.task,
  infoJson: r.info_json,
  sizeBytes: r.size_bytes,
  createdAtMs: r.created_at_ms,
});

export function applyMigrations(db: Database, migrations: readonly Migration[] = MIGRATIONS): number[] {
  db.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms INTEGER NOT NULL) STRICT`);
  const done = new Set(db.query<{ version: number }, []>("SELECT version FROM schema_migrations").all().map((r) => r.version));
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    db.transaction(() => {
      db.run(m.sql);
      db.run("INSERT INTO schema_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
    })();
    applied.push(m.version);
  }
  return applied;
}

export class SqliteStore implements Store {
  readonly db: Database;

  constructor(path: string) {
    this.db = new Database(path, { create: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("PRAGMA foreign_keys = ON");
    this.db.run("PRAGMA busy_timeout = 5000");
    applyMigrations(this.db);
  }

  createBatch(b: NewBatch): BatchRecord {
    try {
      this.db
        .query(`INSERT INTO batches (id, name, type, kind, created_at_ms, expires_at_ms) VALUES (?, ?, ?, ?, ?, ?)`)
        .run(b.id, b.name, b.type, b.kind, b.createdAtMs, b.expiresAtMs);
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE"))
        throw new AppError("BATCH_EXISTS", `Batch '${b.id}' already exists`, 409, { batchId: b.id });
      throw e;
    }
    return { ...b, fileCount: 0, totalBytes: 0 };
  }

  getBatch(id: string): BatchRecord | undefined {
    const row = this.db.query<BatchRow, [string]>(`${BATCH_SELECT} WHERE b.id = ? GROUP BY b.id`).get(id);
    return row ? toBatch(row) : undefined;
  }

  listBatches({ pageSize, cursor }: { pageSize: number; cursor?: string }): Page<BatchRecord> {
    const rows = cursor
      ? this.db
          .query<BatchRow, [number, string, number]>(
            `${BATCH_SELECT} WHERE (b.created_at_ms, b.id) < (?, ?) GROUP BY b.id ORDER BY b.created_at_ms DESC, b.id DESC LIMIT ?`,
          )
          .all(...(decodeCursor(cursor, 2) as [number, string]), pageSize + 1)
      : this.db
          .query<BatchRow, [number]>(`${BATCH_SELECT} GROUP BY b.id ORDER BY b.created_at_ms DESC, b.id DESC LIMIT ?`)
          .all(pageSize + 1);
    return page(rows.map(toBatch), pageSize, (b) => [b.createdAtMs, b.id]);
  }

  listParts(batchId: string): PartRecord[] {
    return this.db
      .query<PartRow, [string]>("SELECT * FROM batch_parts WHERE batch_id = ? ORDER BY name")
      .all(batchId)
      .map(toPart);
  }

  getBatchFile(batchId: string, part: string, name: string): BatchFileRecord | undefined {
    const row = this.db
      .query<FileRow, [string, string, string]>("SELECT * FROM batch_files WHERE batch_id = ? AND part_name = ? AND name = ?")
      .get(batchId, part, name);
    return row ? toFile(row) : undefined;
  }

  putBatchFiles(files: BatchFileRecord[]): void {
    if (files.length === 0) return;
    const ensurePart = this.db.query(
      "INSERT OR IGNORE INTO batch_parts (batch_id, name, created_at_ms) VALUES (?, ?, ?)",
    );
    const old = this.db.query<{ size_bytes: number }, [string, string, string]>(
      "SELECT size_bytes FROM batch_files WHERE batch_id = ? AND part_name = ? AND name = ?",
    );
    const upsert = this.db.query(`INSERT OR REPLACE INTO batch_files
      (batch_id, part_name, name, size_bytes, sha256, content_type, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    const bump = this.db.query(
      "UPDATE batch_parts SET file_count = file_count + ?, total_bytes = total_bytes + ? WHERE batch_id = ? AND name = ?",
    );
    this.db.transaction(() => {
      for (const f of files) {
        ensurePart.run(f.batchId, f.part, f.createdAtMs);
        const prev = old.get(f.batchId, f.part, f.name);
        upsert.run(f.batchId, f.part, f.name, f.sizeBytes, f.sha256, f.contentType, f.createdAtMs);
        bump.run(prev ? 0 : 1, f.sizeBytes - (prev?.size_bytes ?? 0), f.batchId, f.part);
      }
    })();
  }

  listBatchFiles(
    batchId: string,
    { part, pageSize, cursor }: { part?: string; pageSize: number; cursor?: string },
  ): Page<BatchFileRecord> {
    const after = cursor ? (decodeCursor(cursor, 2) as [string, string]) : undefined;
    let rows: FileRow[];
    if (part !== undefined) {
      rows = this.db
        .query<FileRow, [string, string, string, number]>(
          "SELECT * FROM batch_files WHERE batch_id = ? AND part_name = ? AND name > ? ORDER BY name LIMIT ?",
        )
        .all(batchId, part, after ? after[1] : "", pageSize + 1);
    } else if (after) {
      rows = this.db
        .query<FileRow, [string, string, string, number]>(
          "SELECT * FROM batch_files WHERE batch_id = ? AND (part_name, name) > (?, ?) ORDER BY part_name, name LIMIT ?",
        )
        .all(batchId, after[0], after[1], pageSize + 1);
    } else {
      rows = this.db
        .query<FileRow, [string, number]>("SELECT * FROM batch_files WHERE batch_id = ? ORDER BY part_name, name LIMIT ?")
        .all(batchId, pageSize + 1);
    }
    return page(rows.map(toFile), pageSize, (f) => [f.part, f.name]);
  }

  deleteBatch(id: string): boolean {
    return this.db.transaction(() => {
      this.db.query("DELETE FROM batch_files WHERE batch_id = ?").run(id);
      this.db.query("DELETE FROM batch_parts WHERE batch_id = ?").run(id);
      return this.db.query("DELETE FROM batches WHERE id = ?").run(id).changes === 1;
    })();
  }

  listExpiredBatches(nowMs: number, limit: number): BatchRecord[] {
    return this.db
      .query<BatchRow, [number, number]>(
        `${BATCH_SELECT} WHERE b.expires_at_ms <= ? AND NOT EXISTS (${BATCH_IN_USE}) GROUP BY b.id ORDER BY b.expires_at_ms LIMIT ?`,
      )
      .all(nowMs, limit)
      .map(toBatch);
  }

  putModel(m: ModelRecord, overwrite: boolean): void {
    const insert = `INSERT INTO models (model_id, sha256, family, task, info_json, size_bytes, created_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)`;
    const sql = overwrite
      ? `${insert} ON CONFLICT (model_id) DO UPDATE SET sha256 = excluded.sha256, family = excluded.family, task = excluded.task,
         info_json = excluded.info_json, size_bytes = excluded.size_bytes, created_at_ms = excluded.created_at_ms`
      : insert;
    try {
      this.db.query(sql).run(m.modelId, m.sha256, m.family, m.task, m.infoJson, m.sizeBytes, m.createdAtMs);
    } catch (e) {
      if (String((e as Error).message).includes("UNIQUE"))
        throw new AppError("MODEL_EXISTS", `Model '${m.modelId}' already exists; add it with overwrite to replace it`, 409, { modelId: m.modelId });
      throw e;
    }
  }

  getModel(modelId: string): ModelRecord | undefined {
    const row = this.db.query<ModelRow, [string]>("SELECT * FROM models WHERE model_id = ?").get(modelId);
    return row ? toModel(row) : undefined;
  }

  listModels({ pageSize, cursor }: { pageSize: number; cursor?: string }): Page<ModelRecord> {
    const after = cursor ? (decodeCursor(cursor, 1) as [string])[0] : "";
    const rows = this.db
      .query<ModelRow, [string, number]>("SELECT * FROM models WHERE model_id > ? ORDER BY model_id LIMIT ?")
      .all(after, pageSize + 1);
    return page(rows.map(toModel), pageSize, (m) => [m.modelId]);
  }

  deleteModel(modelId: string): boolean {
    return this.db.query("DELETE FROM models WHERE model_id = ?").run(modelId).changes === 1;
  }

  countModelsWithSha(sha256: string): number {
    return this.db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM models WHERE sha256 = ?").get(sha256)!.n;
  }

  putWorkflow(w: WorkflowRecord, overwrite: boolean): void {
    workflows.putWorkflow(this.db, w, overwrite);
  }

  getWorkflow(workflowId: string): WorkflowRecord | undefined {
    return workflows.getWorkflow(this.db, workflowId);
  }

  listWorkflows({ pageSize, cursor }: { pageSize: number; cursor?: string }): Page<WorkflowRecord> {
    return workflows.listWorkflows(this.db, pageSize, cursor);
  }

  deleteWorkflow(workflowId: string): boolean {
    return workflows.deleteWorkflow(this.db, workflowId);
  }

  listBatchFileNames(batchId: string, part: string): string[] {
    const rows = this.db.query<{ name: string }, [string, string]>("SELECT name FROM batch_files WHERE batch_id = ? AND part_name = ? ORDER BY name").all(batchId, part);
    return rows.map((r) => r.name);
  }

  createJob(job: JobRecord, jobTasks: TaskRecord[], batches: NewBatch[]): void {
    this.write(() => {
      jobs.insertJob(this.db, job);
      tasks.insertTasks(this.db, jobTasks);
      for (const b of batches) this.createBatch(b);
    });
  }

  getJob = (jobId: string) => jobs.getJob(this.db, jobId);
  listJobs = (opts: { pageSize: number; cursor?: string; state?: JobState }) => jobs.listJobs(this.db, opts);
  getTask = (taskId: string) => tasks.getTask(this.db, taskId);
  listTasks = (jobId: string, opts: { stage: Stage; state?: TaskState; pageSize: number; cursor?: string }) => tasks.listTasks(this.db, jobId, opts);
  listTaskErrors = (jobId: string, limit: number) => tasks.listTaskErrors(this.db, jobId, limit);
  claimTasks = (req: S.ClaimRequest) => this.write(() => leases.claimTasks(this.db, req));
  heartbeatLeases = (owner: string, held: S.LeaseProgress[], expiresAtMs: number) => this.write(() => leases.heartbeatLeases(this.db, owner, held, expiresAtMs));
  completeTask = (c: S.TaskCompletion) => this.write(() => leases.completeTask(this.db, c, (files) => this.putBatchFiles(files)));
  failTask = (f: S.TaskFailureInput) => this.write(() => leases.failTask(this.db, f));
  requeueExpired = (nowMs: number, maxStalls: number, leaseMs: number) => this.write(() => leases.requeueExpired(this.db, nowMs, maxStalls, leaseMs));
  advanceJobs = (nowMs: number, jobId?: string) => this.write(() => jobs.advanceJobs(this.db, nowMs, jobId));
  abortJob = (jobId: string, reason: string, nowMs: number) => this.write(() => jobs.abortJob(this.db, jobId, reason, nowMs));
  restartJob = (jobId: string, options: JobOptions, nowMs: number) =>
    this.write(() => {
      jobs.restartJob(this.db, jobId, options, nowMs);
      return tasks.requeueUnfinished(this.db, jobId, options.machineType, nowMs);
    });
  listJobsOverRuntime = (nowMs: number) => jobs.listJobsOverRuntime(this.db, nowMs);
  jobProgress = (jobId: string, nowMs: number) => jobs.jobProgress(this.db, jobId, nowMs);
  addJobLog = (log: S.NewJobLog) => logs.addJobLog(this.db, log);
  listJobLogs = (jobId: string, opts: { minSeverity: S.LogSeverity; pageSize: number; cursor?: string }) => logs.listJobLogs(this.db, jobId, opts);
  failuresByCause = (jobId: string) => logs.failuresByCause(this.db, jobId);

  /** One write transaction, taking the write lock at once (a lease must not be decided on a stale read). */
  private write<T>(fn: () => T): T {
    return this.db.transaction(fn).immediate();
  }

  metrics(nowMs: number): StoreMetrics {
    return storeMetrics(this.db, nowMs);
  }

  close(): void {
    this.db.close();
  }
}
