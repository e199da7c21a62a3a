import { resolveFfmpeg } from "../../engine/ffmpeg.ts";
import { probeDuration } from "../../engine/video/probe.ts";
import { INPUT_PART } from "../../storage/batches.ts";
import { AppError } from "../../core/errors.ts";
import { assertWorkflowId } from "../../core/ids.ts";
import type { ResolvedModel } from "../../engine/models/types.ts";
import { parseSelector } from "../../engine/workflow/selectors.ts";
import type { CompiledWorkflow } from "../../engine/workflow/types.ts";
import type { JobDetails } from "../../scheduler/progress.ts";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import type { JobOptions, JobRecord } from "../../scheduler/types.ts";
import type { LogSeverity } from "../../storage/store.ts";
import type { ServerContext } from "../context.ts";
import { serverModelResolver } from "../models/resolver.ts";
import { pageSize } from "../paging.ts";
import { WorkflowService } from "../workflows/service.ts";

export interface CreateJobBody {
  jobId?: string;
  name?: string;
  type?: "images" | "videos";
  workflowId: string;
  batchId: string;
  options?: Partial<JobOptions>;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** Batch jobs as the API sees them: checks what the scheduler cannot (workflow, models) and shapes views. */
export class JobService {
  private readonly workflows: WorkflowService;

  constructor(
    private readonly ctx: ServerContext,
    private readonly scheduler: Scheduler,
    private readonly provider: () => string | null,
  ) {
    this.workflows = new WorkflowService(ctx);
  }

  /**
   * The workflow is compiled against the registry now and the job keeps the definition and the resolved
   * models, so a job runs what it was started with even if the stored workflow or models change.
   */
  async create(body: CreateJobBody) {
    const workflowId = assertWorkflowId(body.workflowId);
    const definition = this.workflows.definition(workflowId);
    const compiled = await this.workflows.validate(definition);
    const options = body.options ?? {};
    if (options.imageInputName && options.imageInputName !== compiled.imageInput)
      throw new AppError("VALIDATION_FAILED", `Workflow '${workflowId}' has no image input '${options.imageInputName}'; its image input is '${compiled.imageInput}'`, 400, { field: "imageInputName" });
    const models = await this.resolveModels(compiled, options.workflowParams ?? {});
    const type = body.type ?? "images";
    const videoDurations = type === "videos" && options.videoSegmentSeconds !== null ? await this.videoDurations(body.batchId) : undefined;
    const job = this.scheduler.createJob({
      ...(body.jobId !== undefined ? { jobId: body.jobId } : {}),
      ...(body.name ? { name: body.name } : {}),
      workflowId,
      workflowJson: JSON.stringify(definition),
      modelsJson: JSON.stringify(models),
      inputBatchId: body.batchId,
      type,
      options,
      ...(videoDurations ? { videoDurations } : {}),
    });
    return this.view(job.jobId);
  }

  /**
   * The durations of a video batch's files, read from their headers (8 at a time), so that long videos can
   * be split into segments. A file ffmpeg cannot read gets no duration: its task reports why.
   */
  private async videoDurations(batchId: string): Promise<Record<string, number> | undefined> {
    const batch = this.ctx.store.getBatch(batchId);
    if (!batch || batch.type !== "videos") return undefined;
    const ffmpeg = (await resolveFfmpeg(this.ctx.config.ffmpegPath)).path;
    if (!ffmpeg) return undefined;
    const names = this.ctx.store.listBatchFileNames(batchId, INPUT_PART);
    const durations: Record<string, number> = {};
    let next = 0;
    const worker = async () => {
      while (next < names.length) {
        const name = names[next++]!;
        const seconds = await probeDuration(ffmpeg, this.ctx.staging.filePath(batch, INPUT_PART, name));
        if (seconds > 0) durations[name] = seconds;
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    return durations;
  }

  /** The models of the workflow: its static model ids and those given as run-time parameters. */
  private async resolveModels(wf: CompiledWorkflow, params: Record<string, unknown>): Promise<Record<string, ResolvedModel>> {
    const ids = new Set(wf.modelIds);
    for (const step of wf.steps)
      for (const input of step.inputs) {
        if (!input.spec.model || input.value.type !== "selector") continue;
        const s = input.value.selector;
        const value = s.source === "input" ? (params[s.name] ?? wf.parameters[s.name]?.defaultValue) : undefined;
        if (typeof value === "string" && !parseSelector(value)) ids.add(value);
      }
    const resolver = serverModelResolver(this.ctx);
    const models: Record<string, ResolvedModel> = {};
    for (const id of ids) {
      const found = await resolver.resolve(id);
      if (!found) throw new AppError("MODEL_NOT_FOUND", `Model '${id}' was not found (${resolver.describe()})`, 404, { modelId: id });
      models[id] = found;
    }
    return models;
  }

  view(jobId: string) {
    return jobView(this.scheduler.details(jobId), this.provider());
  }

  list(opts: { pageSize?: number; pageToken?: string }) {
    const page = this.scheduler.listJobs({ pageSize: pageSize(opts.pageSize, 50), cursor: opts.pageToken });
    return { items: page.items.map((j) => this.view(j.jobId)), next: page.next };
  }

  abort(jobId: string) {
    this.scheduler.abort(jobId);
    return this.view(jobId);
  }

  restart(jobId: string, overrides?: Partial<JobOptions>) {
    this.scheduler.restart(jobId, overrides);
    return this.view(jobId);
  }

  logs(jobId: string, opts: { severity?: string; pageSize?: number; pageToken?: string }) {
    const severity = (opts.severity === "warning" ? "warn" : opts.severity ?? "info") as LogSeverity;
    if (!["debug", "info", "warn", "error"].includes(severity))
      throw new AppError("VALIDATION_FAILED", `Invalid severity ${JSON.stringify(opts.severity)}: use info, warning or error`, 400, { field: "severity" });
    const page = this.scheduler.logs(jobId, severity, { pageSize: pageSize(opts.pageSize, 1000), cursor: opts.pageToken });
    return {
      logs: page.items.map((l) => ({ at: iso(l.atMs), severity: l.severity === "warn" ? "warning" : l.severity, taskId: l.taskId, message: l.message })),
      ...(page.next ? { nextPageToken: page.next } : {}),
    };
  }
}

export function jobView(d: JobDetails, provider: string | null) {
  const j: JobRecord = d.job;
  return {
    jobId: j.jobId,
    name: j.name,
    type: j.type,
    state: j.state,
    currentStage: j.currentStage,
    workflowId: j.workflowId,
    batchId: j.inputBatchId,
    error: j.error,
    createdAt: iso(j.createdAtMs),
    startedAt: iso(j.startedAtMs),
    finishedAt: iso(j.finishedAtMs),
    outputBatches: d.outputBatches,
    options: j.options,
    progress: {
      stages: d.stages,
      itemsPerSecond: d.itemsPerSecond,
      etaSeconds: d.etaSeconds,
      machineSeconds: d.machineSeconds,
      cost: d.cost,
      provider,
    },
    errorsByCause: d.errorsByCause.map((c) => ({ code: c.code, count: c.count, example: `${c.example.item}: ${c.example.message}` })),
    taskErrors: d.taskErrors,
  };
}
