import type { Detection, Detections } from "../detections.ts";
import { detectionsJson } from "../workflow/serialize.ts";
import { detectionProperty } from "./detection-properties.ts";
import type { Args, OpContext, OperationSpec, Params, Predicate } from "./types.ts";
import { isDetections, isPlainObject, single } from "./values.ts";

/** Operations on a set of detections (and on a single detection, a one-element set). */

function detections(v: unknown, ctx: OpContext): Detections {
  return isDetections(v) ? v : ctx.wrongData("detections", v);
}

const withItems = (d: Detections, items: Detection[]): Detections => ({ ...d, items });
const centerX = (d: Detection) => (d.x1 + d.x2) / 2;
const centerY = (d: Detection) => (d.y1 + d.y2) / 2;

/** Index of the first item with the best key (first occurrence wins, as numpy's argmin/argmax). */
function bestIndex(items: Detection[], key: (d: Detection) => number, better: (a: number, b: number) => boolean): number {
  let best = 0;
  for (let i = 1; i < items.length; i++) if (better(key(items[i]!), key(items[best]!))) best = i;
  return best;
}

const SELECTORS: Record<string, (items: Detection[]) => number> = {
  first: () => 0,
  last: (items) => items.length - 1,
  left_most: (items) => bestIndex(items, centerX, (a, b) => a < b),
  right_most: (items) => bestIndex(items, centerX, (a, b) => a > b),
  top_confidence: (items) => bestIndex(items, (d) => d.confidence, (a, b) => a > b),
};

const SORT_KEYS: Record<string, (d: Detection) => number> = {
  confidence: (d) => d.confidence,
  x_min: (d) => d.x1,
  x_max: (d) => d.x2,
  y_min: (d) => d.y1,
  y_max: (d) => d.y2,
  size: (d) => (d.x2 - d.x1) * (d.y2 - d.y1),
  center_x: centerX,
  center_y: centerY,
};

function filter(value: unknown, args: Args, params: Params, ctx: OpContext): Detections {
  const d = detections(value, ctx);
  const keep = args.filter_operation as Predicate;
  const local: Params = { ...params };
  return withItems(
    d,
    d.items.filter((item) => {
      local._ = single(d, item);
      return keep(local);
    }),
  );
}

function extractOne(value: unknown, args: Args, _: Params, ctx: OpContext): unknown {
  const d = detections(value, ctx);
  if (d.items.length !== 1) ctx.wrongData("a single detection", value);
  return detectionProperty(d.items[0]!, d.image, args.property_name as string);
}

function sort(value: unknown, args: Args, _: Params, ctx: OpContext): Detections {
  const d = detections(value, ctx);
  const key = SORT_KEYS[args.mode as string]!;
  // Stable ascending order, reversed for descending: the order numpy's argsort()[::-1] gives.
  const sorted = d.items.slice().sort((a, b) => key(a) - key(b));
  return withItems(d, args.ascending ? sorted : sorted.reverse());
}

/** Moves or grows each box; the outline moves with its box so the two stay in the same coordinates. */
function moveBoxes(d: Detections, dx1: number, dy1: number, dx2: number, dy2: number): Detections {
  const shiftsOutline = dx1 === dx2 && dy1 === dy2;
  return withItems(
    d,
    d.items.map((item) => ({
      ...item,
      x1: item.x1 + dx1,
      y1: item.y1 + dy1,
      x2: item.x2 + dx2,
      y2: item.y2 + dy2,
      ...(shiftsOutline && item.polygon ? { polygon: item.polygon.map(([x, y]) => [x + dx1, y + dy1] as [number, number]) } : {}),
    })),
  );
}

/** A field given either as a value or as the name of a parameter holding it. */
function fromParams(field: string, v: unknown, params: Params, ctx: OpContext): unknown {
  if (typeof v !== "string") return v;
  if (!(v in params)) ctx.fail(`'${field}' names the parameter '${v}', which was not given (given: ${Object.keys(params).join(", ") || "none"})`);
  return params[v];
}

/**
 * New class ids follow the reference: strict renames number the target classes in sorted order from 0;
 * otherwise classes keep their ids and targets that are not existing classes are numbered from
 * `new_classes_id_offset`, in sorted order.
 */
