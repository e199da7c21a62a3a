import type { CAC } from "cac";
import { writeFileSync } from "node:fs";
import { AppError } from "../../core/errors.ts";
import { formatSeconds, ProgressBar } from "../progress.ts";
import { limitOf, requireOption, usageError, type CliContext } from "../context.ts";
import { readJsonFile } from "../local-engine.ts";
import { printFields, printJson, printTable } from "../output.ts";
import type { ApiClient } from "../client.ts";

/** A job as `GET /api/v1/jobs/{id}` describes it (the fields the CLI prints). */
export interface JobView {
  jobId: string;
  name: string;
  type: string;
  state: string;
  currentStage: string | null;
  workflowId: string;
  batchId: string;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  outputBatches: { processing: string; export: string };
  progress: {
    stages: { stage: string; tasks: Record<string, number>; tasksTotal: number; itemsDone: number; itemsFailed: number; itemsTotal: number }[];
    itemsPerSecond: number;
    etaSeconds: number | null;
    machineSeconds: number;
    cost: number;
    provider?: string | null;
  };
  errorsByCause?: { code: string; count: number; example: string }[];
  options?: { aggregationFormat?: string };
}

/** Job options from flags, in the API's names; only the flags given are sent. */
export function jobOptions(o: Record<string, unknown>): Record<string, unknown> {
  const num = (k: string, flag: string) => {
    if (o[k] === undefined) return undefined;
    const n = Number(o[k]);
    if (!Number.isFinite(n)) throw usageError(`${flag} must be a number (got ${o[k]})`);
    return n;
  };
  const opts: Record<string, unknown> = {
    machineType: o.machineType,
    workersPerMachine: num("workersPerMachine", "--workers-per-machine"),
    maxRuntimeSeconds: num("maxRuntimeSeconds", "--max-runtime-seconds"),
    maxParallelTasks: num("maxParallelTasks", "--max-parallel-tasks"),
    maxImageFailureRate: num("maxImageFailureRate", "--max-image-failure-rate"),
    aggregationFormat: o.aggregationFormat,
    archiveFormat: o.archiveFormat,
    saveImageOutputs: o.saveImageOutputs ? true : undefined,
    imageOutputsToSave: o.imageOutputsToSave === undefined ? undefined : ([] as unknown[]).concat(o.imageOutputsToSave).map(String),
    workflowParams: o.workflowParams ? readJsonFile(String(o.workflowParams), "workflow parameters file") : undefined,
    imageInputName: o.imageInputName,
    notificationsUrl: o.notificationsUrl,
    chunkSize: num("chunkSize", "--chunk-size"),
    maxVideoFps: num("maxVideoFps", "--max-video-fps"),
    saveVideoOutputs: o.saveVideoOutputs ? true : undefined,
    videoSegmentSeconds: num("videoSegmentSeconds", "--video-segment-seconds"),
  };
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
}

type Command = ReturnType<CAC["command"]>;
export const withJobOptions = (c: Command) =>
  c
    .option("--machine-type <type>", "cpu, gpu or auto")
    .option("--workers-per-machine <n>", "Workers the job may use on each machine")
    .option("--max-runtime-seconds <s>", "Machine-seconds the job may use in all")
    .option("--max-parallel-tasks <n>", "Tasks of this job running at once")
    .option("--max-image-failure-rate <r>", "A task fails when more than this share of its images fail (0..1)")
    .option("--aggregation-format <f>", "jsonl or csv")
    .option("--archive-format <f>", "tar.gz or zip (export archives)")
    .option("--save-image-outputs", "Save the workflow's image outputs (visualisations, crops)")
    .option("--image-outputs-to-save <name>", "Only these image outputs (repeat the flag)")
    .option("--workflow-params <file>", "Workflow parameters as a JSON object")
    .option("--image-input-name <name>", "The workflow's image input to feed")
    .option("--notifications-url <url>", "POST job state changes here")
    .option("--chunk-size <n>", "Images per task (default 256)");

