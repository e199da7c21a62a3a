import { BINARY_OPERATORS, UNARY_OPERATORS } from "./conditions.ts";
import { OPERATION_NAMES, OPERATIONS } from "./operations.ts";
import { MAX_DEPTH, MAX_OPERATIONS, type FieldSpec, type Issue } from "./types.ts";
import { isNumber, isPlainObject } from "./values.ts";

/**
 * Checks operation lists and statements as written in a definition, before anything runs: every problem
 * with the JSON path where it is. The walk is bounded (depth and node count) so a hostile definition
 * costs no more than a legitimate one.
 */

interface Walk {
  issues: Issue[];
  nodes: number;
  /** Set once the node budget is spent: the rest of the tree is not looked at. */
  stopped: boolean;
}

const newWalk = (): Walk => ({ issues: [], nodes: 0, stopped: false });
const problem = (w: Walk, path: string, message: string) => void w.issues.push({ path, message });

export function checkOperations(ops: unknown, path: string): Issue[] {
  const w = newWalk();
  operationList(w, ops, path, 1);
  return w.issues;
}

export function checkStatement(statement: unknown, path: string): Issue[] {
  const w = newWalk();
  checkNode(w, statement, path, 1);
  return w.issues;
}

/** Counts a node against the bounds; false when it must not be looked into. */
function enter(w: Walk, path: string, depth: number): boolean {
  if (w.stopped) return false;
  if (depth > MAX_DEPTH) {
    problem(w, path, `operations and statements are nested more than ${MAX_DEPTH} levels deep`);
    return false;
  }
  if (++w.nodes > MAX_OPERATIONS) {
    problem(w, path, `more than ${MAX_OPERATIONS} operations and statements in one definition`);
    w.stopped = true;
    return false;
  }
  return true;
}

function operationList(w: Walk, ops: unknown, path: string, depth: number): void {
  if (!Array.isArray(ops)) return problem(w, path, "must be a list of operations");
  ops.forEach((op, i) => operation(w, op, `${path}[${i}]`, depth));
}

function operation(w: Walk, op: unknown, path: string, depth: number): void {
  if (!enter(w, path, depth)) return;
  if (!isPlainObject(op)) return problem(w, path, 'must be an operation: an object with a "type"');
  const spec = typeof op.type === "string" ? OPERATIONS[op.type] : undefined;
  if (!spec) {
    const what = op.type === undefined ? "the operation has no type" : `unknown operation type '${String(op.type)}'`;
    return problem(w, `${path}.type`, `${what}; supported: ${OPERATION_NAMES.join(", ")}`);
  }
  for (const [name, field] of Object.entries(spec.fields)) {
    if (op[name] === undefined) {
      if (field.required) problem(w, `${path}.${name}`, `is required by ${op.type}`);
    } else checkField(w, field, op[name], `${path}.${name}`, depth);
  }
}

const FIELD_CHECKS: Record<string, { ok: (v: unknown) => boolean; expected: string }> = {
  string: { ok: (v) => typeof v === "string", expected: "a string" },
  integer: { ok: Number.isInteger, expected: "a whole number" },
  number: { ok: (v) => isNumber(v) && Number.isFinite(v), expected: "a number" },
  boolean: { ok: (v) => typeof v === "boolean", expected: "true or false" },
  object: { ok: isPlainObject, expected: "a dictionary" },
  any: { ok: () => true, expected: "anything" },
  regex: { ok: isRegex, expected: "a valid regular expression" },
  "string-map-or-param": {
    ok: (v) => typeof v === "string" || (isPlainObject(v) && Object.values(v).every((x) => typeof x === "string")),
    expected: "a dictionary of names to new names, or the name of a parameter holding one",
  },
  "boolean-or-param": { ok: (v) => typeof v === "boolean" || typeof v === "string", expected: "true, false, or the name of a parameter holding one" },
};

function checkField(w: Walk, field: FieldSpec, value: unknown, path: string, depth: number): void {
  const type = field.type;
  if (type === "operations") return operationList(w, value, path, depth + 1);
  if (type === "statement") return checkNode(w, value, path, depth + 1);
  if (typeof type === "object") {
    if (!type.enum.includes(value as string)) problem(w, path, `must be one of: ${type.enum.join(", ")} (got ${JSON.stringify(value)})`);
    return;
  }
  const check = FIELD_CHECKS[type]!;
  if (!check.ok(value)) problem(w, path, `must be ${check.expected} (got ${JSON.stringify(value)})`);
  else if (field.nonZero && value === 0) problem(w, path, "must not be 0");
}

function isRegex(v: unknown): boolean {
  if (typeof v !== "string") return false;
  try {
    new RegExp(v);
    return true;
  } catch {
    return false;
  }
}

const STATEMENT_TYPES = "StatementGroup, BinaryStatement or UnaryStatement";

function checkNode(w: Walk, st: unknown, path: string, depth: number): void {
  if (!enter(w, path, depth)) return;
  if (!isPlainObject(st)) return problem(w, path, `must be a statement: ${STATEMENT_TYPES}`);
  if (st.negate !== undefined && typeof st.negate !== "boolean") problem(w, `${path}.negate`, "must be true or false");
  if (st.type === "StatementGroup") return group(w, st, path, depth);
  if (st.type === "BinaryStatement") {
    operand(w, st.left_operand, `${path}.left_operand`, depth);
    operator(w, st.comparator, `${path}.comparator`, BINARY_OPERATORS);
    return operand(w, st.right_operand, `${path}.right_operand`, depth);
  }
  if (st.type === "UnaryStatement") {
    operand(w, st.operand, `${path}.operand`, depth);
    return operator(w, st.operator, `${path}.operator`, UNARY_OPERATORS);
  }
  problem(w, `${path}.type`, `unknown statement type '${String(st.type)}'; use ${STATEMENT_TYPES}`);
}

function group(w: Walk, st: Record<string, unknown>, path: string, depth: number): void {
  if (st.operator !== undefined && st.operator !== "and" && st.operator !== "or") problem(w, `${path}.operator`, `must be "and" or "or" (got ${JSON.stringify(st.operator)})`);
  if (!Array.isArray(st.statements) || st.statements.length === 0) return problem(w, `${path}.statements`, "must be a non-empty list of statements");
  st.statements.forEach((s, i) => checkNode(w, s, `${path}.statements[${i}]`, depth + 1));
}

function operator(w: Walk, op: unknown, path: string, table: Record<string, unknown>): void {
  if (!isPlainObject(op)) return problem(w, path, `is required: an object with a "type", one of: ${Object.keys(table).join(", ")}`);
  if (typeof op.type !== "string" || !(op.type in table)) problem(w, `${path}.type`, `unknown operator '${String(op.type)}'; supported: ${Object.keys(table).join(", ")}`);
}

function operand(w: Walk, o: unknown, path: string, depth: number): void {
  if (!isPlainObject(o)) return problem(w, path, "is required: a StaticOperand or a DynamicOperand");
  if (o.type === "StaticOperand") {
    if (!("value" in o)) problem(w, `${path}.value`, "is required by StaticOperand");
  } else if (o.type === "DynamicOperand") {
    if (o.operand_name !== undefined && (typeof o.operand_name !== "string" || o.operand_name === "")) problem(w, `${path}.operand_name`, "must be a parameter name");
  } else return problem(w, `${path}.type`, `unknown operand type '${String(o.type)}'; use StaticOperand or DynamicOperand`);
  if (o.operations !== undefined) operationList(w, o.operations, `${path}.operations`, depth + 1);
}
