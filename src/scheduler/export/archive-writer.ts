import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open, rename, rm, type FileHandle } from "node:fs/promises";
import type { Readable } from "node:stream";
import { ZipArchive } from "archiver";
import { tarStream, type TarSource } from "../../core/tar.ts";
import type { ArchiveFormat } from "./archive-size.ts";

/**
 * A file to pack: on disk (streamed when the archive reaches it) or small bytes in memory. Files with a
 * `folder` are counted under it rather than listed (a label file per image would make the list as long
 * as the results).
 */
export type ArchiveEntry = ({ path: string } | { bytes: Uint8Array }) & { name: string; size: number; folder?: string };

export interface WrittenArchive {
  bytes: number;
  sha256: string;
  /** Names of the listed entries, in archive order. */
  files: string[];
  /** Entries counted by folder. */
  folders: Record<string, number>;
}

/** Files read whole rather than streamed (fewer reads for the many small label and image files). */
const SMALL_FILE = 1 << 20;
/** Zip entries smaller than this are stored, not deflated. */
const STORE_BELOW = 16 << 10;
/** Entries handed to archiver ahead of what it has packed: bounds the memory its queue holds. */
const ZIP_AHEAD = 64;

/**
 * Packs `entries` into `path` as tar.gz or zip, written under a temp name and renamed when complete, and
 * hashed on the way out (no second read for the manifest's sha256).
 */
export async function writeArchive(format: ArchiveFormat, path: string, entries: AsyncIterable<ArchiveEntry> | Iterable<ArchiveEntry>): Promise<WrittenArchive> {
  const temp = `${path}.${randomBytes(6).toString("hex")}.partial`;
  const sink = await HashingFile.open(temp);
  const files: string[] = [];
  const folders: Record<string, number> = {};
  const named = (async function* () {
    for await (const entry of entries) {
      if (entry.folder === undefined) files.push(entry.name);
      else folders[entry.folder] = (folders[entry.folder] ?? 0) + 1;
      yield entry;
    }
  })();
  try {
    await (format === "zip" ? writeZip(named, sink) : writeTarGz(named, sink));
    await sink.close();
    await rename(temp, path);
  } catch (e) {
    await sink.close().catch(() => {});
    await rm(temp, { force: true });
    throw e;
  }
  return { bytes: sink.bytes, sha256: sink.hash.digest("hex"), files, folders };
}

async function writeTarGz(entries: AsyncIterable<ArchiveEntry>, sink: HashingFile): Promise<void> {
  const sources = (async function* (): AsyncGenerator<TarSource> {
    for await (const entry of entries) yield { name: entry.name, size: entry.size, body: () => bodyOf(entry) };
  })();
  const gzip = new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  for await (const chunk of tarStream(sources).pipeThrough(gzip)) await sink.write(chunk);
}

function bodyOf(entry: ArchiveEntry): Uint8Array | Promise<Uint8Array> | ReadableStream<Uint8Array> {
  if ("bytes" in entry) return entry.bytes;
  const file = Bun.file(entry.path);
  return entry.size <= SMALL_FILE ? file.bytes() : file.stream();
}

/**
 * archiver packs from its own queue; entries are handed over only while it is fewer than ZIP_AHEAD behind,
 * and its output is drained into the file at the same time. Its central directory is written in one go as
 * many small buffers, which takes about 6 KB per entry at the end (zip of 100,000 label files: ~650 MB).
 */
async function writeZip(entries: AsyncIterable<ArchiveEntry>, sink: HashingFile): Promise<void> {
  const zip = new ZipArchive({ zlib: { level: 6 } });
  let handed = 0;
  let packed = 0;
  let wake: (() => void) | undefined;
  const nudge = () => wake?.();
  zip.on("entry", () => {
    packed++;
    nudge();
  });
  zip.on("error", nudge);
  zip.on("close", nudge);
  const drain = (async () => {
    for await (const chunk of zip) await sink.write(chunk as Buffer);
  })();
  const feed = async () => {
    for await (const entry of entries) {
      zip.append(await zipSource(entry), { name: entry.name, store: storeUncompressed(entry) });
      handed++;
      while (handed - packed > ZIP_AHEAD && !zip.destroyed) await new Promise<void>((resolve) => (wake = resolve));
    }
    if (!zip.destroyed) await zip.finalize();
  };
  await Promise.all([
    drain,
    feed().catch((e: unknown) => {
      zip.destroy(e as Error);
      throw e;
    }),
  ]);
}

/**
 * archiver runs a zlib stream per deflated entry, whose set-up costs more than deflating a tiny file saves
 * (for 100,000 label files, more than half the time); JPEG and PNG do not deflate anyway.
 */
const storeUncompressed = (entry: ArchiveEntry) => entry.size < STORE_BELOW || /\.(jpe?g|png|webp|mp4)$/i.test(entry.name);

/**
 * Everything goes through archiver's `append`: its `file` takes a detour through a stat queue that lets
 * entries overtake one another, and the archive's order must be the order of the manifest's list.
 */
async function zipSource(entry: ArchiveEntry): Promise<Buffer | Readable> {
  if ("path" in entry) return entry.size <= SMALL_FILE ? Buffer.from(await Bun.file(entry.path).bytes()) : createReadStream(entry.path);
  return Buffer.from(entry.bytes.buffer, entry.bytes.byteOffset, entry.bytes.byteLength);
}

/** A file written chunk by chunk while its sha256 and size are taken. */
class HashingFile {
  readonly hash = createHash("sha256");
  bytes = 0;
  private closed = false;

  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<HashingFile> {
    return new HashingFile(await open(path, "w"));
  }

  async write(chunk: Uint8Array): Promise<void> {
    this.hash.update(chunk);
    for (let off = 0; off < chunk.length; ) off += (await this.handle.write(chunk, off)).bytesWritten;
    this.bytes += chunk.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }
}
