import { checkOperations, checkStatement } from "../../uql/index.ts";
import type { InputSpec } from "../types.ts";

/** Fields written in the operations language, checked at compile time with their JSON paths. */
export const operationsInput = (required = true): InputSpec => ({
  kinds: [],
  static: "array",
  required,
  ...(required ? {} : { default: [] }),
  check: (value, path) => checkOperations(value, path),
});

export const statementInput = (): InputSpec => ({ kinds: [], static: "object", required: true, check: (value, path) => checkStatement(value, path) });

/** Named values for the operations (`operations_parameters`, `evaluation_parameters`, `data`): selectors or values. */
export const parametersInput = (required = false): InputSpec => ({ kinds: ["*"], static: "object", required, ...(required ? {} : { default: {} }) });
