import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import { Unzip, UnzipInflate } from "fflate";
import { AppError } from "../../core/errors.ts";
import { TarReader, type TarEntrySink } from "../../core/tar.ts";
import { checkFileName } from "../../storage/file-names.ts";
import type { ApiClient } from "../client.ts";
import { ProgressBar } from "../progress.ts";
import { chunksOf } from "./upload.ts";

interface RemoteFile {
  name: string;
  part: string;
  sizeBytes: number;
  sha256: string;
}
interface BatchInfo {
  batchId: string;
  kind: "input" | "output";
  parts: { name: string; fileCount: number }[];
}

export interface ExportOptions {
  batchId: string;
  targetDir: string;
  part?: string;
  overrideExisting: boolean;
}

export interface ExportReport {
  batchId: string;
  targetDir: string;
  downloaded: number;
  skipped: number;
  archivesUnpacked: number;
  bytes: number;
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|zip)$/i;
const GROUP_FILES = 1000;
const GROUP_BYTES = 256 << 20;

/**
 * Downloads a batch into a folder. Input batches land flat in the folder; output batches get a folder
 * per part, and their archives (.tar, .tar.gz, .zip) are unpacked there. Every file is written to a temp
 * name and renamed when complete and verified (sha256), so an interrupted export leaves no half files and
 * a re-run fetches only what is missing. Files already present with the right size are kept unless
 * `overrideExisting`.
 */
export async function exportBatch(client: ApiClient, opts: ExportOptions): Promise<ExportReport> {
  const batch = await client.json<BatchInfo>("GET", `api/v1/batches/${opts.batchId}`);
  const parts = opts.part ? batch.parts.filter((p) => p.name === opts.part) : batch.parts;
  if (opts.part && parts.length === 0)
    throw new AppError("PART_NOT_FOUND", `Batch '${opts.batchId}' has no part '${opts.part}' (parts: ${batch.parts.map((p) => p.name).join(", ") || "none"})`, 404);
  const root = resolve(opts.targetDir);
  mkdirSync(root, { recursive: true });
  const report: ExportReport = { batchId: opts.batchId, targetDir: root, downloaded: 0, skipped: 0, archivesUnpacked: 0, bytes: 0 };
  for (const part of parts) {
    // One part (an input batch, or an export batch of archives) lands flat; several get a folder each.
    const dest = batch.kind === "input" || parts.length === 1 ? root : join(root, part.name);
    const files: RemoteFile[] = [];
    for await (const f of client.pages<RemoteFile>(`api/v1/batches/${opts.batchId}/content`, "files", { part: part.name })) files.push(f);
    const archives = batch.kind === "output" ? files.filter((f) => ARCHIVE.test(f.name)) : [];
    const plain = files.filter((f) => !archives.includes(f));
    const todo = plain.filter((f) => opts.overrideExisting || !sameSize(safePath(dest, f.name), f.sizeBytes));
    report.skipped += plain.length - todo.length;
    const bar = new ProgressBar(`Exporting ${opts.batchId}/${part.name}`, todo.length + archives.length);
    for (const group of chunksOf(todo, (f) => f.sizeBytes, GROUP_FILES, GROUP_BYTES)) {
      const response = await client.request("POST", `api/v1/batches/${opts.batchId}/archive`, {
        query: { part: part.name, format: "tar" },
        json: { names: group.map((f) => f.name) },
      });
      const expected = new Map(group.map((f) => [f.name, f]));
      const written = await unpackTar(response.body!, dest, (name) => expected.get(name));
      report.downloaded += written.files;
      report.bytes += written.bytes;
      bar.tick(group.length, written.bytes);
    }
    for (const archive of archives) {
      const marker = join(root, ".vbatch-export", part.name, `${archive.name}.sha256`);
      if (!opts.overrideExisting && existsSync(marker) && readFileSync(marker, "utf8") === archive.sha256) {
        report.skipped++;
        bar.tick(1);
        continue;
      }
      const response = await client.request("GET", `api/v1/batches/${opts.batchId}/file`, { query: { part: part.name, name: archive.name } });
      const written = /\.zip$/i.test(archive.name)
        ? await unpackZip(response.body!, dest)
        : await unpackTar(/\.(tar\.gz|tgz)$/i.test(archive.name) ? response.body!.pipeThrough(new DecompressionStream("gzip")) : response.body!, dest);
      mkdirSync(dirname(marker), { recursive: true });
      writeFileSync(marker, archive.sha256);
      report.archivesUnpacked++;
      report.bytes += written.bytes;
      bar.tick(1, written.bytes);
    }
    bar.finish();
  }
  return report;
}

