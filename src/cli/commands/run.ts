import type { CAC } from "cac";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { AppError } from "../../core/errors.ts";
import { directoryResolver } from "../../engine/models/resolvers.ts";
import { startServer } from "../../server/main.ts";
import { requireOption, type CliContext } from "../context.ts";
import { readJsonFile } from "../local-engine.ts";
import { runOneShot } from "../one-shot.ts";
import { humanBytes } from "../output.ts";
import { jobOptions, withJobOptions } from "./batch-processing.ts";

/**
 * `vbatch run`: a whole job with no server to set up — a private server on a loopback port stages the
 * input, runs the job on local workers with the same scheduler and engine, and exports the results into
 * --output. Its data dir is temporary unless --data-dir is given.
 */
export function registerRun(cli: CAC, ctx: CliContext): void {
  withJobOptions(cli.command("run", "Run a workflow over a folder (or one file) and export the results, with no server to set up"))
    .option("--workflow <wf.json>", "The workflow definition")
    .option("--input <dir|file>", "Folder of images or videos, or one file")
    .option("--output <dir>", "Where the results are exported")
    .option("--models-dir <dir>", "Folder of models: <id>.onnx, <id>.txt class names, optional <id>.json")
    .option("--data-dir <dir>", "Keep the job's data here (default: a temporary folder, removed afterwards)")
    .option("--workers <n>", "Local workers (default: one per core)")
    .option("--type <type>", "images or videos (default images)")
    .option("--recursive", "Include sub-folders of --input")
    .option("--max-video-fps <f>", "Videos: frames per second to process")
    .option("--save-video-outputs", "Videos: write the image outputs as annotated MP4s")
    .option("--video-segment-seconds <s>", "Videos: split those longer than this into segments (default 600)")
    .action(async (o) => {
      const definition = readJsonFile(requireOption(o, "workflow", "--workflow"), "workflow file");
      const input = resolve(requireOption(o, "input", "--input"));
      const output = resolve(requireOption(o, "output", "--output"));
      const type = (o.type ?? "images") as "images" | "videos";
      if (type !== "images" && type !== "videos") throw ctx.usage(`--type must be images or videos (got ${o.type})`);
      const st = statSync(input, { throwIfNoEntry: false });
      if (!st) throw new AppError("NOT_FOUND", `Input '${input}' does not exist`, 404);
      const dataDir = o.dataDir ? resolve(String(o.dataDir)) : mkdtempSync(join(tmpdir(), "vbatch-run-"));
      const config = ctx.config({ logLevel: "warn", ...o, dataDir, port: 0, host: "127.0.0.1", apiKey: undefined });
      const server = await startServer(config, { workers: o.workers ? Number(o.workers) : config.workers });
      try {
        const started = performance.now();
        const { job, exported } = await runOneShot({
          server,
          definition,
          ...(o.modelsDir ? { models: directoryResolver(resolve(String(o.modelsDir))) } : {}),
          inputDir: st.isDirectory() ? input : dirname(input),
          ...(st.isDirectory() ? {} : { only: [basename(input)] }),
          recursive: !!o.recursive,
          type,
          batchId: "run-input",
          workflowId: "run-workflow",
          jobId: `run-${Date.now().toString(36)}`,
          options: jobOptions(o),
          outputDir: output,
        });
        const p = job.progress.stages.find((s) => s.stage === "processing");
        const seconds = (performance.now() - started) / 1000;
        const machine = `machine time ${job.progress.machineSeconds.toFixed(1)} s`;
        // Videos: counted from the export's summaries (a long video runs as several segment tasks), with frames.
        const videos = type === "videos" && exported ? videoCounts(join(output, "manifest.json")) : undefined;
        const counts = videos
          ? `${videos.videos} videos processed (${videos.frames} frames, ${(videos.frames / seconds).toFixed(1)} frames/s), ${p?.itemsFailed ?? 0} failed, in ${seconds.toFixed(1)} s, ${machine}`
          : `${p?.itemsDone ?? 0} ${type} processed, ${p?.itemsFailed ?? 0} failed, in ${seconds.toFixed(1)} s (${job.progress.itemsPerSecond.toFixed(1)}/s), ${machine}`;
        process.stdout.write(
          [
            `Job ${job.jobId} ${job.state}${job.error ? `: ${job.error}` : ""}`,
            `  ${counts}`,
            ...(exported ? [`  Results in ${output} (${humanBytes(exported.bytes)}): results.${job.options?.aggregationFormat ?? "jsonl"}, coco.json, labels/, errors.jsonl, manifest.json`] : []),
          ].join("\n") + "\n",
        );
        if (job.state !== "succeeded") throw new AppError("JOB_NOT_SUCCEEDED", `Job ${job.jobId} ended ${job.state}`, 1);
      } finally {
        await server.stop();
        if (!o.dataDir) rmSync(dataDir, { recursive: true, force: true });
      }
    });
}

/** Videos and frames processed, from an export's manifest (undefined when it cannot be read). */
function videoCounts(manifestPath: string): { videos: number; frames: number } | undefined {
  try {
    const videos = (JSON.parse(readFileSync(manifestPath, "utf8")).videos ?? []) as { frames_processed?: number }[];
    return { videos: videos.length, frames: videos.reduce((n, v) => n + (v.frames_processed ?? 0), 0) };
  } catch {
    return undefined;
  }
}
