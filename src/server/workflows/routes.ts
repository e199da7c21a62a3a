import { Elysia } from "elysia";
import type { ServerContext } from "../context.ts";
import { docResponses, ERROR_RESPONSES, ErrorResponse } from "../errors.ts";
import * as S from "./schema.ts";
import { WorkflowService } from "./service.ts";

const tags = ["workflows"];

export function workflowRoutes(ctx: ServerContext) {
  const service = new WorkflowService(ctx);
  return new Elysia({ prefix: "/api/v1/workflows" })
    .post("", async ({ body, set }) => {
      set.status = 201;
      return service.add(body.workflowId, body.definition, body.overwrite ?? false);
    }, { body: S.AddWorkflowBody, detail: { tags, summary: "Store a workflow (validated against the registered models first)", responses: docResponses({ 201: S.AddedWorkflow, 409: ErrorResponse, ...ERROR_RESPONSES }) } })

    .post("/validate", async ({ body }) => {
      const compiled = await service.validate(body.definition);
      return { valid: true, steps: compiled.steps.length, outputs: compiled.outputs.map((o) => o.name), modelIds: compiled.modelIds, warnings: compiled.warnings };
    }, { body: S.ValidateBody, detail: { tags, summary: "Check a workflow definition; errors carry the JSON path of each fault", responses: docResponses({ 200: S.ValidationResult, ...ERROR_RESPONSES }) } })

    .get("", ({ query }) => {
      const page = service.list(query);
      return { workflows: page.items, ...(page.next ? { nextPageToken: page.next } : {}) };
    }, { query: S.ListQuery, detail: { tags, summary: "List stored workflows", responses: docResponses({ 200: S.WorkflowList, ...ERROR_RESPONSES }) } })

    .get("/:workflowId", ({ params }) => {
      const record = service.get(params.workflowId);
      return { ...service.summary(record), definition: JSON.parse(record.definitionJson) };
    }, { params: S.WorkflowIdParams, detail: { tags, summary: "A stored workflow with its definition", responses: docResponses({ 200: S.WorkflowWithDefinition, ...ERROR_RESPONSES }) } })

    .delete("/:workflowId", ({ params }) => {
      service.delete(params.workflowId);
      return { deleted: params.workflowId };
    }, { params: S.WorkflowIdParams, detail: { tags, summary: "Delete a stored workflow" } });
}
