import type { Args, OpContext, OperationSpec, Params } from "./types.ts";
import { isNumber, pySlice, pyStr, roundHalfEven, truthy } from "./values.ts";

/** Operations on single strings, numbers and booleans. */

function string(v: unknown, ctx: OpContext): string {
  return typeof v === "string" ? v : ctx.wrongData("a string", v);
}

function number(v: unknown, ctx: OpContext): number {
  return isNumber(v) ? v : ctx.wrongData("a number", v);
}

/** Python's `float(v)` (then `int(...)`, which drops the fraction, for "int"). */
function toNumber(value: unknown, args: Args, _: Params, ctx: OpContext): number {
  let n: number | undefined;
  if (isNumber(value)) n = value;
  else if (typeof value === "boolean") n = value ? 1 : 0;
  else if (typeof value === "string" && value.trim() !== "") n = Number(value.trim());
  if (n === undefined || Number.isNaN(n)) return ctx.wrongData(`a value that reads as a number (to cast to ${args.cast_to})`, value);
  if (args.cast_to === "float") return n;
  if (!Number.isFinite(n)) ctx.fail(`${n} cannot be cast to int`);
  return Math.trunc(n);
}

export const SCALAR_OPERATIONS: Record<string, OperationSpec> = {
  ToString: { fields: {}, run: (v) => pyStr(v) },
  StringToUpperCase: { fields: {}, run: (v, _a, _p, ctx) => string(v, ctx).toUpperCase() },
  StringToLowerCase: { fields: {}, run: (v, _a, _p, ctx) => string(v, ctx).toLowerCase() },
  StringSubSequence: {
    // The reference's default end of -1 drops the last character, as Python's s[0:-1] does.
    fields: { start: { type: "integer", default: 0 }, end: { type: "integer", default: -1 } },
    run: (v, args, _, ctx) => pySlice(string(v, ctx), args.start as number, args.end as number),
  },
  StringMatches: {
    // Anywhere in the string, as Python's re.search.
    fields: { regex: { type: "regex", required: true } },
    run: (v, args, _, ctx) => (args.regex as RegExp).test(string(v, ctx)),
  },
  ToNumber: { fields: { cast_to: { type: { enum: ["int", "float"] }, required: true } }, run: toNumber },
  NumberRound: {
    fields: { decimal_digits: { type: "integer", required: true } },
    run: (v, args, _, ctx) => roundHalfEven(number(v, ctx), args.decimal_digits as number),
  },
  Multiply: { fields: { other: { type: "number", required: true } }, run: (v, args, _, ctx) => number(v, ctx) * (args.other as number) },
  Divide: { fields: { other: { type: "number", required: true, nonZero: true } }, run: (v, args, _, ctx) => number(v, ctx) / (args.other as number) },
  ToBoolean: { fields: {}, run: (v) => truthy(v) },
  RandomNumber: {
    // Ignores its input: a uniform number in [min_value, max_value), for sampling.
    fields: { min_value: { type: "number", default: 0 }, max_value: { type: "number", default: 1 } },
    run: (_v, args) => {
      const [lo, hi] = [args.min_value as number, args.max_value as number];
      return lo + Math.random() * Math.abs(hi - lo);
    },
  },
};
