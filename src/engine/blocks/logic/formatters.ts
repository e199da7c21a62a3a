import { evaluateStatement, runOperations } from "../../uql/index.ts";
import { typeIds } from "../common.ts";
import type { Block, InputSpec } from "../types.ts";
import { operationsInput, parametersInput } from "./uql-inputs.ts";
import { checkCases, type Cases, type CaseResult } from "./cases.ts";

/** `property_definition@v1`: an operation list applied to any value (count detections, read a class, ...). */
export const propertyDefinitionV1: Block = {
  manifest: {
    types: typeIds("property_definition", "v1", "PropertyDefinition", "PropertyExtraction"),
    description: "Computes a value from step outputs with an operation list.",
    inputs: { data: { kinds: ["*"], static: "none", required: true, batch: true }, operations: operationsInput() },
    outputs: { output: { kinds: ["*"] } },
  },
  run: async (inputs) => ({ output: runOperations(inputs.operations as unknown[], inputs.data, {}) }),
};

/**
 * `expression@v1`: named values (optionally transformed) and a switch: the first case whose condition holds
 * gives the output (a static value, or one of the named values), else the default.
 */
export const expressionV1: Block = {
  manifest: {
    types: typeIds("expression", "v1", "Expression"),
    description: "Switch/case over named values: outputs the result of the first case whose condition holds.",
    inputs: {
      data: parametersInput(true),
      data_operations: { kinds: [], static: "object", default: {} },
      switch: { kinds: [], static: "object", required: true, check: checkCases },
    },
    outputs: { output: { kinds: ["*"] } },
  },
  async run(inputs) {
    const variables: Record<string, unknown> = { ...(inputs.data as Record<string, unknown>) };
    for (const [name, ops] of Object.entries((inputs.data_operations ?? {}) as Record<string, unknown[]>))
      if (name in variables) variables[name] = runOperations(ops, variables[name], variables);
    const cases = inputs.switch as Cases;
    const hit = cases.cases.find((c) => evaluateStatement(c.condition, variables));
    return { output: caseResult(hit ? hit.result : cases.default, variables) };
  },
};

function caseResult(result: CaseResult, variables: Record<string, unknown>): unknown {
  if (result.type === "StaticCaseResult") return result.value;
  const value = variables[result.parameter_name];
  return result.operations?.length ? runOperations(result.operations, value, variables) : value;
}

/** `first_non_empty_or_default@v1`: the first of several selectors that has a value, else the default. */
export const firstNonEmptyOrDefaultV1: Block = {
  manifest: {
    types: typeIds("first_non_empty_or_default", "v1", "FirstNonEmptyOrDefault"),
    description: "The first value that exists among several step outputs (e.g. of conditional branches), else a default.",
    inputs: {
      data: { kinds: ["*"], static: "array", required: true } satisfies InputSpec,
      default: { kinds: ["*"], static: "any", default: null },
    },
    outputs: { output: { kinds: ["*"] } },
  },
  async run(inputs) {
    const values = Array.isArray(inputs.data) ? inputs.data : [inputs.data];
    const first = values.find((v) => v !== undefined && v !== null);
    return { output: first ?? inputs.default ?? null };
  },
};

/** `dimension_collapse@v1`: the values of all crops (or slices) of an image, as one list. */
export const dimensionCollapseV1: Block = {
  manifest: {
    types: typeIds("dimension_collapse", "v1", "DimensionCollapse"),
    description: "Gathers the per-crop values of an image into one list.",
    inputs: { data: { kinds: ["*"], static: "none", required: true } },
    outputs: { output: { kinds: ["list_of_values"] } },
    dimensionality: { offset: -1, collapses: "data" },
  },
  run: async (inputs) => ({ output: ((inputs.data as unknown[]) ?? []).filter((v) => v !== undefined) }),
};
