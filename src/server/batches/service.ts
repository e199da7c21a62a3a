import { AppError, notFound } from "../../core/errors.ts";
import { assertBatchId } from "../../core/ids.ts";
import { TarReader } from "../../core/tar.ts";
import { removeBatch, INPUT_PART } from "../../storage/batches.ts";
import { BatchWriter, type WriteSummary } from "../../storage/batch-writer.ts";
import { checkFileName, checkPartName } from "../../storage/file-names.ts";
import type { BatchFileRecord, BatchRecord, BatchType, PartRecord } from "../../storage/store.ts";
import type { ServerContext } from "../context.ts";
import { pageSize } from "../paging.ts";
import { fetchReferences, type Reference } from "./references.ts";

const DAY_MS = 86_400_000;

export interface BatchDetails extends BatchRecord {
  parts: PartRecord[];
}

/** Data staging use cases. Takes plain arguments; knows nothing of HTTP. */
export class BatchService {
  constructor(private readonly ctx: ServerContext) {}

  create(input: { batchId: string; name?: string; type: BatchType }): BatchRecord {
    const id = assertBatchId(input.batchId);
    if (input.type !== "images" && input.type !== "videos")
      throw new AppError("VALIDATION_FAILED", `Invalid type ${JSON.stringify(input.type)}: use images or videos`, 400, {
        field: "type",
      });
    const now = this.ctx.clock.now();
    const batch = this.ctx.store.createBatch({
      id,
      name: input.name?.trim() || id,
      type: input.type,
      kind: "input",
      createdAtMs: now,
      expiresAtMs: now + this.ctx.config.retentionDays * DAY_MS,
    });
    this.ctx.log.info("batch created", { batchId: id, type: input.type });
    return batch;
  }

  get(batchId: string): BatchRecord {
    const id = assertBatchId(batchId);
    const batch = this.ctx.store.getBatch(id);
    if (!batch) throw notFound("Batch", id, "BATCH_NOT_FOUND");
    return batch;
  }

  details(batchId: string): BatchDetails {
    const batch = this.get(batchId);
    return { ...batch, parts: this.ctx.store.listParts(batch.id) };
  }

  list(opts: { pageSize?: number; pageToken?: string }) {
    return this.ctx.store.listBatches({ pageSize: pageSize(opts.pageSize, 100), cursor: opts.pageToken });
  }

  delete(batchId: string): void {
    const batch = this.get(batchId);
    removeBatch(this.ctx.store, this.ctx.staging, batch);
    this.ctx.log.info("batch deleted", { batchId: batch.id });
  }

  listContent(batchId: string, opts: { part?: string; pageSize?: number; pageToken?: string }) {
    const batch = this.get(batchId);
    const part = opts.part === undefined ? undefined : checkPartName(opts.part);
    return this.ctx.store.listBatchFiles(batch.id, { part, pageSize: pageSize(opts.pageSize, 1000), cursor: opts.pageToken });
  }

  /** A stored file and its path on disk, for download. */
  file(batchId: string, part: string, name: string): { row: BatchFileRecord; path: string } {
    const batch = this.get(batchId);
    const row = this.ctx.store.getBatchFile(batch.id, checkPartName(part), checkFileName(name));
    if (!row) throw new AppError("FILE_NOT_FOUND", `File '${name}' is not in part '${part}' of batch '${batch.id}'`, 404, { name, part });
    return { row, path: this.ctx.staging.filePath(batch, part, name) };
  }

  /** A writer for client uploads into an input batch (always its `default` part). */
  private writer(batch: BatchRecord, overwrite: boolean): BatchWriter {
    if (batch.kind !== "input")
      throw new AppError("READ_ONLY_BATCH", `Batch '${batch.id}' holds job outputs and cannot be uploaded to`, 409);
    const images = batch.type === "images";
    const maxMb = images ? this.ctx.config.maxImageMb : this.ctx.config.maxVideoMb;
    return new BatchWriter(this.ctx, batch, {
      part: INPUT_PART,
      overwrite,
      maxBytes: Math.floor(maxMb * 1024 * 1024),
      expect: images ? "image" : "video",
    });
  }

