import { AppError } from "../../core/errors.ts";
import { checkOperations, checkStatement } from "./check.ts";
import { BINARY_OPERATORS, UNARY_OPERATORS } from "./conditions.ts";
import { OPERATIONS } from "./operations.ts";
import type { Args, Chain, Issue, OpContext, Params, Predicate } from "./types.ts";
import { describe, uqlError } from "./values.ts";

/**
 * Turns checked definitions into closures, once per definition object: a filter runs its statement for
 * every detection of every image, so nothing is parsed or looked up by name on that path.
 */

type Definition = Record<string, unknown>;

const chains = new WeakMap<object, Chain>();
const predicates = new WeakMap<object, Predicate>();

/** The compiled form of an operation list, checked first (definitions that skipped compile-time checks still fail cleanly). */
export function compiledChain(ops: unknown): Chain {
  const cached = typeof ops === "object" && ops !== null ? chains.get(ops) : undefined;
  if (cached) return cached;
  rejectInvalid(checkOperations(ops, "operations"));
  const chain = buildChain(ops as Definition[], "operations");
  chains.set(ops as object, chain);
  return chain;
}

export function compiledPredicate(statement: unknown): Predicate {
  const cached = typeof statement === "object" && statement !== null ? predicates.get(statement) : undefined;
  if (cached) return cached;
  rejectInvalid(checkStatement(statement, "statement"));
  const predicate = buildPredicate(statement as Definition, "statement");
  predicates.set(statement as object, predicate);
  return predicate;
}

function rejectInvalid(issues: Issue[]): void {
  const first = issues[0];
  if (first) throw new AppError("UQL_ERROR", `Invalid definition at ${first.path}: ${first.message}`, 400, { errors: issues });
}

function buildChain(ops: Definition[], at: string): Chain {
  const steps = ops.map((op, i) => buildOperation(op, `${at}[${i}]`));
  return (value, params) => steps.reduce((v, step) => step(v, params), value);
}

function context(name: string, at: string): OpContext {
  return {
    wrongData: (expected, got) => {
      throw uqlError(`${name} (at ${at}) expects ${expected}, got ${describe(got)}`, { operation: name, at });
    },
    fail: (message) => {
      throw uqlError(`${name} (at ${at}): ${message}`, { operation: name, at });
    },
  };
}

function buildOperation(op: Definition, at: string): Chain {
  const name = op.type as string;
  const spec = OPERATIONS[name]!;
  const args: Args = {};
  for (const [field, f] of Object.entries(spec.fields)) {
    const value = op[field] === undefined ? f.default : op[field];
    const path = `${at}.${field}`;
    if (f.type === "operations") args[field] = buildChain(value as Definition[], path);
    else if (f.type === "statement") args[field] = buildPredicate(value as Definition, path);
    else if (f.type === "regex") args[field] = new RegExp(value as string);
    else args[field] = value;
  }
  const ctx = context(name, at);
  return (value, params) => spec.run(value, args, params, ctx);
}

function buildPredicate(st: Definition, at: string): Predicate {
  const predicate = st.type === "StatementGroup" ? buildGroup(st, at) : st.type === "BinaryStatement" ? buildBinary(st, at) : buildUnary(st, at);
  return st.negate === true ? (params) => !predicate(params) : predicate;
}

/** Stops at the first statement that decides the group, so a later statement may rely on an earlier `Exists`. */
function buildGroup(st: Definition, at: string): Predicate {
  const parts = (st.statements as Definition[]).map((s, i) => buildPredicate(s, `${at}.statements[${i}]`));
  return st.operator === "and" ? (params) => parts.every((p) => p(params)) : (params) => parts.some((p) => p(params));
}

const wrongOperands = (operator: string, at: string) => (expected: string, got: unknown): never => {
  throw uqlError(`${operator} (at ${at}) expects ${expected}, got ${describe(got)}`, { operator, at });
};

function buildBinary(st: Definition, at: string): Predicate {
  const operator = (st.comparator as Definition).type as string;
  const compare = BINARY_OPERATORS[operator]!;
  const left = buildOperand(st.left_operand as Definition, `${at}.left_operand`);
  const right = buildOperand(st.right_operand as Definition, `${at}.right_operand`);
  const wrong = wrongOperands(operator, `${at}.comparator`);
  return (params) => compare(left(params), right(params), wrong);
}

function buildUnary(st: Definition, at: string): Predicate {
  const operator = (st.operator as Definition).type as string;
  const test = UNARY_OPERATORS[operator]!;
  const operand = buildOperand(st.operand as Definition, `${at}.operand`);
  const wrong = wrongOperands(operator, `${at}.operator`);
  return (params) => test(operand(params), wrong);
}

/** A static value or a named parameter ("_" by default: the value under evaluation), then its own operations. */
function buildOperand(o: Definition, at: string): (params: Params) => unknown {
  const chain = buildChain((o.operations as Definition[] | undefined) ?? [], `${at}.operations`);
  if (o.type === "StaticOperand") return (params) => chain(o.value, params);
  const name = (o.operand_name as string | undefined) ?? "_";
  return (params) => {
    if (!(name in params)) throw uqlError(`${at}: the name '${name}' is not defined (defined: ${Object.keys(params).join(", ") || "none"})`, { at, name });
    return chain(params[name], params);
  };
}
