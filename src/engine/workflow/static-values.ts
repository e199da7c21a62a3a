import type { InputSpec } from "../blocks/types.ts";

/**
 * Checks a value against what a block input accepts; returns the problem in words, or undefined. Used
 * for values written in the definition and for workflow parameters given at run time.
 */
export function checkStatic(value: unknown, spec: InputSpec): string | undefined {
  if (value === null && !spec.required) return undefined;
  const range = () => {
    const n = value as number;
    if (spec.min !== undefined && n < spec.min) return `must be at least ${spec.min} (got ${n})`;
    if (spec.max !== undefined && n > spec.max) return `must be at most ${spec.max} (got ${n})`;
    return undefined;
  };
  const got = `got ${JSON.stringify(value)}`;
  switch (spec.static) {
    case "none":
      return `must be a selector ($inputs.<name> or $steps.<step>.<output>), ${got}`;
    case "any":
      return undefined;
    case "number":
      return typeof value === "number" && Number.isFinite(value) ? range() : `must be a number, ${got}`;
    case "integer":
      return Number.isInteger(value) ? range() : `must be a whole number, ${got}`;
    case "string":
      return typeof value === "string" ? undefined : `must be a string, ${got}`;
    case "boolean":
      return typeof value === "boolean" ? undefined : `must be true or false, ${got}`;
    case "enum":
      return spec.values!.includes(value as string | number) ? undefined : `must be one of ${spec.values!.map((v) => JSON.stringify(v)).join(", ")}, ${got}`;
    case "string[]":
      return Array.isArray(value) && value.every((v) => typeof v === "string") ? undefined : `must be a list of strings, ${got}`;
    case "number[]":
      return Array.isArray(value) && value.every((v) => typeof v === "number") ? undefined : `must be a list of numbers, ${got}`;
    case "array":
      return Array.isArray(value) ? undefined : `must be a list, ${got}`;
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value) ? undefined : `must be an object, ${got}`;
  }
}