  /** One file from a stream or bytes; a rejected file fails the call with its reason. */
  async uploadOne(batchId: string, name: string, body: ReadableStream<Uint8Array> | Uint8Array, overwrite = false) {
    const writer = this.writer(this.get(batchId), overwrite);
    const file = writer.begin(name);
    if (body instanceof Uint8Array) file.write(body);
    else for await (const chunk of body) file.write(chunk);
    file.end();
    writer.flush();
    const status = file.assertOk();
    return { name: file.row!.name, status, sizeBytes: file.row!.sizeBytes, sha256: file.row!.sha256 };
  }

  /** Several files of one multipart request; each is accepted or rejected on its own. */
  async uploadFiles(batchId: string, files: File[], overwrite = false): Promise<WriteSummary> {
    const writer = this.writer(this.get(batchId), overwrite);
    try {
      for (const f of files) {
        const file = writer.begin(f.name, f.size);
        for await (const chunk of f.stream()) file.write(chunk);
        file.end();
        failOnDiskFull(file.error);
      }
    } finally {
      writer.flush();
    }
    return writer.summary;
  }

  /**
   * Many files as one tar stream. Each complete entry is stored as it ends; entries that are not regular
   * files (symlinks, devices, ...) or have bad names are rejected and nothing of them is written. When the
   * stream stops early, completed files are kept, the partial one is dropped, and the call fails with
   * TRUNCATED_ARCHIVE naming it.
   */
  async uploadTar(batchId: string, body: ReadableStream<Uint8Array>, overwrite = false): Promise<WriteSummary> {
    const writer = this.writer(this.get(batchId), overwrite);
    const reader = new TarReader((header) => {
      if (header.type === "directory") return undefined;
      if (header.type !== "file") {
        writer.summary.rejected.push({
          name: header.name,
          code: "UNSUPPORTED_ENTRY",
          message: `Tar entry '${header.name}' is a ${header.type}${header.linkName ? ` to '${header.linkName}'` : ""}; only regular files are accepted`,
        });
        return undefined;
      }
      const file = writer.begin(header.name, header.size);
      return {
        write: (c) => file.write(c),
        end: () => {
          file.end();
          failOnDiskFull(file.error);
        },
        abort: (why) => file.abort(why),
      };
    });
    try {
      for await (const chunk of body) {
        reader.push(chunk);
        if (reader.ended) break;
      }
      reader.finish();
    } catch (e) {
      reader.abort("the upload stopped before this file was complete");
      const err = e instanceof AppError ? e : new AppError("UPLOAD_INTERRUPTED", `The upload stream failed: ${(e as Error).message}`, 400);
      throw withSummary(err, writer.summary);
    } finally {
      writer.flush();
    }
    return writer.summary;
  }

  async addReferences(batchId: string, references: Reference[], overwrite = false): Promise<WriteSummary> {
    const writer = this.writer(this.get(batchId), overwrite);
    try {
      await fetchReferences(references, writer, {
        timeoutMs: this.ctx.config.referenceTimeoutS * 1000,
        maxRedirects: this.ctx.config.referenceMaxRedirects,
        concurrency: this.ctx.config.referenceConcurrency,
      });
    } finally {
      writer.flush();
    }
    return writer.summary;
  }
}


function failOnDiskFull(error: AppError | undefined): void {
  if (error?.code === "DISK_FULL") throw error;
}

/** A request that failed mid-stream: the error keeps what was stored so far in its details. */
function withSummary(e: AppError, summary: WriteSummary): AppError {
  return new AppError(e.code, e.message, e.status, { ...e.details, stored: summary.stored, replaced: summary.replaced, unchanged: summary.unchanged, rejected: summary.rejected });
}