function sameSize(path: string, size: number): boolean {
  const s = statSync(path, { throwIfNoEntry: false });
  return s !== undefined && s.isFile() && s.size === size;
}

/** Joins a name from the server under `dest`, refusing anything that would land outside it. */
function safePath(dest: string, name: string): string {
  checkFileName(name);
  const path = resolve(dest, name);
  if (!path.startsWith(resolve(dest) + sep)) throw new AppError("INVALID_FILE_NAME", `Refusing to write '${name}' outside ${dest}`, 400);
  return path;
}

/** A file being written beside its final place, renamed when complete (and verified when a hash is known). */
class LocalFileSink implements TarEntrySink {
  private readonly temp: string;
  private readonly fd: number;
  private readonly hasher = new Bun.CryptoHasher("sha256");
  size = 0;

  constructor(
    private readonly path: string,
    private readonly expectSha?: string,
    private readonly onDone?: (size: number) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.temp = `${path}.vbatch-part-${randomBytes(4).toString("hex")}`;
    this.fd = openSync(this.temp, "w");
  }
  write(chunk: Uint8Array): void {
    this.hasher.update(chunk);
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
    this.size += chunk.length;
  }
  end(): void {
    closeSync(this.fd);
    const sha = this.hasher.digest("hex");
    if (this.expectSha && sha !== this.expectSha) {
      rmSync(this.temp, { force: true });
      throw new AppError("CHECKSUM_MISMATCH", `'${this.path}' arrived with sha256 ${sha}, expected ${this.expectSha}`, 502);
    }
    renameSync(this.temp, this.path);
    this.onDone?.(this.size);
  }
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {}
    rmSync(this.temp, { force: true });
  }
}

async function unpackTar(
  body: ReadableStream<Uint8Array>,
  dest: string,
  expected?: (name: string) => RemoteFile | undefined,
): Promise<{ files: number; bytes: number }> {
  const count = { files: 0, bytes: 0 };
  const done = (size: number) => {
    count.files++;
    count.bytes += size;
  };
  const reader = new TarReader((h) => {
    if (h.type !== "file") return undefined;
    const want = expected?.(h.name);
    if (expected && !want) throw new AppError("UNEXPECTED_FILE", `The server sent '${h.name}', which was not asked for`, 502);
    return new LocalFileSink(safePath(dest, h.name), want?.sha256, done);
  });
  try {
    for await (const chunk of body) reader.push(chunk);
    reader.finish();
  } catch (e) {
    reader.abort("export interrupted");
    throw e;
  }
  return count;
}

async function unpackZip(body: ReadableStream<Uint8Array>, dest: string): Promise<{ files: number; bytes: number }> {
  const count = { files: 0, bytes: 0 };
  let failure: unknown;
  const unzip = new Unzip((file) => {
    if (file.name.endsWith("/")) return;
    let sink: LocalFileSink;
    try {
      sink = new LocalFileSink(safePath(dest, file.name), undefined, (size) => {
        count.files++;
        count.bytes += size;
      });
    } catch (e) {
      failure ??= e;
      return;
    }
    file.ondata = (err, data, final) => {
      if (err) {
        failure ??= err;
        sink.abort();
        return;
      }
      sink.write(data);
      if (final) sink.end();
    };
    file.start();
  });
  unzip.register(UnzipInflate);
  for await (const chunk of body) {
    unzip.push(chunk);
    if (failure) throw failure;
  }
  unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  return count;
}
