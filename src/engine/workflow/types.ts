import type { Block, InputSpec, Kind } from "../blocks/types.ts";
import type { Selector } from "./selectors.ts";

/** A workflow checked and ready to run: steps in execution order, each input bound and typed. */
export interface CompiledWorkflow {
  /** Name of the (single) image input. */
  imageInput: string;
  parameters: Record<string, CompiledParameter>;
  steps: CompiledStep[];
  outputs: CompiledOutput[];
  /** Static model ids the workflow names, for preloading and for manifests. */
  modelIds: string[];
  /** Things that do not stop the workflow but deserve a look (unknown fields, ...). */
  warnings: WorkflowIssue[];
}

export interface CompiledParameter {
  name: string;
  defaultValue: unknown;
  kinds: Kind[];
  /** JSON path of its definition, for errors about values given at run time. */
  path: string;
}

export type BoundValue =
  | { type: "static"; value: unknown }
  | { type: "selector"; selector: Selector; depth: number; kinds: readonly Kind[] }
  /** A list or object whose items may be selectors (e.g. several predictions for a consensus). */
  | { type: "list"; items: BoundValue[] }
  | { type: "dict"; entries: Record<string, BoundValue> };

export interface BoundInput {
  name: string;
  spec: InputSpec;
  value: BoundValue;
  path: string;
}

export interface CompiledStep {
  name: string;
  type: string;
  block: Block;
  inputs: BoundInput[];
  /** Dimensionality level the step runs at (0: once per image). */
  depth: number;
  /** Level of its outputs: depth + 1 for crops and slices. */
  outputDepth: number;
  /** Steps whose outputs it reads, and the flow-control steps that gate it. */
  dependsOn: string[];
  /** Flow-control steps deciding whether it runs (at each index of their level). */
  gatedBy: string[];
  /** For each dimension level of its outputs, the step that introduced it (crops of which step, ...). */
  lineage: string[];
  /** Kinds of each output (resolved for outputs that take the kind of an input). */
  outputKinds: Record<string, readonly Kind[]>;
  path: string;
}

export interface CompiledOutput {
  name: string;
  selector: Selector;
  coordinatesSystem: "parent" | "own";
  depth: number;
  path: string;
}

export interface WorkflowIssue {
  /** JSON path of the fault, e.g. `$.steps[1].model_id`. */
  path: string;
  message: string;
}
