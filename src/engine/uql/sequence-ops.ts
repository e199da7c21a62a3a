import type { Args, Chain, OpContext, OperationSpec, Params } from "./types.ts";
import { deepEqual, isDetections, isNumber, isPlainObject, lengthOf, pyStr, single } from "./values.ts";

/** Operations on lists (and the lookups that map their elements). */

/** The longest text SequenceJoin builds, as the reference bounds it. */
const MAX_JOINED_LENGTH = 1_000_000;

function list(v: unknown, ctx: OpContext): unknown[] {
  return Array.isArray(v) ? v : ctx.wrongData("a list", v);
}

/**
 * Looks a value up in a table written in JSON, whose keys are text: numbers and booleans are looked up by
 * their text, so `{"1": "one"}` maps the number 1.
 */
function lookup(table: Record<string, unknown>, v: unknown, ctx: OpContext): unknown {
  if (typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") return ctx.wrongData("a string or number to look up", v);
  const key = pyStr(v);
  if (!Object.hasOwn(table, key)) ctx.fail(`the value '${key}' is not in the lookup table (keys: ${Object.keys(table).slice(0, 20).join(", ")})`);
  return table[key];
}

/** Distinct elements with their counts, most frequent first; ties keep first-seen order (Python's Counter). */
function countElements(values: unknown[]): { value: unknown; count: number }[] {
  const counts: { value: unknown; count: number }[] = [];
  for (const value of values) {
    const seen = counts.find((c) => deepEqual(c.value, value));
    if (seen) seen.count++;
    else counts.push({ value, count: 1 });
  }
  return counts.sort((a, b) => b.count - a.count);
}

const AGGREGATES: Record<string, (values: unknown[]) => unknown> = {
  first: (values) => values[0],
  last: (values) => values[values.length - 1],
  most_common: (values) => countElements(values)[0]!.value,
  least_common: (values) => countElements(values).at(-1)!.value,
};

const NUMERIC_AGGREGATES: Record<string, (values: number[]) => number> = {
  min: (values) => values.reduce((a, b) => (b < a ? b : a)),
  max: (values) => values.reduce((a, b) => (b > a ? b : a)),
  sum: (values) => values.reduce((a, b) => a + b, 0),
};

function aggregateNumbers(value: unknown, args: Args, _: Params, ctx: OpContext): unknown {
  const values = list(value, ctx);
  if (values.length === 0) return args.neutral_value;
  if (!values.every(isNumber)) ctx.wrongData("a list of numbers", values.find((v) => !isNumber(v)));
  return NUMERIC_AGGREGATES[args.function as string]!(values as number[]);
}

/** Each element through the nested operations; detections are taken one detection at a time. */
function apply(value: unknown, args: Args, params: Params, ctx: OpContext): unknown[] {
  const chain = args.operations as Chain;
  if (isDetections(value)) return value.items.map((item) => chain(single(value, item), params));
  return list(value, ctx).map((v) => chain(v, params));
}

function join(value: unknown, args: Args, _: Params, ctx: OpContext): string {
  const text = list(value, ctx).map(pyStr).join(args.separator as string);
  if (text.length > MAX_JOINED_LENGTH) ctx.fail(`the joined text would be ${text.length} characters, over the limit of ${MAX_JOINED_LENGTH}`);
  return text;
}

export const SEQUENCE_OPERATIONS: Record<string, OperationSpec> = {
  SequenceLength: {
    fields: {},
    run: (v, _a, _p, ctx) => lengthOf(v) ?? ctx.wrongData("a list, detections, a dictionary or a string", v),
  },
  SequenceElementsCount: {
    fields: {},
    run: (v, _a, _p, ctx) => Object.fromEntries(countElements(list(v, ctx)).map((c) => [pyStr(c.value), c.count])),
  },
  SequenceAggregate: {
    fields: { mode: { type: { enum: Object.keys(AGGREGATES) }, required: true } },
    run: (v, args, _, ctx) => {
      const values = list(v, ctx);
      if (values.length === 0) ctx.wrongData("a non-empty list", v);
      return AGGREGATES[args.mode as string]!(values);
    },
  },
  NumericSequenceAggregate: {
    fields: { function: { type: { enum: Object.keys(NUMERIC_AGGREGATES) }, required: true }, neutral_value: { type: "any", default: null } },
    run: aggregateNumbers,
  },
  SequenceMap: {
    fields: { lookup_table: { type: "object", required: true } },
    run: (v, args, _, ctx) => list(v, ctx).map((e) => lookup(args.lookup_table as Record<string, unknown>, e, ctx)),
  },
  SequenceApply: { fields: { operations: { type: "operations", required: true } }, run: apply },
  SequenceJoin: { fields: { separator: { type: "string", default: ", " } }, run: join },
  LookupTable: {
    fields: { lookup_table: { type: "object", required: true } },
    run: (v, args, _, ctx) => lookup(args.lookup_table as Record<string, unknown>, v, ctx),
  },
  ConvertDictionaryToJSON: {
    fields: {},
    run: (v, _a, _p, ctx) => (isPlainObject(v) ? JSON.stringify(v) : ctx.wrongData("a dictionary", v)),
  },
};