export function registerBatchProcessing(cli: CAC, ctx: CliContext): void {
  for (const type of ["images", "videos"] as const) {
    let c = withJobOptions(cli.command(`batch-processing process-${type}-with-workflow`, `Start a job running a workflow over a batch of ${type}`))
      .option("--workflow-id <id>", "Stored workflow", { type: [String] })
      .option("--batch-id <id>", `Batch of ${type}`, { type: [String] })
      .option("--job-id <id>", "Job id (default job-<random>)", { type: [String] })
      .option("--job-name <name>", "Display name")
      .option("--json", "Machine-readable output");
    if (type === "videos")
      c = c
        .option("--max-video-fps <f>", "Frames per second to process")
        .option("--save-video-outputs", "Write annotated videos")
        .option("--video-segment-seconds <s>", "Split videos longer than this into segments run as separate tasks (default 600)");
    c.action(async (o) => {
      const body = {
        type,
        workflowId: requireOption(o, "workflowId", "--workflow-id"),
        batchId: requireOption(o, "batchId", "--batch-id"),
        ...(o.jobId !== undefined ? { jobId: requireOption(o, "jobId", "--job-id") } : {}),
        ...(o.jobName ? { name: String(o.jobName) } : {}),
        options: jobOptions(o),
      };
      const job = await ctx.client(o).json<JobView>("POST", "api/v1/jobs", { json: body });
      if (o.json) return printJson(job);
      process.stdout.write(`Job ${job.jobId} started (${job.state}).\nOutput batches: ${job.outputBatches.processing} (processing), ${job.outputBatches.export} (export)\n`);
    });
  }

  cli
    .command("batch-processing list-jobs", "List jobs, newest first")
    .option("--limit <n>", "At most this many")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const jobs: JobView[] = [];
      for await (const j of ctx.client(o).pages<JobView>("api/v1/jobs", "jobs", {}, limitOf(o))) jobs.push(j);
      if (o.json) return printJson(jobs);
      printTable(jobs.map((j) => ({ ...j, stage: j.currentStage ?? "", progress: progressText(j), batch: j.batchId, created: j.createdAt })), ["jobId", "state", "stage", "progress", "workflowId", "batch", "created"]);
    });

  cli
    .command("batch-processing show-job-details", "Show a job: stages, tasks, progress, rate, ETA, machine time, cost, errors by cause")
    .option("--job-id <id>", "Job id", { type: [String] })
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const j = await getJob(ctx.client(o), requireOption(o, "jobId", "--job-id"));
      if (o.json) return printJson(j);
      printJob(j);
    });

  cli
    .command("batch-processing abort-job", "Abort a job (running tasks stop within seconds; finished results stay)")
    .option("--job-id <id>", "Job id", { type: [String] })
    .action(async (o) => {
      const j = await ctx.client(o).json<JobView>("POST", `api/v1/jobs/${requireOption(o, "jobId", "--job-id")}/abort`);
      process.stdout.write(`Job ${j.jobId} is ${j.state}\n`);
    });

  withJobOptions(cli.command("batch-processing restart-job", "Restart a failed or aborted job: only unfinished work is redone (options may be changed)"))
    .option("--job-id <id>", "Job id", { type: [String] })
    .action(async (o) => {
      const j = await ctx.client(o).json<JobView>("POST", `api/v1/jobs/${requireOption(o, "jobId", "--job-id")}/restart`, { json: { options: jobOptions(o) } });
      process.stdout.write(`Job ${j.jobId} is ${j.state}\n`);
    });

  cli
    .command("batch-processing fetch-logs", "Print a job's logs")
    .option("--job-id <id>", "Job id", { type: [String] })
    .option("--log-severity <level>", "info, warning or error (and above)")
    .option("--output-file <file>", "Write them to a file")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const id = requireOption(o, "jobId", "--job-id");
      const logs: { at: string; severity: string; taskId: string | null; message: string }[] = [];
      for await (const l of ctx.client(o).pages<(typeof logs)[number]>(`api/v1/jobs/${id}/logs`, "logs", { severity: o.logSeverity ? String(o.logSeverity) : undefined })) logs.push(l);
      const text = o.json ? JSON.stringify(logs, null, 2) + "\n" : logs.map((l) => `${l.at} ${l.severity.toUpperCase().padEnd(7)} ${l.taskId ? `[${l.taskId}] ` : ""}${l.message}`).join("\n") + (logs.length ? "\n" : "");
      if (o.outputFile) {
        writeFileSync(String(o.outputFile), text);
        process.stdout.write(`Wrote ${logs.length} log lines to ${o.outputFile}\n`);
      } else process.stdout.write(text);
    });

  cli
    .command("batch-processing watch", "Follow a job with a live progress bar until it ends (exit 0 on success, 1 otherwise)")
    .option("--job-id <id>", "Job id", { type: [String] })
    .option("--interval <s>", "Seconds between updates (default 1)")
    .action(async (o) => {
      const j = await watchJob(ctx.client(o), requireOption(o, "jobId", "--job-id"), Number(o.interval ?? 1));
      printJob(j);
      if (j.state !== "succeeded") throw new AppError("JOB_NOT_SUCCEEDED", `Job ${j.jobId} ended ${j.state}${j.error ? `: ${j.error}` : ""}`, 1);
    });
}

