import { tarHeader, tarPaddingSize } from "../../core/tar.ts";

export type ArchiveFormat = "tar.gz" | "zip";

/**
 * Upper bounds of what an entry adds to an archive, so that archives can be planned before they are
 * compressed and never exceed the limit, even for incompressible content (JPEGs).
 */
export type EntryCost = (name: string, size: number) => number;

/**
 * zlib's deflateBound (stored blocks are the worst case), with each term rounded up per entry so that the
 * sum over entries bounds the whole stream.
 */
const deflateBound = (n: number) => n + Math.ceil(n / 4096) + Math.ceil(n / 16384) + Math.ceil(n / 33554432);

/** Deflate's fixed costs (13) and the gzip header and trailer (18). */
const GZIP_FIXED = 13 + 18;
/** Local header, data descriptor, central directory record, room for zip64 extra fields, deflate's 13. */
const ZIP_ENTRY_FIXED = 30 + 24 + 46 + 64 + 13;
/** End of central directory records (classic and zip64). */
const ZIP_END = 22 + 56 + 20;
const TAR_END_BYTES = 1024;
const MAX_OCTAL_SIZE = 0o77777777777;

const utf8Length = (s: string) => Buffer.byteLength(s);

/** One block for a short ASCII name (as tarHeader decides), without building it: this runs per label file. */
const tarHeaderLength = (name: string, size: number) =>
  name.length <= 100 && size <= MAX_OCTAL_SIZE && /^[\x20-\x7e]*$/.test(name) ? 512 : tarHeader(name, size).length;

export const ENTRY_COST: Record<ArchiveFormat, EntryCost> = {
  "tar.gz": (name, size) => deflateBound(tarHeaderLength(name, size) + size + tarPaddingSize(size)),
  zip: (name, size) => deflateBound(size) + ZIP_ENTRY_FIXED + 2 * utf8Length(name),
};

/** What an archive costs before any entry. */
export const ARCHIVE_BASE_COST: Record<ArchiveFormat, number> = {
  "tar.gz": deflateBound(TAR_END_BYTES) + GZIP_FIXED,
  zip: ZIP_END,
};

/**
 * Spreads files over archives in their order: the first archive starts with `firstCost` (the results and
 * labels, which always go there), a file that does not fit starts the next one. A file too large for any
 * archive gets one of its own. Returns, per archive, the indices of its files.
 */
export function planArchives(firstCost: number, fileCosts: number[], maxBytes: number, baseCost: number): number[][] {
  const archives: number[][] = [[]];
  let used = baseCost + firstCost;
  fileCosts.forEach((cost, i) => {
    if (used + cost > maxBytes) {
      archives.push([i]);
      used = baseCost + cost;
    } else {
      archives[archives.length - 1]!.push(i);
      used += cost;
    }
  });
  return archives;
}