function rename(value: unknown, args: Args, params: Params, ctx: OpContext): Detections {
  const d = detections(value, ctx);
  const map = fromParams("class_map", args.class_map, params, ctx);
  const strict = fromParams("strict", args.strict, params, ctx);
  if (!isPlainObject(map) || !Object.values(map).every((v) => typeof v === "string")) return ctx.wrongData("a class_map of class names to new names", map);
  if (typeof strict !== "boolean") return ctx.wrongData("a boolean 'strict'", strict);
  const classMap = map as Record<string, string>;
  const targets = [...new Set(Object.values(classMap))].sort();
  const ids = new Map<string, number>();
  if (strict) {
    const missing = d.items.find((item) => !(item.className in classMap));
    if (missing) ctx.fail(`class '${missing.className}' is not in class_map (strict renaming needs every class)`);
    targets.forEach((name, i) => ids.set(name, i));
  } else {
    for (const item of d.items) ids.set(item.className, item.classId);
    let next = args.new_classes_id_offset as number;
    for (const name of targets) if (!ids.has(name)) ids.set(name, next++);
  }
  return withItems(
    d,
    d.items.map((item) => {
      const className = classMap[item.className] ?? item.className;
      return { ...item, className, classId: ids.get(className)! };
    }),
  );
}

const inside = (x: number, y: number, b: Detection) => b.x1 <= x && x <= b.x2 && b.y1 <= y && y <= b.y2;

/** Parents of the class first (in order), then the other detections whose centre lies in a parent's box. */
function pickByParent(value: unknown, args: Args, _: Params, ctx: OpContext): Detections {
  const d = detections(value, ctx);
  const parents = d.items.filter((item) => item.className === args.parent_class);
  if (parents.length === 0) return withItems(d, []);
  const children = d.items.filter((item) => item.className !== args.parent_class && parents.some((p) => inside(centerX(item), centerY(item), p)));
  return withItems(d, [...parents, ...children]);
}

export const DETECTIONS_OPERATIONS: Record<string, OperationSpec> = {
  DetectionsFilter: { fields: { filter_operation: { type: "statement", required: true } }, run: filter },
  DetectionsPropertyExtract: {
    fields: { property_name: { type: "string", required: true } },
    run: (v, args, _, ctx) => {
      const d = detections(v, ctx);
      return d.items.map((item) => detectionProperty(item, d.image, args.property_name as string, true));
    },
  },
  ExtractDetectionProperty: { fields: { property_name: { type: "string", required: true } }, run: extractOne },
  DetectionsSelection: {
    fields: { mode: { type: { enum: Object.keys(SELECTORS) }, required: true } },
    run: (v, args, _, ctx) => {
      const d = detections(v, ctx);
      return d.items.length ? single(d, d.items[SELECTORS[args.mode as string]!(d.items)]!) : withItems(d, []);
    },
  },
  SortDetections: { fields: { mode: { type: { enum: Object.keys(SORT_KEYS) }, required: true }, ascending: { type: "boolean", default: true } }, run: sort },
  DetectionsRename: {
    fields: {
      class_map: { type: "string-map-or-param", required: true },
      strict: { type: "boolean-or-param", default: true },
      new_classes_id_offset: { type: "integer", default: 1024 },
    },
    run: rename,
  },
  DetectionsOffset: {
    fields: { offset_x: { type: "integer", required: true }, offset_y: { type: "integer", required: true } },
    run: (v, args, _, ctx) => {
      const [ox, oy] = [(args.offset_x as number) / 2, (args.offset_y as number) / 2];
      return moveBoxes(detections(v, ctx), -ox, -oy, ox, oy);
    },
  },
  DetectionsShift: {
    fields: { shift_x: { type: "integer", required: true }, shift_y: { type: "integer", required: true } },
    run: (v, args, _, ctx) => moveBoxes(detections(v, ctx), args.shift_x as number, args.shift_y as number, args.shift_x as number, args.shift_y as number),
  },
  DetectionsToDictionary: { fields: {}, run: (v, _a, _p, ctx) => detectionsJson(detections(v, ctx), "own") },
  PickDetectionsByParentClass: { fields: { parent_class: { type: "string", required: true } }, run: pickByParent },
};
