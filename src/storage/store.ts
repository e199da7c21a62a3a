/**
 * The store interface: every persistent read and write goes through these verbs. src/storage/sqlite
 * implements it; nothing else imports bun:sqlite.
 */
export type BatchType = "images" | "videos";
export type BatchKind = "input" | "output";

export interface BatchRecord {
  id: string;
  name: string;
  type: BatchType;
  kind: BatchKind;
  createdAtMs: number;
  expiresAtMs: number;
  fileCount: number;
  totalBytes: number;
}

export interface PartRecord {
  batchId: string;
  name: string;
  fileCount: number;
  totalBytes: number;
  createdAtMs: number;
}

export interface BatchFileRecord {
  batchId: string;
  part: string;
  name: string;
  sizeBytes: number;
  sha256: string;
  contentType: string;
  createdAtMs: number;
}

export interface Page<T> {
  items: T[];
  /** Opaque cursor for the next page; undefined on the last page. */
  next: string | undefined;
}

/** A registered model; its file is `models/<sha256>.onnx` in the data dir, shared by ids with the same content. */
export interface ModelRecord {
  modelId: string;
  sha256: string;
  family: string;
  task: string;
  /** The engine's ModelInfo as JSON: storage keeps it without knowing its shape. */
  infoJson: string;
  sizeBytes: number;
  createdAtMs: number;
}

/** A stored workflow definition (kept as the JSON text it was given). */
export interface WorkflowRecord {
  workflowId: string;
  definitionJson: string;
  createdAtMs: number;
  updatedAtMs: number;
}

export type NewBatch = Omit<BatchRecord, "fileCount" | "totalBytes">;

export interface Store {
  /** Throws AppError BATCH_EXISTS when the id is taken. */
  createBatch(batch: NewBatch): BatchRecord;
  getBatch(id: string): BatchRecord | undefined;
  listBatches(opts: { pageSize: number; cursor?: string }): Page<BatchRecord>;
  listParts(batchId: string): PartRecord[];
  getBatchFile(batchId: string, part: string, name: string): BatchFileRecord | undefined;
  /** Inserts or replaces file rows and keeps the part counters right, in one transaction. */
  putBatchFiles(files: BatchFileRecord[]): void;
  listBatchFiles(batchId: string, opts: { part?: string; pageSize: number; cursor?: string }): Page<BatchFileRecord>;
  /** Deletes the batch with its parts and file rows; false when it did not exist. */
  deleteBatch(id: string): boolean;
  /** Batches whose expiry is at or before `nowMs`. */
  listExpiredBatches(nowMs: number, limit: number): BatchRecord[];
  /** Adds a model; with `overwrite` replaces one of the same id, else throws AppError MODEL_EXISTS (409). */
  putModel(model: ModelRecord, overwrite: boolean): void;
  getModel(modelId: string): ModelRecord | undefined;
  /** Models by id. */
  listModels(opts: { pageSize: number; cursor?: string }): Page<ModelRecord>;
  /** False when it did not exist. */
  deleteModel(modelId: string): boolean;
  /** How many models use the file with this content, so that it is deleted with the last one. */
  countModelsWithSha(sha256: string): number;
  /** Adds a workflow; with `overwrite` replaces one of the same id (keeping its creation time), else throws WORKFLOW_EXISTS (409). */
  putWorkflow(workflow: WorkflowRecord, overwrite: boolean): void;
  getWorkflow(workflowId: string): WorkflowRecord | undefined;
  listWorkflows(opts: { pageSize: number; cursor?: string }): Page<WorkflowRecord>;
  deleteWorkflow(workflowId: string): boolean;
  close(): void;
}
