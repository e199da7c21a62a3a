import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { AppError, toAppError } from "../core/errors.ts";
import type { Clock } from "../core/clock.ts";
import { humanBytes } from "../core/format.ts";
import type { TarEntrySink } from "../core/tar.ts";
import { checkFileName } from "./file-names.ts";
import { sniffMedia, SNIFF_BYTES } from "./sniff.ts";
import type { Staging } from "./staging.ts";
import type { BatchFileRecord, BatchRecord, Store } from "./store.ts";

/**
 * Accepts files into one part of a batch, one stream at a time: checks the name, the size limit and the
 * content (sniffed from the first bytes), hashes while writing to a temp file, and renames the file into
 * place when it is complete. Rows are written in groups; a file is visible once its row is.
 *
 * Duplicate names: a file whose name is already in the part with the same content (sha256) is accepted as
 * `unchanged`; with different content it is rejected (DUPLICATE_FILE) unless `overwrite` is set, in which
 * case it replaces the old one.
 */
export interface WriterOptions {
  part: string;
  overwrite: boolean;
  /** Largest file accepted, in bytes. */
  maxBytes: number;
  /** Content the part accepts, checked by sniffing; undefined accepts anything (job outputs). */
  expect: "image" | "video" | undefined;
  contentType?: string;
}

export type FileStatus = "stored" | "replaced" | "unchanged";
export interface Rejection {
  name: string;
  code: string;
  message: string;
}
export interface WriteSummary {
  stored: number;
  replaced: number;
  unchanged: number;
  bytes: number;
  rejected: Rejection[];
}

const FLUSH_EVERY = 256;

export class BatchWriter {
  readonly summary: WriteSummary = { stored: 0, replaced: 0, unchanged: 0, bytes: 0, rejected: [] };
  private pendingRows: BatchFileRecord[] = [];
  private pendingByName = new Map<string, BatchFileRecord>();

  constructor(
    private readonly deps: { store: Store; staging: Staging; clock: Clock },
    readonly batch: BatchRecord,
    readonly opts: WriterOptions,
  ) {}

  /** Starts a file. Name and declared size are checked now; content as it arrives. */
  begin(rawName: string, declaredSize?: number): IncomingFile {
    return new IncomingFile(this, rawName, declaredSize);
  }

  /** Writes pending rows; call at the end of a request (also after a failure, to keep completed files). */
  flush(): void {
    if (this.pendingRows.length === 0) return;
    this.deps.store.putBatchFiles(this.pendingRows);
    this.pendingRows = [];
    this.pendingByName.clear();
  }

  /** @internal */
  existing(name: string): BatchFileRecord | undefined {
    return this.pendingByName.get(name) ?? this.deps.store.getBatchFile(this.batch.id, this.opts.part, name);
  }

  /** @internal */
  record(row: BatchFileRecord, status: FileStatus): void {
    this.summary[status]++;
    if (status === "unchanged") return;
    this.summary.bytes += row.sizeBytes;
    this.pendingRows.push(row);
    this.pendingByName.set(row.name, row);
    if (this.pendingRows.length >= FLUSH_EVERY) this.flush();
  }

  /** @internal */
  get staging(): Staging {
    return this.deps.staging;
  }
  /** @internal */
  now(): number {
    return this.deps.clock.now();
  }
}

export class IncomingFile implements TarEntrySink {
  error: AppError | undefined;
  status: FileStatus | undefined;
  row: BatchFileRecord | undefined;
  private name: string;
  private fd: number | undefined;
  private tempPath: string | undefined;
  private size = 0;
  private head = new Uint8Array(SNIFF_BYTES);
  private headFill = 0;
  private contentType: string | undefined;
  private hasher = new Bun.CryptoHasher("sha256");

  constructor(
    private readonly writer: BatchWriter,
    rawName: string,
    declaredSize: number | undefined,
  ) {
    this.name = rawName;
    try {
      this.name = checkFileName(rawName);
      if (declaredSize !== undefined) this.checkSize(declaredSize);
      this.tempPath = writer.staging.tempPath();
      this.fd = openSync(this.tempPath, "wx");
    } catch (e) {
      this.fail(e);
    }
  }

