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
  close(): void;
}
