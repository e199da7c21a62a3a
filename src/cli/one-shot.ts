import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { compileDefinition } from "../engine/engine.ts";
import { chainResolvers } from "../engine/models/resolvers.ts";
import type { ModelResolver } from "../engine/models/types.ts";
import type { RunningServer } from "../server/main.ts";
import { serverModelResolver } from "../server/models/resolver.ts";
import { ModelService } from "../server/models/service.ts";
import { WorkflowService } from "../server/workflows/service.ts";
import { ApiClient } from "./client.ts";
import { watchJob, type JobView } from "./commands/batch-processing.ts";
import { exportBatch, type ExportReport } from "./staging/export.ts";
import { ensureBatch, scanMediaFiles, uploadFiles } from "./staging/upload.ts";

export interface OneShot {
  server: RunningServer;
  definition: unknown;
  /** Where model ids not yet in the server's registry are found (a models folder). */
  models?: ModelResolver;
  inputDir: string;
  /** Only these files of the folder (a single input file); all media files when absent. */
  only?: string[];
  recursive?: boolean;
  type: "images" | "videos";
  batchId: string;
  workflowId: string;
  jobId: string;
  options: Record<string, unknown>;
  outputDir: string;
}

export interface OneShotResult {
  job: JobView;
  exported: ExportReport | undefined;
}

/**
 * A whole job through a server's own API and workers: register the workflow's models (from a models
 * folder) and the workflow, stage the input folder, start the job, follow it, export its results. Used by
 * `vbatch run` (a server just for this) and `vbatch demo` (the server that goes on serving).
 */
export async function runOneShot(p: OneShot): Promise<OneShotResult> {
  const { ctx } = p.server;
  if (p.models) await registerModels(p, p.models);
  await new WorkflowService(ctx).add(p.workflowId, p.definition, true);
  const client = new ApiClient(p.server.url, ctx.config.apiKey);
  await ensureBatch(client, p.batchId, p.type);
  const files = scanMediaFiles(p.inputDir, p.type, !!p.recursive).filter((f) => !p.only || p.only.includes(f.name));
  await uploadFiles(client, files, { batchId: p.batchId, overwrite: true });
  await client.json("POST", "api/v1/jobs", { json: { jobId: p.jobId, type: p.type, workflowId: p.workflowId, batchId: p.batchId, options: p.options } });
  const job = await watchJob(client, p.jobId, 0.25);
  const exported = job.state === "succeeded" ? await exportBatch(client, { batchId: job.outputBatches.export, targetDir: p.outputDir, overrideExisting: true }) : undefined;
  return { job, exported };
}

/** Copies into the registry the models the workflow names that the registry does not have yet. */
async function registerModels(p: OneShot, models: ModelResolver): Promise<void> {
  const { ctx } = p.server;
  const compiled = await compileDefinition(p.definition, chainResolvers(serverModelResolver(ctx), models));
  const service = new ModelService(ctx);
  for (const id of compiled.modelIds) {
    if (ctx.store.getModel(id)) continue;
    const found = await models.resolve(id);
    if (!found) continue;
    const temp = join(ctx.staging.tmpDir, `model-${crypto.randomUUID()}.onnx`);
    copyFileSync(found.path, temp);
    await service.add({ modelId: id, overwrite: true, tempPath: temp, classes: found.info.classNames.join("\n"), family: found.info.family, task: found.info.task });
  }
}
