import type { Block, InputSpec, Kind } from "../blocks/types.ts";
import type { DeclaredStep } from "./compile.ts";
import { checkStatic } from "./static-values.ts";
import { looksLikeSelector, parseSelector, type Selector } from "./selectors.ts";
import type { BoundInput, BoundValue, CompiledParameter, CompiledStep } from "./types.ts";

/** What binding a step can see: the inputs, the steps bound so far, and where to report problems. */
export interface StepScope {
  imageInput: string | undefined;
  parameters: Record<string, CompiledParameter>;
  steps: Map<string, CompiledStep>;
  blocks: readonly Block[];
  fail(path: string, message: string): void;
  warn(path: string, message: string): void;
}

interface Source {
  depth: number;
  lineage: string[];
  kinds: readonly Kind[];
}

const STRUCTURAL_FIELDS = new Set(["type", "name"]);

/**
 * Binds each field of a step to a static value or a selector, checks kinds and values, and works out the
 * dimensionality the step runs at. Returns undefined (after reporting) when the step cannot be bound.
 */
export function bindStep(declared: DeclaredStep, scope: StepScope): CompiledStep | undefined {
  const block = declared.block;
  if (!block) return undefined;
  const { manifest } = block;
  const inputs: BoundInput[] = [];
  const sources: { input: string; source: Source; path: string }[] = [];
  let ok = true;
  const known = new Set(STRUCTURAL_FIELDS);
  for (const [name, spec] of Object.entries(manifest.inputs)) {
    known.add(name);
    spec.aliases?.forEach((a) => known.add(a));
    const field = [name, ...(spec.aliases ?? [])].find((f) => declared.raw[f] !== undefined);
    const path = `${declared.path}.${field ?? name}`;
    const raw = field === undefined ? undefined : declared.raw[field];
    if (spec.gates) {
      // Checked and linked by the compiler (flow control); kept as the list of step names.
      if (raw === undefined && spec.required) {
        scope.fail(path, `required field '${name}' is missing`);
        ok = false;
      }
      const names = Array.isArray(raw) ? raw.map((r) => String(r).replace(/^\$steps\./, "")) : [];
      inputs.push({ name, spec, value: { type: "static", value: names }, path });
      continue;
    }
    if (raw === undefined) {
      if (spec.required) {
        scope.fail(path, `required field '${name}' is missing`);
        ok = false;
      }
      inputs.push({ name, spec, value: { type: "static", value: spec.default ?? null }, path });
      continue;
    }
    const value = bindValue(raw, spec, path, scope, (source, p) => sources.push({ input: name, source, path: p }));
    if (!value) ok = false;
    else inputs.push({ name, spec, value, path });
  }
  for (const field of Object.keys(declared.raw))
    if (!known.has(field)) scope.warn(`${declared.path}.${field}`, `field '${field}' is not used by ${declared.type}`);
  if (!ok) return undefined;
  const dims = dimensionality(declared, block, sources, scope);
  if (!dims) return undefined;
  const outputKinds: Record<string, readonly Kind[]> = {};
  for (const [out, spec] of Object.entries(manifest.outputs)) {
    const from = spec.sameKindAs ? sources.find((s) => s.input === spec.sameKindAs)?.source.kinds : undefined;
    outputKinds[out] = from ?? spec.kinds;
  }
  const step: CompiledStep = {
    name: declared.name,
    type: declared.type,
    block,
    inputs,
    ...dims,
    dependsOn: [...declared.dependsOn],
    gatedBy: [...declared.gatedBy],
    outputKinds,
    path: declared.path,
  };
  scope.steps.set(step.name, step);
  return step;
}

