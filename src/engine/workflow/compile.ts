import { AppError } from "../../core/errors.ts";
import type { Block, Kind } from "../blocks/types.ts";
import type { ModelInfo } from "../models/types.ts";
import { bindStep, type StepScope } from "./bind.ts";
import { parseSelector } from "./selectors.ts";
import type { CompiledOutput, CompiledParameter, CompiledStep, CompiledWorkflow, WorkflowIssue } from "./types.ts";

export interface CompileOptions {
  blocks: readonly Block[];
  /** Looks a model id up; undefined when unknown. Without it, model ids are not checked. */
  resolveModel?: (modelId: string) => Promise<ModelInfo | undefined>;
  /** Where models were looked for, for the "missing model" message. */
  modelSource?: string;
}

const IMAGE_INPUTS = new Set(["WorkflowImage", "InferenceImage"]);
const PARAMETER_INPUTS = new Set(["WorkflowParameter", "InferenceParameter"]);
const MAX_STEPS = 500;

/**
 * Checks a workflow definition (the reference's JSON format) and compiles it. Every fault is reported
 * with the JSON path where it is, all at once: AppError WORKFLOW_INVALID with `details.errors`.
 */
export async function compileWorkflow(definition: unknown, opts: CompileOptions): Promise<CompiledWorkflow> {
  const errors: WorkflowIssue[] = [];
  const warnings: WorkflowIssue[] = [];
  const fail = (path: string, message: string) => errors.push({ path, message });
  const done = (): CompiledWorkflow | never => {
    throw workflowError(errors);
  };

  if (!isObject(definition)) {
    fail("$", "a workflow definition must be a JSON object with version, inputs, steps and outputs");
    return done();
  }
  if (definition.version !== undefined && typeof definition.version !== "string") fail("$.version", "must be a string such as \"1.0\"");
  for (const key of ["inputs", "steps", "outputs"])
    if (!Array.isArray(definition[key])) fail(`$.${key}`, "must be a list");
  if (errors.length) return done();

  const { imageInput, parameters } = compileInputs(definition.inputs as unknown[], fail);
  const scope: StepScope = { imageInput, parameters, steps: new Map(), blocks: opts.blocks, fail, warn: (p, m) => warnings.push({ path: p, message: m }) };
  const rawSteps = definition.steps as unknown[];
  if (rawSteps.length > MAX_STEPS) fail("$.steps", `has ${rawSteps.length} steps; at most ${MAX_STEPS} are allowed`);
  const declared = declareSteps(rawSteps, scope);
  linkGates(declared, fail);
  const order = executionOrder(declared, fail);
  const steps: CompiledStep[] = [];
  if (order) {
    for (const name of order) {
      const step = bindStep(declared.get(name)!, scope);
      if (step) steps.push(step);
    }
  }
  checkGateLevels(steps, scope);
  const outputs = compileOutputs(definition.outputs as unknown[], scope);
  const modelIds = await checkModels(steps, opts, fail);
  if (errors.length) return done();
  return { imageInput: imageInput!, parameters, steps, outputs, modelIds, warnings };
}

export function workflowError(errors: WorkflowIssue[]): AppError {
  const first = errors[0]!;
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
  return new AppError("WORKFLOW_INVALID", `Invalid workflow at ${first.path}: ${first.message}${more}`, 400, { errors });
}

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

function compileInputs(inputs: unknown[], fail: (p: string, m: string) => void) {
  let imageInput: string | undefined;
  const parameters: Record<string, CompiledParameter> = {};
  const names = new Set<string>();
  inputs.forEach((input, i) => {
    const path = `$.inputs[${i}]`;
    if (!isObject(input) || typeof input.name !== "string" || typeof input.type !== "string") {
      fail(path, 'each input needs a "type" and a "name"');
      return;
    }
    if (names.has(input.name)) fail(`${path}.name`, `input name '${input.name}' is used twice`);
    names.add(input.name);
    if (IMAGE_INPUTS.has(input.type)) {
      if (imageInput !== undefined) fail(path, `a workflow takes exactly one image input; '${imageInput}' is already one`);
      else imageInput = input.name;
    } else if (PARAMETER_INPUTS.has(input.type)) {
      parameters[input.name] = { name: input.name, defaultValue: input.default_value ?? null, kinds: kindsOf(input.kind), path };
    } else if (input.type === "WorkflowVideoMetadata") {
      parameters[input.name] = { name: input.name, defaultValue: null, kinds: ["video_metadata"], path };
    } else {
      fail(`${path}.type`, `unknown input type '${input.type}'; use WorkflowImage or WorkflowParameter`);
    }
  });
  if (imageInput === undefined) fail("$.inputs", "the workflow has no image input (an input of type WorkflowImage)");
  return { imageInput, parameters };
}

