import { mkdirSync, readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { type AppError, isAppError, toAppError } from "../core/errors.ts";
import type { ResolvedModel } from "../engine/models/types.ts";
import type { EnginePool } from "../engine/parallel/pool.ts";
import type { RunResult } from "../engine/parallel/protocol.ts";
import { INPUT_PART } from "../storage/batches.ts";
import type { Staging } from "../storage/staging.ts";
import { openRowWriter } from "./result-rows.ts";
import type { ItemFailure, JobRecord, Lease, TaskResult } from "./types.ts";

/** Images of one task in flight at once on the worker's engine: the next is decoded while one runs. */
const IN_FLIGHT = 2;

export interface TaskControl {
  /** Called after each image with the counts so far (the heartbeat carries them). */
  progress(done: number, failed: number): void;
  /** True once the task was taken away (lease lost, job aborted): the runner stops at the next image. */
  stopped(): boolean;
}

/** The job's facts a processing task needs, parsed once per job. */
export interface JobPlan {
  definition: { outputs?: { name?: unknown }[] };
  models: Record<string, ResolvedModel>;
  outputNames: string[];
}

export function planOf(job: JobRecord): JobPlan {
  const definition = JSON.parse(job.workflowJson) as JobPlan["definition"];
  return {
    definition,
    models: JSON.parse(job.modelsJson) as Record<string, ResolvedModel>,
    outputNames: (definition.outputs ?? []).map((o) => String(o.name)),
  };
}

/** A processing task's file name in its output batch: `task-000001.jsonl`, … */
export const taskFile = (index: number, ext: string) => `task-${String(index + 1).padStart(6, "0")}.${ext}`;

/**
 * The error of one image (or frame) that a task records and goes on from. A dead engine or a closed pool is
 * the worker's trouble, not the image's: that is thrown, and the task fails.
 */
export function itemError(e: unknown): AppError {
  const err = toAppError(e);
  if (!isAppError(e) || err.code === "WORKER_CRASHED" || err.code === "POOL_CLOSED") throw err;
  return err;
}

/**
 * Runs a processing task: each image of the lease through the workflow on the worker's engine, rows
 * streamed to the task's result file in input order, failed images to its errors file, image outputs to
 * `images/<input>/…`. One bad image is a failure of that image, never of the task. Returns undefined when
 * the task was stopped.
 */
export async function runProcessingTask(
  lease: Lease,
  job: JobRecord,
  plan: JobPlan,
  deps: { pool: EnginePool; staging: Staging; workDir: string },
  control: TaskControl,
): Promise<TaskResult | undefined> {
  const started = performance.now();
  mkdirSync(deps.workDir, { recursive: true });
  const format = job.options.aggregationFormat;
  const resultPath = join(deps.workDir, taskFile(lease.index, format));
  const rows = openRowWriter(resultPath, format, ["image", ...plan.outputNames]);
  const failures: ItemFailure[] = [];
  const imagesDir = join(deps.workDir, "images");
  const pending = new Map<number, Promise<RunResult | ItemFailure>>();
  let done = 0;
  try {
    const start = (i: number) => {
      const name = lease.items[i]!;
      const run = deps.pool
        .run({
          workflowKey: job.jobId,
          definition: plan.definition,
          models: plan.models,
          image: { name, path: deps.staging.filePath({ id: job.inputBatchId, kind: "input" }, INPUT_PART, name) },
          params: job.options.workflowParams,
          ...(job.options.saveImageOutputs ? { imageDir: join(imagesDir, name), imageOutputs: job.options.imageOutputsToSave, imagePrefix: `${name}/` } : {}),
        })
        .catch((e: unknown): ItemFailure => {
          const err = itemError(e);
          return { item: name, code: err.code, message: err.message };
        });
      pending.set(i, run);
    };
    for (let i = 0; i < Math.min(IN_FLIGHT, lease.items.length); i++) start(i);
    for (let i = 0; i < lease.items.length; i++) {
      const outcome = await pending.get(i)!;
      pending.delete(i);
      if (control.stopped()) return undefined;
      if (i + IN_FLIGHT < lease.items.length) start(i + IN_FLIGHT);
      if ("item" in outcome) failures.push(outcome);
      else rows.write({ image: lease.items[i], ...outcome.outputs });
      done++;
      control.progress(done, failures.length);
    }
  } finally {
    rows.close();
    // Runs started ahead of a stop are let finish quietly.
    for (const p of pending.values()) p.catch(() => undefined);
  }
  const files: TaskResult["files"] = [resultsFile(resultPath, lease.index, format)];
  if (failures.length) files.push(errorsFile(deps.workDir, lease.index, failures));
  files.push(...imageFiles(imagesDir));
  return { itemsDone: done - failures.length, itemsFailed: failures.length, failures, files, machineMs: Math.round(performance.now() - started) };
}

/** The task's result file (written at `path`) as it goes into the output batch. */
export function resultsFile(path: string, index: number, format: "jsonl" | "csv"): TaskResult["files"][number] {
  return { part: "results", name: taskFile(index, format), tempPath: path, contentType: format === "csv" ? "text/csv" : "application/jsonl" };
}

/**
 * The task's errors file: one JSONL row per failed input (`{image, code, message}`), then any further rows
 * (a video's failed frames add `frame_number`).
 */
export function errorsFile(workDir: string, index: number, failures: ItemFailure[], more: Record<string, unknown>[] = []): TaskResult["files"][number] {
  const path = join(workDir, taskFile(index, "errors.jsonl"));
  const writer = openRowWriter(path, "jsonl", []);
  for (const f of failures) writer.write({ image: f.item, code: f.code, message: f.message });
  for (const row of more) writer.write(row);
  writer.close();
  return { part: "errors", name: taskFile(index, "jsonl"), tempPath: path, contentType: "application/jsonl" };
}

/** Every image output written under `images/`, named by its path there (`<input>/<output>.jpg`). */
function imageFiles(dir: string): TaskResult["files"] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true }) as string[];
  } catch {
    return [];
  }
  return names
    .filter((n) => statSync(join(dir, n)).isFile())
    .map((n) => ({ part: "images", name: relative(dir, join(dir, n)), tempPath: join(dir, n), contentType: "image/jpeg" }));
}
