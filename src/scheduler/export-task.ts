import { mkdirSync } from "node:fs";
import { resolveFfmpeg } from "../engine/ffmpeg.ts";
import { joinVideoParts } from "./export/video-parts.ts";
import type { ResolvedModel } from "../engine/models/types.ts";
import type { Staging } from "../storage/staging.ts";
import type { BatchFileRecord, Store } from "../storage/store.ts";
import { runExport } from "./export/index.ts";
import { processingBatchId } from "./jobs-naming.ts";
import type { TaskControl } from "./task-runner.ts";
import type { JobRecord, Lease, TaskResult } from "./types.ts";

/**
 * The export stage's task: the processing results (in task order, i.e. input order), errors and image
 * outputs packed by `runExport` into archives and a manifest for the `archive` part of `<job>-export`.
 */
export async function runExportTask(
  lease: Lease,
  job: JobRecord,
  deps: { store: Store; staging: Staging; workDir: string; archiveMaxBytes: number; ffmpegPath?: string },
  control: TaskControl,
): Promise<TaskResult | undefined> {
  const started = performance.now();
  const batch = { id: processingBatchId(job.jobId), kind: "output" as const };
  const files = (part: string) => allFiles(deps.store, batch.id, part).map((f) => ({ name: f.name, path: deps.staging.filePath(batch, part, f.name) }));
  const models = JSON.parse(job.modelsJson) as Record<string, ResolvedModel>;
  mkdirSync(deps.workDir, { recursive: true });
  const videos = job.type === "videos" ? await joinVideoParts(files("videos"), (await resolveFfmpeg(deps.ffmpegPath)).path, deps.workDir) : { files: [], summaries: [] };
  const out = await runExport({
    jobId: job.jobId,
    format: job.options.aggregationFormat,
    archiveFormat: job.options.archiveFormat,
    archiveMaxBytes: deps.archiveMaxBytes,
    resultFiles: files("results").map((f) => f.path),
    errorFiles: files("errors").map((f) => f.path),
    imageFiles: files("images"),
    ...(job.type === "videos" ? { videoFiles: videos.files } : {}),
    manifest: {
      job: { id: job.jobId, name: job.name, type: job.type, createdAt: new Date(job.createdAtMs).toISOString(), startedAt: job.startedAtMs ? new Date(job.startedAtMs).toISOString() : null },
      workflow: { id: job.workflowId },
      models: Object.entries(models).map(([id, m]) => ({ id, family: m.info.family, sha256: m.info.sha256 })),
      inputBatch: job.inputBatchId,
      options: job.options,
      ...(job.type === "videos" ? { videos: videos.summaries } : {}),
    },
    workDir: deps.workDir,
  });
  if (control.stopped()) return undefined;
  control.progress(out.counts.images, out.counts.failed);
  return {
    itemsDone: 1,
    itemsFailed: 0,
    failures: [],
    files: out.files.map((f) => ({ part: "archive", name: f.name, tempPath: f.path, contentType: f.contentType })),
    machineMs: Math.round(performance.now() - started),
  };
}

/** Every file of a batch part, in name order (result files are named by task index). */
function allFiles(store: Store, batchId: string, part: string): BatchFileRecord[] {
  const out: BatchFileRecord[] = [];
  let cursor: string | undefined;
  do {
    const page = store.listBatchFiles(batchId, { part, pageSize: 1000, cursor });
    out.push(...page.items);
    cursor = page.next;
  } while (cursor);
  return out;
}

