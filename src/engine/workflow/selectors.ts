/** `$inputs.<name>`, `$steps.<step>.<output>` and `$steps.<step>.*`. */
export type Selector =
  | { source: "input"; name: string; text: string }
  | { source: "step"; step: string; output: string; text: string };

const INPUT = /^\$inputs\.([A-Za-z_][\w-]*)$/;
const STEP = /^\$steps\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*|\*)$/;

/** A selector, or undefined when the value is not one (any other string is a static value). */
export function parseSelector(value: unknown): Selector | undefined {
  if (typeof value !== "string" || !value.startsWith("$")) return undefined;
  const input = INPUT.exec(value);
  if (input) return { source: "input", name: input[1]!, text: value };
  const step = STEP.exec(value);
  if (step) return { source: "step", step: step[1]!, output: step[2]!, text: value };
  return undefined;
}

/** A string that looks like a selector but is not a valid one (reported rather than taken as text). */
export const looksLikeSelector = (value: unknown): value is string =>
  typeof value === "string" && /^\$[A-Za-z]/.test(value) && !parseSelector(value);
