import type { CAC } from "cac";
import { compileDefinition } from "../../engine/engine.ts";
import type { WorkflowIssue } from "../../engine/workflow/types.ts";
import type { WorkflowSummary } from "../../server/workflows/service.ts";
import { requireOption, type CliContext } from "../context.ts";
import { localModels, readJsonFile } from "../local-engine.ts";
import { printFields, printJson, printTable } from "../output.ts";

type WorkflowView = WorkflowSummary & { warnings?: WorkflowIssue[]; definition?: unknown };

/** `vbatch workflows …` (also answered as `vbatch rf-cloud workflows …`). */
export function registerWorkflows(cli: CAC, ctx: CliContext): void {
  cli
    .command("workflows add", "Store a workflow definition (checked against the registered models first)")
    .option("--workflow-id <id>", "Workflow id: 1-100 lower-case letters, digits, '-', '_' or '.'", { type: [String] })
    .option("--file <wf.json>", "The workflow definition")
    .option("--overwrite", "Replace a workflow of the same id")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const workflowId = requireOption(o, "workflowId", "--workflow-id");
      const definition = readJsonFile(requireOption(o, "file", "--file"), "workflow file");
      const w = await ctx.client(o).json<WorkflowView>("POST", "api/v1/workflows", { json: { workflowId, definition, overwrite: !!o.overwrite } });
      if (o.json) return printJson(w);
      process.stdout.write(`Added workflow ${w.workflowId}: ${w.steps} steps, outputs ${w.outputs.join(", ")}; models ${w.modelIds.join(", ") || "none"}\n`);
      printWarnings(w.warnings ?? []);
    });

  cli
    .command("workflows list", "List stored workflows")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const items: WorkflowView[] = [];
      for await (const w of ctx.client(o).pages<WorkflowView>("api/v1/workflows", "workflows")) items.push(w);
      if (o.json) return printJson(items);
      printTable(items.map((w) => ({ ...w, outputs: w.outputs.join(","), models: w.modelIds.join(",") })), ["workflowId", "steps", "outputs", "models", "updatedAt"]);
    });

  cli
    .command("workflows show", "Show a stored workflow and its definition")
    .option("--workflow-id <id>", "Workflow id", { type: [String] })
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const id = requireOption(o, "workflowId", "--workflow-id");
      const w = await ctx.client(o).json<WorkflowView>("GET", `api/v1/workflows/${encodeURIComponent(id)}`);
      if (o.json) return printJson(w);
      printFields([["Workflow", w.workflowId], ["Steps", w.steps], ["Outputs", w.outputs.join(", ")], ["Models", w.modelIds.join(", ") || "none"], ["Created", w.createdAt], ["Updated", w.updatedAt]]);
      process.stdout.write(`${JSON.stringify(w.definition, null, 2)}\n`);
    });

  cli
    .command("workflows validate", "Check a definition: --file locally (models from --models-dir / --data-dir), or --workflow-id on the server")
    .option("--file <wf.json>", "A workflow definition file (checked here, no server needed)")
    .option("--workflow-id <id>", "A stored workflow (checked by the server)", { type: [String] })
    .option("--models-dir <dir>", "Folder of models: <id>.onnx, <id>.txt class names, optional <id>.json")
    .option("--data-dir <dir>", "Data dir whose model registry resolves model ids (default ./vbatch-data)")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      let result: { valid: boolean; steps: number; outputs: string[]; modelIds: string[]; warnings: WorkflowIssue[] };
      if (o.file) {
        const definition = readJsonFile(String(o.file), "workflow file");
        const models = localModels({ modelsDir: o.modelsDir, dataDir: ctx.config(o).dataDir });
        try {
          const compiled = await compileDefinition(definition, models.resolver);
          result = { valid: true, steps: compiled.steps.length, outputs: compiled.outputs.map((x) => x.name), modelIds: compiled.modelIds, warnings: compiled.warnings };
        } finally {
          models.close();
        }
      } else {
        const id = requireOption(o, "workflowId", "--file or --workflow-id");
        const stored = await ctx.client(o).json<{ definition: unknown }>("GET", `api/v1/workflows/${encodeURIComponent(id)}`);
        result = await ctx.client(o).json("POST", "api/v1/workflows/validate", { json: { definition: stored.definition } });
      }
      if (o.json) return printJson(result);
      process.stdout.write(`Valid: ${result.steps} steps, outputs ${result.outputs.join(", ")}; models ${result.modelIds.join(", ") || "none"}\n`);
      printWarnings(result.warnings);
    });

  cli
    .command("workflows delete", "Delete a stored workflow")
    .option("--workflow-id <id>", "Workflow id", { type: [String] })
    .action(async (o) => {
      const id = requireOption(o, "workflowId", "--workflow-id");
      await ctx.client(o).json("DELETE", `api/v1/workflows/${encodeURIComponent(id)}`);
      process.stdout.write(`Deleted workflow ${id}\n`);
    });
}

function printWarnings(warnings: WorkflowIssue[]): void {
  for (const w of warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
}
