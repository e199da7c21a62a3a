import { AppError, notFound } from "../../core/errors.ts";
import { assertWorkflowId } from "../../core/ids.ts";
import { compileDefinition } from "../../engine/engine.ts";
import type { CompiledWorkflow } from "../../engine/workflow/types.ts";
import type { WorkflowRecord } from "../../storage/store.ts";
import { pageSize } from "../paging.ts";
import type { ServerContext } from "../context.ts";
import { serverModelResolver } from "../models/resolver.ts";

export interface WorkflowSummary {
  workflowId: string;
  createdAt: string;
  updatedAt: string;
  steps: number;
  outputs: string[];
  modelIds: string[];
}

/** Stored workflows: each definition is compiled against the registry before it is kept. */
export class WorkflowService {
  constructor(private readonly ctx: ServerContext) {}

  /** Compiles a definition against the registered models; throws WORKFLOW_INVALID with JSON paths. */
  validate(definition: unknown): Promise<CompiledWorkflow> {
    return compileDefinition(definition, serverModelResolver(this.ctx));
  }

  async add(workflowId: unknown, definition: unknown, overwrite = false) {
    const id = assertWorkflowId(workflowId);
    if (!overwrite && this.ctx.store.getWorkflow(id)) throw exists(id);
    const compiled = await this.validate(definition);
    const now = this.ctx.clock.now();
    this.ctx.store.putWorkflow({ workflowId: id, definitionJson: JSON.stringify(definition), createdAtMs: now, updatedAtMs: now }, overwrite);
    return { ...this.summary(this.get(id), compiled), warnings: compiled.warnings };
  }

  get(workflowId: string): WorkflowRecord {
    const id = assertWorkflowId(workflowId);
    const record = this.ctx.store.getWorkflow(id);
    if (!record) throw notFound("Workflow", id, "WORKFLOW_NOT_FOUND");
    return record;
  }

  /** The stored definition as it was given. */
  definition(workflowId: string): unknown {
    return JSON.parse(this.get(workflowId).definitionJson);
  }

  list(opts: { pageSize?: number; pageToken?: string }) {
    const page = this.ctx.store.listWorkflows({ pageSize: pageSize(opts.pageSize, 100), cursor: opts.pageToken });
    return { items: page.items.map((r) => this.summary(r)), next: page.next };
  }

  delete(workflowId: string): void {
    const record = this.get(workflowId);
    this.ctx.store.deleteWorkflow(record.workflowId);
  }

  /** Facts read from the definition itself (no compile: models may have gone since it was stored). */
  summary(r: WorkflowRecord, compiled?: CompiledWorkflow): WorkflowSummary {
    const def = JSON.parse(r.definitionJson) as { steps?: { model_id?: unknown }[]; outputs?: { name?: unknown }[] };
    return {
      workflowId: r.workflowId,
      createdAt: new Date(r.createdAtMs).toISOString(),
      updatedAt: new Date(r.updatedAtMs).toISOString(),
      steps: def.steps?.length ?? 0,
      outputs: (def.outputs ?? []).map((o) => String(o.name)),
      modelIds: compiled?.modelIds ?? [...new Set((def.steps ?? []).map((s) => s.model_id).filter((m): m is string => typeof m === "string" && !m.startsWith("$")))],
    };
  }
}

const exists = (id: string) => new AppError("WORKFLOW_EXISTS", `Workflow '${id}' already exists; add it with overwrite to replace it`, 409, { workflowId: id });