function bindValue(raw: unknown, spec: InputSpec, path: string, scope: StepScope, onSource: (s: Source, path: string) => void): BoundValue | undefined {
  const selector = parseSelector(raw);
  if (selector) {
    const source = resolveSelector(selector, path, scope);
    if (!source) return undefined;
    if (!kindsMatch(spec.kinds, source.kinds)) {
      scope.fail(path, `${selector.text} gives ${source.kinds.join(" or ")}, but this field takes ${spec.kinds.length ? spec.kinds.join(" or ") : "a static value only"}`);
      return undefined;
    }
    onSource(source, path);
    return { type: "selector", selector, depth: source.depth, kinds: source.kinds };
  }
  if (looksLikeSelector(raw)) {
    scope.fail(path, `'${raw}' is not a valid selector ($inputs.<name>, $steps.<step>.<output> or $steps.<step>.*)`);
    return undefined;
  }
  if (Array.isArray(raw) && raw.some((v) => parseSelector(v))) {
    const items = raw.map((v, i) => bindValue(v, { ...spec, static: "any" }, `${path}[${i}]`, scope, onSource));
    return items.every(Boolean) ? { type: "list", items: items as BoundValue[] } : undefined;
  }
  if (isPlainObject(raw) && Object.values(raw).some((v) => parseSelector(v))) {
    const entries: Record<string, BoundValue> = {};
    for (const [k, v] of Object.entries(raw)) {
      const bound = bindValue(v, { ...spec, kinds: ["*"], static: "any" }, `${path}.${k}`, scope, onSource);
      if (!bound) return undefined;
      entries[k] = bound;
    }
    return { type: "dict", entries };
  }
  const problem = checkStatic(raw, spec);
  if (problem) {
    scope.fail(path, problem);
    return undefined;
  }
  const issues = spec.check?.(raw, path) ?? [];
  for (const issue of issues) scope.fail(issue.path, issue.message);
  return issues.length ? undefined : { type: "static", value: raw };
}

function resolveSelector(selector: Selector, path: string, scope: StepScope): Source | undefined {
  if (selector.source === "input") {
    if (selector.name === scope.imageInput) return { depth: 0, lineage: [], kinds: ["image"] };
    const param = scope.parameters[selector.name];
    if (param) return { depth: 0, lineage: [], kinds: param.kinds };
    scope.fail(path, `${selector.text}: there is no input '${selector.name}'`);
    return undefined;
  }
  const step = scope.steps.get(selector.step);
  if (!step) {
    scope.fail(path, `${selector.text}: there is no step '${selector.step}'`);
    return undefined;
  }
  if (selector.output === "*") return { depth: step.outputDepth, lineage: step.lineage, kinds: ["*"] };
  const kinds = step.outputKinds[selector.output];
  if (!kinds) {
    scope.fail(path, `${selector.text}: step '${step.name}' has no output '${selector.output}' (it has: ${Object.keys(step.outputKinds).join(", ")})`);
    return undefined;
  }
  return { depth: step.outputDepth, lineage: step.lineage, kinds };
}

export function kindsMatch(accepted: readonly Kind[], given: readonly Kind[]): boolean {
  if (accepted.includes("*") || given.includes("*")) return true;
  return given.some((k) => accepted.includes(k) || (k === "float_zero_to_one" && accepted.includes("float")) || (k === "integer" && accepted.includes("float")));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The level the step runs at and the level of its outputs. Inputs at the deepest level must come from the
 * same crops (same lineage); shallower inputs must be ancestors of them (the parent image of the crops).
 */
function dimensionality(declared: DeclaredStep, block: Block, sources: { input: string; source: Source; path: string }[], scope: StepScope) {
  const dim = block.manifest.dimensionality;
  let runDepth: number;
  let deepest: string[] = [];
  if (dim?.offset === -1) {
    const collapsed = sources.filter((s) => s.input === dim.collapses);
    const ref = collapsed[0]?.source;
    if (!ref) {
      scope.fail(`${declared.path}.${dim.collapses}`, `'${dim.collapses}' must be a selector`);
      return undefined;
    }
    // Per-image data collapses over the run's images: here, one image, so a list of one.
    runDepth = Math.max(0, ref.depth - 1);
    deepest = ref.lineage;
  } else {
    runDepth = Math.max(0, ...sources.map((s) => s.source.depth));
    deepest = sources.find((s) => s.source.depth === runDepth)?.source.lineage ?? [];
  }
  for (const s of sources) {
    const lineage = s.source.lineage;
    if (!deepest.slice(0, lineage.length).every((step, i) => step === lineage[i])) {
      scope.fail(s.path, `mixes data of different crops: this comes from ${lineage.join(" > ") || "the input image"}, other fields from ${deepest.join(" > ")}`);
      return undefined;
    }
  }
  const outputDepth = dim?.offset === 1 ? runDepth + 1 : runDepth;
  const lineage = dim?.offset === 1 ? [...deepest.slice(0, runDepth), declared.name] : deepest.slice(0, runDepth);
  return { depth: runDepth, outputDepth, lineage };
}