/** Parameter kinds as written in definitions: names, or objects with a `name`. */
function kindsOf(kind: unknown): Kind[] {
  if (!Array.isArray(kind) || kind.length === 0) return ["*"];
  return kind.map((k) => (isObject(k) ? String(k.name) : String(k))) as Kind[];
}

export interface DeclaredStep {
  name: string;
  type: string;
  raw: Record<string, unknown>;
  path: string;
  block: Block | undefined;
  dependsOn: Set<string>;
  /** Flow-control steps that decide whether this one runs. */
  gatedBy: Set<string>;
}

function declareSteps(rawSteps: unknown[], scope: StepScope): Map<string, DeclaredStep> {
  const declared = new Map<string, DeclaredStep>();
  rawSteps.forEach((raw, i) => {
    const path = `$.steps[${i}]`;
    if (!isObject(raw) || typeof raw.name !== "string" || typeof raw.type !== "string") {
      scope.fail(path, 'each step needs a "type" and a "name"');
      return;
    }
    if (declared.has(raw.name)) scope.fail(`${path}.name`, `step name '${raw.name}' is used twice`);
    const block = findBlock(scope.blocks, raw.type);
    if (!block) scope.fail(`${path}.type`, `unknown block type '${raw.type}'. Supported: ${supportedTypes(scope.blocks).join(", ")}`);
    const dependsOn = new Set<string>();
    collectStepRefs(raw, dependsOn);
    declared.set(raw.name, { name: raw.name, type: raw.type, raw, path, block, dependsOn, gatedBy: new Set() });
  });
  return declared;
}

const STEP_REF = /^\$steps\.([A-Za-z_][\w-]*)$/;

/**
 * Flow control: a step listed in a controller's gates field (e.g. continue_if's `next_steps`) runs after the
 * controller, and only where it lets it.
 */
function linkGates(declared: Map<string, DeclaredStep>, fail: (p: string, m: string) => void): void {
  for (const controller of declared.values()) {
    const gateInputs = Object.entries(controller.block?.manifest.inputs ?? {}).filter(([, spec]) => spec.gates);
    for (const [field] of gateInputs) {
      const value = controller.raw[field];
      if (value === undefined) continue;
      const path = `${controller.path}.${field}`;
      if (!Array.isArray(value)) {
        fail(path, "must be a list of steps ($steps.<name>)");
        continue;
      }
      value.forEach((ref, i) => {
        const name = typeof ref === "string" ? STEP_REF.exec(ref)?.[1] : undefined;
        const target = name ? declared.get(name) : undefined;
        if (!name) fail(`${path}[${i}]`, `${JSON.stringify(ref)} is not a step selector ($steps.<name>)`);
        else if (!target) fail(`${path}[${i}]`, `names an unknown step '${name}'`);
        else if (target === controller) fail(`${path}[${i}]`, "a step cannot gate itself");
        else {
          target.dependsOn.add(controller.name);
          target.gatedBy.add(controller.name);
        }
      });
    }
  }
}

/** A gated step must run at the controller's level or deeper (one decision per crop cannot stop a whole image). */
function checkGateLevels(steps: CompiledStep[], scope: StepScope): void {
  for (const step of steps)
    for (const name of step.gatedBy) {
      const controller = scope.steps.get(name);
      if (controller && step.depth < controller.depth)
        scope.fail(step.path, `step '${step.name}' runs once per image but '${name}' decides per crop; gate steps at the same level`);
    }
}

