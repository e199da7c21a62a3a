import { randomUUID } from "node:crypto";
import { AppError, isAppError } from "../../core/errors.ts";
import { CONTINUE, type BlockContext, type StepInputs, type StepOutputs } from "../blocks/types.ts";
import type { WorkflowImage } from "../image/workflow-image.ts";
import type { ModelRuntime } from "../models/runtime.ts";
import type { ModelResolver, ResolvedModel } from "../models/types.ts";
import { getAt, pathsAt, setAt, type IndexPath, type Nested } from "./nested.ts";
import type { Selector } from "./selectors.ts";
import { checkStatic } from "./static-values.ts";
import type { BoundValue, CompiledStep, CompiledWorkflow } from "./types.ts";
import { frameMetadataOf } from "../video/frame.ts";

/** What running a workflow needs from its worker: the model runtime, model lookup, and the OCR engine. */
export interface ExecContext {
  runtime: ModelRuntime;
  models: ModelResolver;
  ocr: BlockContext["ocr"];
  /** State of stateful steps per video: `video_identifier` → step name → state. */
  videoStates?: Map<string, Map<string, unknown>>;
}

/**
 * Merges run-time parameters over the definition's defaults and checks each against every step field it
 * feeds (a confidence must be a number in range, ...). Call once per job, not per image.
 */
export function resolveParameters(wf: CompiledWorkflow, given: Record<string, unknown> = {}): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const name of Object.keys(given))
    if (!(name in wf.parameters) && name !== wf.imageInput)
      throw new AppError("INVALID_PARAMETERS", `Unknown workflow parameter '${name}'; the workflow declares: ${Object.keys(wf.parameters).join(", ") || "none"}`, 400, { parameter: name });
  for (const p of Object.values(wf.parameters)) values[p.name] = given[p.name] !== undefined ? given[p.name] : p.defaultValue;
  for (const step of wf.steps)
    for (const input of step.inputs) {
      const v = input.value;
      if (v.type !== "selector" || v.selector.source !== "input" || v.selector.name === wf.imageInput) continue;
      const value = values[v.selector.name];
      const problem = value === null || value === undefined ? undefined : checkStatic(value, input.spec.static === "none" ? { ...input.spec, static: "any" } : input.spec);
      if (problem)
        throw new AppError("INVALID_PARAMETERS", `Workflow parameter '${v.selector.name}' (used by ${input.path}): ${problem}`, 400, {
          parameter: v.selector.name,
          path: input.path,
        });
    }
  return values;
}

/** Runs the workflow on one image. Returns each output's value (nested lists for crop-level outputs). */
export async function runWorkflow(wf: CompiledWorkflow, image: WorkflowImage, params: Record<string, unknown>, ctx: ExecContext): Promise<Record<string, Nested>> {
  // A `WorkflowVideoMetadata` input left unset is the frame's own metadata.
  const frame = frameMetadataOf(image);
  const withFrame = { ...params };
  for (const p of Object.values(wf.parameters)) if (p.kinds?.includes("video_metadata") && withFrame[p.name] == null) withFrame[p.name] = frame;
  const run = new WorkflowRun(wf, image, withFrame, ctx);
  for (const step of wf.steps) await run.step(step);
  const outputs: Record<string, Nested> = {};
  for (const out of wf.outputs) outputs[out.name] = run.read(out.selector, out.depth);
  return outputs;
}

class WorkflowRun {
  private readonly values = new Map<string, Record<string, Nested>>();
  /** Decisions of flow-control steps, nested at their level. */
  private readonly decisions = new Map<string, { depth: number; value: Nested }>();
  private readonly models = new Map<string, Promise<ResolvedModel>>();

  constructor(
    private readonly wf: CompiledWorkflow,
    private readonly image: WorkflowImage,
    private readonly params: Record<string, unknown>,
    private readonly ctx: ExecContext,
  ) {}

  async step(step: CompiledStep): Promise<void> {
    const paths = this.indexPaths(step);
    const runnable: { path: IndexPath; inputs: StepInputs }[] = [];
    for (const path of paths) {
      if (!this.allowed(step, path)) continue;
      const inputs = this.inputsAt(step, path);
      if (inputs) runnable.push({ path, inputs });
    }
    const blockCtx = this.blockContext(step);
    let results: StepOutputs[];
    try {
      results = step.block.manifest.batched && step.block.runBatch
        ? runnable.length ? await step.block.runBatch(runnable.map((r) => r.inputs), blockCtx) : []
        : await Promise.all(runnable.map((r) => step.block.run(r.inputs, blockCtx)));
    } catch (e) {
      throw stepError(step, e);
    }
    const stored: Record<string, Nested> = {};
    const keys = [...Object.keys(step.block.manifest.outputs), ...(step.block.manifest.flowControl ? [CONTINUE] : [])];
    for (const output of keys) {
      if (step.depth === 0) {
        stored[output] = results[0]?.[output];
        continue;
      }
      const nested: unknown[] = [];
      runnable.forEach((r, i) => setAt(nested, r.path, results[i]![output]));
      stored[output] = nested;
    }
    this.values.set(step.name, stored);
    if (step.block.manifest.flowControl) this.decisions.set(step.name, { depth: step.depth, value: stored[CONTINUE] });
  }