  write(chunk: Uint8Array): void {
    if (this.error) return;
    try {
      this.checkSize(this.size + chunk.length);
      if (this.headFill < SNIFF_BYTES) {
        const take = Math.min(SNIFF_BYTES - this.headFill, chunk.length);
        this.head.set(chunk.subarray(0, take), this.headFill);
        this.headFill += take;
        if (this.headFill === SNIFF_BYTES) this.checkContent();
      }
      this.hasher.update(chunk);
      let off = 0;
      while (off < chunk.length) off += writeSync(this.fd!, chunk, off, chunk.length - off);
      this.size += chunk.length;
    } catch (e) {
      this.fail(e);
    }
  }

  end(): void {
    if (this.error) return;
    try {
      if (this.size === 0) throw new AppError("EMPTY_FILE", `File '${this.name}' is empty (0 bytes)`, 400, { name: this.name });
      if (this.contentType === undefined) this.checkContent();
      closeSync(this.fd!);
      this.fd = undefined;
      this.commit();
    } catch (e) {
      this.fail(e);
    }
  }

  abort(reason: string): void {
    this.reject(new AppError("INCOMPLETE_FILE", `File '${this.name}' is incomplete: ${reason}`, 400, { name: this.name }));
  }

  /** Rejects the file with a cause found outside it (a failed fetch); a no-op once it is rejected. */
  reject(error: AppError): void {
    if (!this.error) this.fail(error);
  }

  /** Throws the rejection, for single-file uploads where the request itself fails. */
  assertOk(): FileStatus {
    if (this.error) throw this.error;
    return this.status!;
  }

  private commit(): void {
    const sha256 = this.hasher.digest("hex");
    const prev = this.writer.existing(this.name);
    if (prev && prev.sha256 === sha256) {
      this.cleanup();
      this.status = "unchanged";
      this.row = prev;
      this.writer.record(prev, "unchanged");
      return;
    }
    if (prev && !this.writer.opts.overwrite)
      throw new AppError(
        "DUPLICATE_FILE",
        `File '${this.name}' already exists in batch '${this.writer.batch.id}' with different content; upload with overwrite to replace it`,
        409,
        { name: this.name },
      );
    const finalPath = this.writer.staging.filePath(this.writer.batch, this.writer.opts.part, this.name);
    try {
      this.writer.staging.commit(this.tempPath!, finalPath);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === "ENOTDIR" || code === "EISDIR" || code === "EEXIST")
        throw new AppError("INVALID_FILE_NAME", `File name '${this.name}' clashes with a folder or file of the batch`, 409, {
          name: this.name,
        });
      throw e;
    }
    this.tempPath = undefined;
    this.status = prev ? "replaced" : "stored";
    this.row = {
      batchId: this.writer.batch.id,
      part: this.writer.opts.part,
      name: this.name,
      sizeBytes: this.size,
      sha256,
      contentType: this.contentType ?? "application/octet-stream",
      createdAtMs: this.writer.now(),
    };
    this.writer.record(this.row, this.status);
  }

  private checkSize(size: number): void {
    const max = this.writer.opts.maxBytes;
    if (size > max)
      throw new AppError("FILE_TOO_LARGE", `File '${this.name}' is larger than the limit of ${humanBytes(max)}`, 413, {
        name: this.name,
        limitBytes: max,
      });
  }

  private checkContent(): void {
    const expect = this.writer.opts.expect;
    if (expect === undefined) {
      this.contentType = this.writer.opts.contentType ?? "application/octet-stream";
      return;
    }
    const media = sniffMedia(this.head.subarray(0, this.headFill));
    if (media?.kind !== expect)
      throw new AppError(
        "UNSUPPORTED_CONTENT",
        `File '${this.name}' is not ${expect === "image" ? "an image" : "a video"} (${media ? `looks like ${media.contentType}` : "unknown format"}); batch '${this.writer.batch.id}' holds ${this.writer.batch.type}`,
        415,
        { name: this.name, expected: expect, detected: media?.contentType ?? null },
      );
    this.contentType = media.contentType;
  }

  private fail(e: unknown): void {
    this.error = toAppError(e);
    this.cleanup();
    this.writer.summary.rejected.push({ name: this.name, code: this.error.code, message: this.error.message });
  }

  private cleanup(): void {
    if (this.fd !== undefined) {
      try {
        closeSync(this.fd);
      } catch {}
      this.fd = undefined;
    }
    if (this.tempPath) rmSync(this.tempPath, { force: true });
    this.tempPath = undefined;
  }
}