export function findBlock(blocks: readonly Block[], type: string): Block | undefined {
  const bare = type.replace(/^roboflow_core\//, "");
  return blocks.find((b) => b.manifest.types.includes(bare));
}

export const supportedTypes = (blocks: readonly Block[]) => blocks.map((b) => `roboflow_core/${b.manifest.types[0]}`).sort();

/** Step names referenced by `$steps.<name>…` anywhere in a step's fields (also inside lists and objects). */
function collectStepRefs(value: unknown, out: Set<string>): void {
  if (typeof value === "string") {
    const s = parseSelector(value);
    if (s?.source === "step") out.add(s.step);
  } else if (Array.isArray(value)) value.forEach((v) => collectStepRefs(v, out));
  else if (isObject(value)) Object.values(value).forEach((v) => collectStepRefs(v, out));
}

/** Topological order; a cycle is reported with the steps on it. */
function executionOrder(declared: Map<string, DeclaredStep>, fail: (p: string, m: string) => void): string[] | undefined {
  const order: string[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, trail: string[]): boolean => {
    const st = state.get(name);
    if (st === "done") return true;
    const step = declared.get(name)!;
    if (st === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      fail(step.path, `steps form a cycle: ${cycle.join(" -> ")}`);
      return false;
    }
    state.set(name, "visiting");
    for (const dep of step.dependsOn) {
      if (!declared.has(dep)) continue;
      if (!visit(dep, [...trail, name])) return false;
    }
    state.set(name, "done");
    order.push(name);
    return true;
  };
  for (const name of declared.keys()) if (!visit(name, [])) return undefined;
  return order;
}

function compileOutputs(outputs: unknown[], scope: StepScope): CompiledOutput[] {
  const compiled: CompiledOutput[] = [];
  const names = new Set<string>();
  outputs.forEach((out, i) => {
    const path = `$.outputs[${i}]`;
    if (!isObject(out) || typeof out.name !== "string") {
      scope.fail(path, 'each output needs a "name" and a "selector"');
      return;
    }
    if (names.has(out.name)) scope.fail(`${path}.name`, `output name '${out.name}' is used twice`);
    names.add(out.name);
    if (out.type !== undefined && out.type !== "JsonField") scope.fail(`${path}.type`, `unknown output type '${String(out.type)}'; use JsonField`);
    const cs = out.coordinates_system ?? "parent";
    if (cs !== "parent" && cs !== "own") scope.fail(`${path}.coordinates_system`, 'must be "parent" or "own"');
    const selector = parseSelector(out.selector);
    if (!selector) {
      scope.fail(`${path}.selector`, `'${String(out.selector)}' is not a selector ($inputs.<name>, $steps.<step>.<output> or $steps.<step>.*)`);
      return;
    }
    let depth = 0;
    if (selector.source === "input") {
      if (selector.name !== scope.imageInput && !(selector.name in scope.parameters)) scope.fail(`${path}.selector`, `there is no input '${selector.name}'`);
    } else {
      const step = scope.steps.get(selector.step);
      if (!step) scope.fail(`${path}.selector`, `there is no step '${selector.step}'`);
      else if (selector.output !== "*" && !(selector.output in step.block.manifest.outputs))
        scope.fail(`${path}.selector`, `step '${selector.step}' has no output '${selector.output}' (it has: ${Object.keys(step.block.manifest.outputs).join(", ")})`);
      else depth = step.outputDepth;
    }
    compiled.push({ name: out.name, selector, coordinatesSystem: cs as "parent" | "own", depth, path });
  });
  return compiled;
}

/** Static model ids must exist and suit the block (a detector block needs a detection model, ...). */
async function checkModels(steps: CompiledStep[], opts: CompileOptions, fail: (p: string, m: string) => void): Promise<string[]> {
  const ids = new Set<string>();
  for (const step of steps) {
    for (const input of step.inputs) {
      if (!input.spec.model || input.value.type !== "static" || typeof input.value.value !== "string") continue;
      const id = input.value.value;
      ids.add(id);
      if (!opts.resolveModel) continue;
      const info = await opts.resolveModel(id);
      if (!info) fail(input.path, `model '${id}' was not found${opts.modelSource ? ` (looked in ${opts.modelSource})` : ""}`);
      else if (!input.spec.model.families.includes(info.family))
        fail(input.path, `model '${id}' is a ${info.family} model (${info.task}); block ${step.type} needs one of: ${input.spec.model.families.join(", ")}`);
    }
  }
  return [...ids];
}
