import { evaluateStatement } from "../../uql/index.ts";
import { typeIds } from "../common.ts";
import { CONTINUE, type Block } from "../types.ts";
import { parametersInput, statementInput } from "./uql-inputs.ts";

/**
 * `continue_if@v1`: the steps named in `next_steps` run only where the condition holds (per image, or per
 * crop when its parameters are per crop); where it does not, their outputs are empty (null), never an error.
 */
export const continueIfV1: Block = {
  manifest: {
    types: typeIds("continue_if", "v1", "ContinueIf"),
    description: "Runs the next steps only when a condition holds.",
    inputs: {
      condition_statement: statementInput(),
      evaluation_parameters: parametersInput(),
      next_steps: { kinds: [], static: "any", required: true, gates: true },
      stop_delay: { kinds: ["float"], static: "number", default: 0, min: 0 },
    },
    outputs: {},
    flowControl: true,
  },
  run: async (inputs) => ({ [CONTINUE]: evaluateStatement(inputs.condition_statement, (inputs.evaluation_parameters ?? {}) as Record<string, unknown>) }),
};
