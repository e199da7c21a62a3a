import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { ARCHIVE_BASE_COST, ENTRY_COST, planArchives, type ArchiveFormat } from "./archive-size.ts";
import { writeArchive, type ArchiveEntry, type WrittenArchive } from "./archive-writer.ts";
import type { DetectionFiles } from "./detection-export.ts";
import { DetectionOutputs, type NotExported } from "./detection-outputs.ts";
import { mergeErrors, mergeResults, type ErrorCounts, type MergeCounts } from "./merge.ts";

export interface ExportInput {
  jobId: string;
  /** The aggregation format of the processing result files (and of the merged file). */
  format: "jsonl" | "csv";
  archiveFormat: ArchiveFormat;
  /** Archives are split so that none exceeds this (only a single larger file gets a larger one). */
  archiveMaxBytes: number;
  /** Processing result files in task order (results merge in this order = input order). */
  resultFiles: string[];
  /** Per-task error files (JSONL rows {"image","code","message"}), in task order; may be empty. */
  errorFiles: string[];
  /** Image outputs saved by the processing stage: absolute path and the name they get under images/. */
  imageFiles: { path: string; name: string }[];
  /** Video outputs (annotated MP4s, per-video summary.json) of the processing stage, named as under videos/. */
  videoFiles?: { path: string; name: string }[];
  /** Job facts given by the caller (job, workflow, models with sha256, timings, cost…); counts are added. */
  manifest: Record<string, unknown>;
  /** A temp folder this module may use; the archives and manifest.json are left in it. */
  workDir: string;
}

export interface ExportOutput {
  /** Files to put into the export batch's part `archive`: archives and manifest.json (all inside workDir). */
  files: { name: string; path: string; contentType: string }[];
  /** images: inputs with result rows; failed: rows of the error files; detections: all detection outputs'. */
  counts: { images: number; failed: number; detections: number; detectionOutputs: string[] };
}

const CONTENT_TYPES: Record<ArchiveFormat, string> = { "tar.gz": "application/gzip", zip: "application/zip" };

/**
 * The export stage: merges the processing results into one file, writes COCO and YOLO files for the
 * detection outputs and the merged errors, packs them with the image outputs into archives of bounded size,
 * and describes it all in manifest.json. Everything streams: memory grows with the row count only by a
 * number per label file (to keep their names unique); the manifest lists image outputs, not label files.
 */
export async function runExport(input: ExportInput): Promise<ExportOutput> {
  await mkdir(input.workDir, { recursive: true });
  const build = await mkdtemp(join(input.workDir, "export-build-"));
  try {
    const parts = await buildParts(input, build);
    const archives = await packArchives(input, parts);
    const manifestPath = await writeManifest(input, parts, archives);
    return {
      files: [
        ...archives.map((a) => ({ name: a.name, path: a.path, contentType: CONTENT_TYPES[input.archiveFormat] })),
        { name: "manifest.json", path: manifestPath, contentType: "application/json" },
      ],
      counts: {
        images: parts.results.images,
        failed: parts.errors.failed,
        detections: parts.detection.reduce((n, d) => n + d.detections, 0),
        detectionOutputs: parts.detection.map((d) => d.output),
      },
    };
  } finally {
    await rm(build, { recursive: true, force: true });
  }
}

interface Parts {
  results: MergeCounts & { name: string };
  errors: ErrorCounts;
  detection: DetectionFiles[];
  notExported: NotExported[];
  /** Entries of the first archive except the label files (which are read back lazily). */
  firstFiles: ArchiveEntry[];
}

async function buildParts(input: ExportInput, build: string): Promise<Parts> {
  const outputs = new DetectionOutputs(build, ENTRY_COST[input.archiveFormat]);
  const resultsName = `results.${input.format}`;
  const resultsPath = join(build, resultsName);
  try {
    const results = await mergeResults(input.format, input.resultFiles, resultsPath, (row) => outputs.add(row));
    const errorsPath = join(build, "errors.jsonl");
    const errors = await mergeErrors(input.errorFiles, errorsPath);
    const { detection, notExported } = await outputs.finish(input.jobId);
    const firstFiles: ArchiveEntry[] = [
      { name: resultsName, size: results.bytes, path: resultsPath },
      { name: "errors.jsonl", size: errors.bytes, path: errorsPath },
      ...detection.flatMap((d) => d.files),
    ];
    return { results: { ...results, name: resultsName }, errors, detection, notExported, firstFiles };
  } catch (e) {
    outputs.abandon();
    throw e;
  }
}

interface Archive extends WrittenArchive {
  name: string;
  path: string;
}

/** The first archive gets the results, errors, COCO and YOLO files; image outputs fill it and the next ones. */
async function packArchives(input: ExportInput, parts: Parts): Promise<Archive[]> {
  const format = input.archiveFormat;
  const cost = ENTRY_COST[format];
  const images: ArchiveEntry[] = [];
  for (const f of input.imageFiles) images.push({ name: `images/${f.name}`, size: (await stat(f.path)).size, path: f.path });
  for (const f of input.videoFiles ?? []) images.push({ name: `videos/${f.name}`, size: (await stat(f.path)).size, path: f.path });
  const firstCost =
    parts.firstFiles.reduce((n, f) => n + cost(f.name, f.size), 0) + parts.detection.reduce((n, d) => n + d.labelsCost, 0);
  const plan = planArchives(firstCost, images.map((f) => cost(f.name, f.size)), input.archiveMaxBytes, ARCHIVE_BASE_COST[format]);
  const archives: Archive[] = [];
  for (const [i, indices] of plan.entries()) {
    const name = `${input.jobId}-${String(i).padStart(3, "0")}.${format}`;
    const path = join(input.workDir, name);
    const picked = indices.map((k) => images[k]!);
    const entries = i === 0 ? firstArchiveEntries(parts, picked) : picked;
    archives.push({ name, path, ...(await writeArchive(format, path, entries)) });
  }
  return archives;
}

async function* firstArchiveEntries(parts: Parts, images: ArchiveEntry[]): AsyncGenerator<ArchiveEntry> {
  yield* parts.firstFiles;
  for (const d of parts.detection) yield* d.labelEntries();
  yield* images;
}

async function writeManifest(input: ExportInput, parts: Parts, archives: Archive[]): Promise<string> {
  const given = input.manifest.counts;
  const manifest = {
    ...input.manifest,
    counts: {
      ...(typeof given === "object" && given !== null ? given : {}),
      images: parts.results.images,
      rows: parts.results.rows,
      failed: parts.errors.failed,
      failuresByCode: parts.errors.byCode,
      detections: Object.fromEntries(parts.detection.map((d) => [d.output, d.detections])),
      imageOutputs: input.imageFiles.length,
      ...(input.videoFiles ? { videoOutputs: input.videoFiles.filter((f) => f.name.endsWith(".mp4")).length } : {}),
    },
    results: parts.results.name,
    detectionOutputs: parts.detection.map((d) => ({
      output: d.output,
      coco: d.coco,
      labels: d.labels,
      classes: d.classes,
      images: d.images,
      detections: d.detections,
      categories: d.categories,
    })),
    notExported: parts.notExported,
    archives: archives.map((a) => ({
      name: a.name,
      bytes: a.bytes,
      sha256: a.sha256,
      files: a.files,
      ...(Object.keys(a.folders).length ? { folders: a.folders } : {}),
    })),
  };
  const path = join(input.workDir, "manifest.json");
  const temp = `${path}.${randomBytes(6).toString("hex")}.partial`;
  await writeFile(temp, JSON.stringify(manifest, null, 2) + "\n");
  await rename(temp, path);
  return path;
}