export const getJob = (client: ApiClient, id: string) => client.json<JobView>("GET", `api/v1/jobs/${encodeURIComponent(id)}`);

const FINAL = new Set(["succeeded", "failed", "aborted"]);

/** Polls the job until it ends, drawing a bar of images done over the processing stage (on a terminal). */
export async function watchJob(client: ApiClient, id: string, intervalS: number): Promise<JobView> {
  let job = await getJob(client, id);
  const bar = new ProgressBar(`Job ${id}`, 0);
  let shown = 0;
  while (!FINAL.has(job.state)) {
    const p = job.progress.stages.find((s) => s.stage === "processing");
    if (p) {
      bar.setTotal(p.itemsTotal);
      const done = p.itemsDone + p.itemsFailed;
      if (done > shown) bar.tick(done - shown);
      shown = done;
    }
    await Bun.sleep(Math.max(100, intervalS * 1000));
    job = await getJob(client, id);
  }
  bar.finish();
  return job;
}

function progressText(j: JobView): string {
  const p = j.progress.stages.find((s) => s.stage === "processing");
  if (!p) return "";
  return `${p.itemsDone + p.itemsFailed}/${p.itemsTotal}`;
}

function printJob(j: JobView): void {
  const p = j.progress;
  printFields([
    ["Job", `${j.jobId}${j.name && j.name !== j.jobId ? ` (${j.name})` : ""}`],
    ["State", `${j.state}${j.currentStage ? `, stage ${j.currentStage}` : ""}${j.error ? ` — ${j.error}` : ""}`],
    ["Workflow", j.workflowId],
    ["Input batch", `${j.batchId} (${j.type})`],
    ["Output batches", `${j.outputBatches.processing}, ${j.outputBatches.export}`],
    ...p.stages.map((s): [string, unknown] => [
      `Stage ${s.stage}`,
      `tasks ${Object.entries(s.tasks).map(([k, v]) => `${k} ${v}`).join(", ")} of ${s.tasksTotal}; items ${s.itemsDone} done, ${s.itemsFailed} failed of ${s.itemsTotal}`,
    ]),
    ["Rate", `${p.itemsPerSecond.toFixed(1)} images/s${p.etaSeconds !== null ? `, ETA ${formatSeconds(p.etaSeconds)}` : ""}`],
    ["Machine time", `${p.machineSeconds.toFixed(1)} s, cost ${p.cost.toFixed(4)} credits${p.provider ? ` (${p.provider})` : ""}`],
    ["Created", j.createdAt],
    ["Finished", j.finishedAt ?? "—"],
  ]);
  for (const e of j.errorsByCause ?? []) process.stdout.write(`  ${e.count} x ${e.code}: ${e.example}\n`);
}
