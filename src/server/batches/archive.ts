import { Readable } from "node:stream";
import { ZipArchive } from "archiver";
import { tarStream, type TarSource } from "../../core/tar.ts";
import type { BatchFileRecord } from "../../storage/store.ts";

export type ArchiveFormat = "tar" | "tar.gz" | "zip";
export const ARCHIVE_FORMATS: readonly ArchiveFormat[] = ["tar", "tar.gz", "zip"];

export const ARCHIVE_CONTENT_TYPES: Record<ArchiveFormat, string> = {
  tar: "application/x-tar",
  "tar.gz": "application/gzip",
  zip: "application/zip",
};

const SMALL_FILE = 1 << 20;

/**
 * Streams files as an archive, reading each from disk only when the archive reaches it, so that memory
 * stays flat whatever the part's size. `files` is lazy: rows are paged from the store as needed.
 */
export function archiveStream(
  files: AsyncIterable<BatchFileRecord>,
  pathOf: (row: BatchFileRecord) => string,
  format: ArchiveFormat,
): ReadableStream<Uint8Array> {
  if (format === "zip") return zipStream(files, pathOf);
  const tar = tarStream(
    (async function* (): AsyncGenerator<TarSource> {
      for await (const row of files) {
        const file = Bun.file(pathOf(row));
        yield {
          name: row.name,
          size: row.sizeBytes,
          mtimeMs: row.createdAtMs,
          body: () => (row.sizeBytes <= SMALL_FILE ? file.bytes() : file.stream()),
        };
      }
    })(),
  );
  return format === "tar.gz" ? tar.pipeThrough(new CompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>) : tar;
}

function zipStream(files: AsyncIterable<BatchFileRecord>, pathOf: (row: BatchFileRecord) => string): ReadableStream<Uint8Array> {
  const zip = new ZipArchive({ zlib: { level: 6 } });
  (async () => {
    try {
      for await (const row of files) {
        zip.file(pathOf(row), { name: row.name, date: new Date(row.createdAtMs) });
      }
      await zip.finalize();
    } catch (e) {
      zip.destroy(e as Error);
    }
  })();
  return Readable.toWeb(zip) as unknown as ReadableStream<Uint8Array>;
}
