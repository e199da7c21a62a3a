import { Elysia, t } from "elysia";
import type { Scheduler } from "../../scheduler/scheduler.ts";
import type { JobOptions } from "../../scheduler/types.ts";
import type { ServerContext } from "../context.ts";
import { docResponses, ERROR_RESPONSES, ErrorResponse } from "../errors.ts";
import { JobService } from "./service.ts";

const tags = ["jobs"];
const JobIdParams = t.Object({ jobId: t.String() });
const Options = t.Optional(t.Record(t.String(), t.Unknown(), { description: "job options (machineType, maxRuntimeSeconds, aggregationFormat, saveImageOutputs, workflowParams, notificationsUrl, …)" }));
const CreateBody = t.Object({
  jobId: t.Optional(t.String({ description: "1-20 lower-case letters, digits, '-' or '_' (default job-<random>)" })),
  name: t.Optional(t.String({ maxLength: 200 })),
  type: t.Optional(t.Union([t.Literal("images"), t.Literal("videos")])),
  workflowId: t.String(),
  batchId: t.String(),
  options: Options,
});
const Job = t.Object({}, { additionalProperties: true, description: "a job: state, stages, progress, rate, ETA, machine time, cost, errors by cause" });

/** `/api/v1/jobs`: start, list, inspect, abort and restart jobs, and read their logs. */
export function jobRoutes(ctx: ServerContext, scheduler: Scheduler, provider: () => string | null) {
  const service = new JobService(ctx, scheduler, provider);
  return new Elysia({ prefix: "/api/v1/jobs" })
    .post("", async ({ body, set }) => {
      set.status = 201;
      return service.create(body as never);
    }, { body: CreateBody, detail: { tags, summary: "Start a job: a stored workflow over an input batch", responses: docResponses({ 201: Job, 409: ErrorResponse, ...ERROR_RESPONSES }) } })

    .get("", ({ query }) => {
      const page = service.list(query);
      return { jobs: page.items, ...(page.next ? { nextPageToken: page.next } : {}) };
    }, { query: t.Object({ pageSize: t.Optional(t.Numeric()), pageToken: t.Optional(t.String()) }), detail: { tags, summary: "List jobs, newest first" } })

    .get("/:jobId", ({ params }) => service.view(params.jobId), { params: JobIdParams, detail: { tags, summary: "A job with its stages, tasks by state, progress, rate, ETA, machine time, cost and errors by cause", responses: docResponses({ 200: Job, ...ERROR_RESPONSES }) } })

    .get("/:jobId/logs", ({ params, query }) => service.logs(params.jobId, query), {
      params: JobIdParams,
      query: t.Object({ severity: t.Optional(t.String()), pageSize: t.Optional(t.Numeric()), pageToken: t.Optional(t.String()) }),
      detail: { tags, summary: "The job's log, oldest first (severity: info, warning, error)" },
    })

    .post("/:jobId/abort", ({ params }) => service.abort(params.jobId), { params: JobIdParams, detail: { tags, summary: "Abort: running tasks stop within seconds; finished results stay" } })

    .post("/:jobId/restart", ({ params, body }) => service.restart(params.jobId, (body?.options ?? {}) as Partial<JobOptions>), {
      params: JobIdParams,
      body: t.Optional(t.Object({ options: Options })),
      detail: { tags, summary: "Restart a failed or aborted job: only unfinished work is redone; options may be overridden" },
    });
}
