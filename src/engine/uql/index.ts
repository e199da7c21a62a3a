import { compiledChain, compiledPredicate } from "./compile.ts";
import type { Params } from "./types.ts";

/**
 * The operations language of workflow definitions (the reference's "UQL"): operation lists that turn a
 * value into another (filter detections, read a property, count, look up, ...) and statements that
 * compare values. Blocks check definitions at compile time and run them per image.
 */

export { checkOperations, checkStatement } from "./check.ts";
export type { FrameMetadata, Issue } from "./types.ts";

/**
 * Applies an operation list to a value. `params` are the named values operands and parameter-valued
 * fields refer to. Throws AppError UQL_ERROR naming the operation and the data it got when the data is
 * of the wrong kind (and when the list itself is invalid).
 */
export function runOperations(ops: unknown[], value: unknown, params: Params = {}): unknown {
  return compiledChain(ops)(value, params);
}

/** Evaluates a StatementGroup / BinaryStatement / UnaryStatement; a DynamicOperand's `operand_name` is looked up in `params`. */
export function evaluateStatement(statement: unknown, params: Params): boolean {
  return compiledPredicate(statement)(params);
}