  /** False where a flow-control step gating this one said stop (or did not run there). */
  private allowed(step: CompiledStep, path: IndexPath): boolean {
    return step.gatedBy.every((name) => {
      const d = this.decisions.get(name);
      return d !== undefined && getAt(d.value, path.slice(0, d.depth)) === true;
    });
  }

  /** The value a selector points at, as a whole (nested to `depth`). */
  read(selector: Selector, depth: number): Nested {
    if (selector.source === "input") return selector.name === this.wf.imageInput ? this.image : this.params[selector.name];
    const outputs = this.values.get(selector.step) ?? {};
    if (selector.output !== "*") return outputs[selector.output];
    return depth === 0 ? { ...outputs } : zipOutputs(outputs, depth);
  }

  /** Where the step runs: every index of the input that sets its level (one run per image at level 0). */
  private indexPaths(step: CompiledStep): IndexPath[] {
    if (step.depth === 0) return [[]];
    const dim = step.block.manifest.dimensionality;
    const ref = step.inputs.find((i) =>
      dim?.offset === -1 ? i.name === dim.collapses : i.value.type === "selector" && i.value.depth === step.depth,
    );
    if (!ref || ref.value.type !== "selector") return [];
    return pathsAt(this.read(ref.value.selector, ref.value.depth), step.depth);
  }

  /** The step's inputs at one index; undefined when a data input has nothing there (the step is skipped). */
  private inputsAt(step: CompiledStep, path: IndexPath): StepInputs | undefined {
    const inputs: StepInputs = {};
    const dim = step.block.manifest.dimensionality;
    for (const input of step.inputs) {
      let value = this.evaluate(input.value, path);
      // A collapsing step given per-image data (no deeper level) gets the one image's value as a list.
      if (dim?.offset === -1 && input.name === dim.collapses && input.value.type === "selector" && input.value.depth === step.depth) value = [value];
      if (input.spec.batch && (value === undefined || value === null)) return undefined;
      inputs[input.name] = value;
    }
    return inputs;
  }

  private evaluate(bound: BoundValue, path: IndexPath): unknown {
    switch (bound.type) {
      case "static":
        return bound.value;
      case "list":
        return bound.items.map((item) => this.evaluate(item, path));
      case "dict":
        return Object.fromEntries(Object.entries(bound.entries).map(([k, v]) => [k, this.evaluate(v, path)]));
      case "selector":
        return getAt(this.read(bound.selector, bound.depth), path.slice(0, bound.depth));
    }
  }

  private blockContext(step: CompiledStep): BlockContext {
    return {
      runtime: this.ctx.runtime,
      ocr: this.ctx.ocr,
      newId: randomUUID,
      step: step.name,
      frame: () => frameMetadataOf(this.image),
      videoState: <T>(create: () => T): T => {
        const states = this.ctx.videoStates ?? (this.ctx.videoStates = new Map());
        const video = frameMetadataOf(this.image).video_identifier;
        let byStep = states.get(video);
        if (!byStep) states.set(video, (byStep = new Map()));
        if (!byStep.has(step.name)) byStep.set(step.name, create());
        return byStep.get(step.name) as T;
      },
      model: (modelId: string) => {
        let m = this.models.get(modelId);
        if (!m) {
          m = this.ctx.models.resolve(modelId).then((found) => {
            if (!found) throw new AppError("MODEL_NOT_FOUND", `Model '${modelId}' was not found (looked in ${this.ctx.models.describe()})`, 404, { modelId });
            return found;
          });
          this.models.set(modelId, m);
        }
        return m;
      },
    };
  }
}

/** `$steps.s.*` at depth > 0: one dictionary of all outputs per index. */
function zipOutputs(outputs: Record<string, Nested>, depth: number): Nested {
  const first = Object.values(outputs)[0];
  const zipped: unknown[] = [];
  for (const path of pathsAt(first, depth)) {
    const dict: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(outputs)) dict[k] = getAt(v, path);
    setAt(zipped, path, dict);
  }
  return zipped;
}

function stepError(step: CompiledStep, e: unknown): AppError {
  const cause = isAppError(e) ? e : undefined;
  const message = e instanceof Error ? e.message : String(e);
  return new AppError(cause?.code ?? "STEP_FAILED", `Step '${step.name}' (${step.type}) failed: ${message}`, cause?.status ?? 500, {
    ...cause?.details,
    step: step.name,
  });
}
