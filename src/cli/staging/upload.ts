import { closeSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { extname, join, relative, sep } from "node:path";
import { AppError } from "../../core/errors.ts";
import { tarStream, type TarSource } from "../../core/tar.ts";
import type { ApiClient } from "../client.ts";
import { ProgressBar } from "../progress.ts";

export const IMAGE_EXTENSIONS = new Set([".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".gif", ".avif", ".heic", ".heif"]);
export const VIDEO_EXTENSIONS = new Set([".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".ts", ".mts", ".flv", ".wmv", ".ogv", ".3gp"]);

export interface LocalFile {
  name: string;
  path: string;
  size: number;
  mtimeMs: number;
}

export interface Rejected {
  name: string;
  code: string;
  message: string;
}

export interface UploadReport {
  batchId: string;
  found: number;
  alreadyPresent: number;
  uploaded: number;
  unchanged: number;
  bytes: number;
  rejected: Rejected[];
}

/** Media files of a folder (names relative to it, '/'-separated), by extension; hidden files are skipped. */
export function scanMediaFiles(dir: string, type: "images" | "videos", recursive: boolean): LocalFile[] {
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new AppError("NOT_FOUND", `Folder '${dir}' does not exist`, 404);
  }
  if (!st.isDirectory()) throw new AppError("VALIDATION_FAILED", `'${dir}' is not a folder`, 400);
  const wanted = type === "images" ? IMAGE_EXTENSIONS : VIDEO_EXTENSIONS;
  const out: LocalFile[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const path = join(folder, entry.name);
      const s = entry.isSymbolicLink() ? statSync(path, { throwIfNoEntry: false }) : undefined;
      const isDir = s ? s.isDirectory() : entry.isDirectory();
      if (isDir) {
        if (recursive) walk(path);
        continue;
      }
      if (!wanted.has(extname(entry.name).toLowerCase())) continue;
      const fs = s ?? statSync(path);
      if (!fs.isFile()) continue;
      out.push({ name: relative(dir, path).split(sep).join("/"), path, size: fs.size, mtimeMs: fs.mtimeMs });
    }
  };
  walk(dir);
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Creates the batch when it does not exist; checks its type when it does. */
export async function ensureBatch(client: ApiClient, batchId: string, type: "images" | "videos", name?: string): Promise<void> {
  try {
    const existing = await client.json<{ type: string; kind: string }>("GET", `api/v1/batches/${batchId}`);
    if (existing.type !== type || existing.kind !== "input")
      throw new AppError("BATCH_TYPE_MISMATCH", `Batch '${batchId}' already exists and holds ${existing.kind === "input" ? existing.type : "job outputs"}, not ${type}`, 409);
  } catch (e) {
    if (!(e instanceof AppError) || e.code !== "BATCH_NOT_FOUND") throw e;
    await client.json("POST", "api/v1/batches", { json: { batchId, type, ...(name ? { name } : {}) } });
  }
}

/** Names and sizes already in the batch, so that a re-run sends only what is missing. */
export async function remoteSizes(client: ApiClient, batchId: string, part = "default"): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  for await (const f of client.pages<{ name: string; sizeBytes: number }>(`api/v1/batches/${batchId}/content`, "files", { part }))
    sizes.set(f.name, f.sizeBytes);
  return sizes;
}

export interface UploadOptions {
  batchId: string;
  overwrite: boolean;
  chunkFiles?: number;
  chunkBytes?: number;
  /** Requests in flight at once: while the server stores one chunk, the next is already being read. */
  parallel?: number;
}

const SMALL_FILE = 4 << 20;

/**
 * Reads a file whose size the scan already knows: open, read, close — no stat, as syscalls are the cost
 * when sending thousands of small files. A file that changed size shows as a length mismatch in the tar.
 */
function readSmallFile(path: string, size: number): Uint8Array {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.allocUnsafe(size + 1);
    let off = 0;
    for (let n = -1; n !== 0 && off <= size; off += n) n = readSync(fd, buf, off, size + 1 - off, off);
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** Splits items into chunks of at most `maxItems` items and (unless one item is larger) `maxBytes`. */
export function* chunksOf<T>(items: T[], sizeOf: (item: T) => number, maxItems: number, maxBytes: number): Generator<T[]> {
  let chunk: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (chunk.length && (chunk.length >= maxItems || bytes + sizeOf(item) > maxBytes)) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(item);
    bytes += sizeOf(item);
  }
  if (chunk.length) yield chunk;
}

/**
 * Sends files as tar streams of bounded size (so each request's result is known and a resumed run loses
 * at most the chunks in flight). Files already in the batch with the same size are skipped.
 */
export async function uploadFiles(client: ApiClient, files: LocalFile[], opts: UploadOptions): Promise<UploadReport> {
  const present = await remoteSizes(client, opts.batchId);
  const todo = files.filter((f) => (opts.overwrite ? true : present.get(f.name) !== f.size));
  const report: UploadReport = {
    batchId: opts.batchId,
    found: files.length,
    alreadyPresent: files.length - todo.length,
    uploaded: 0,
    unchanged: 0,
    bytes: 0,
    rejected: [],
  };
  const bar = new ProgressBar(`Uploading to ${opts.batchId}`, todo.length);
  const chunks = chunksOf(todo, (f) => f.size, opts.chunkFiles ?? 500, opts.chunkBytes ?? 128 << 20);
  const send = async () => {
    for (let next = chunks.next(); !next.done; next = chunks.next()) {
      const chunk = next.value;
      const sources = chunk.map(
        (f): TarSource => ({
          name: f.name,
          size: f.size,
          mtimeMs: f.mtimeMs,
          body: () => (f.size <= SMALL_FILE ? readSmallFile(f.path, f.size) : Bun.file(f.path).stream()),
        }),
      );
      const summary = await client.json<{ stored: number; replaced: number; unchanged: number; bytes: number; rejected: Rejected[] }>(
        "POST",
        `api/v1/batches/${opts.batchId}/files`,
        { body: tarStream(sources), headers: { "content-type": "application/x-tar" }, query: { overwrite: opts.overwrite || undefined } },
      );
      report.uploaded += summary.stored + summary.replaced;
      report.unchanged += summary.unchanged;
      report.bytes += summary.bytes;
      report.rejected.push(...summary.rejected);
      bar.tick(chunk.length, chunk.reduce((n, f) => n + f.size, 0));
    }
  };
  await Promise.all(Array.from({ length: opts.parallel ?? 2 }, send));
  bar.finish();
  return report;
}
