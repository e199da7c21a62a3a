import { AppError } from "../../core/errors.ts";
import type { Classification, Detection, Detections, ImageRef } from "../detections.ts";

/**
 * What the operations language needs to know about the values it meets: their kind, a short description
 * for error messages, and the reference's (Python) notions of length, truth, equality and text.
 */

export const uqlError = (message: string, details?: Record<string, unknown>) => new AppError("UQL_ERROR", message, 422, details);

export const isDetections = (v: unknown): v is Detections => (v as Detections | null)?.kind === "detections" && Array.isArray((v as Detections).items);

export const isClassification = (v: unknown): v is Classification => (v as Classification | null)?.kind === "classification";

/** An image flowing through a workflow (the input or a crop): it has an id, a size and a place in its root. */
export function isImage(v: unknown): v is ImageRef {
  const i = v as ImageRef | null;
  return typeof i === "object" && i !== null && typeof i.id === "string" && typeof i.width === "number" && typeof i.height === "number" && typeof i.root === "object";
}

/** A JSON-style dictionary (not a list, not one of the engine's own values). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !isDetections(v) && !isClassification(v);
}

export const isNumber = (v: unknown): v is number => typeof v === "number" && !Number.isNaN(v);

export const isPoint = (v: unknown): v is [number, number] => Array.isArray(v) && v.length === 2 && isNumber(v[0]) && isNumber(v[1]);

/** The one-detection set that stands for a single detection ("_" inside DetectionsFilter). */
export const single = (d: Detections, item: Detection): Detections => ({ ...d, items: [item] });

/** A short, bounded description of a value for error messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (typeof v === "string") return `a string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  if (typeof v === "number" || typeof v === "boolean") return `a ${typeof v} ${v}`;
  if (Array.isArray(v)) return `a list of ${v.length} item${v.length === 1 ? "" : "s"}`;
  if (isDetections(v)) return `detections (${v.items.length} item${v.items.length === 1 ? "" : "s"})`;
  if (isClassification(v)) return `a classification (top '${v.top}')`;
  if (isImage(v)) return `an image ${v.width}x${v.height}`;
  if (v instanceof Date) return `a timestamp ${v.toISOString()}`;
  if (isPlainObject(v)) {
    const keys = Object.keys(v);
    return keys.length ? `a dictionary with keys ${keys.slice(0, 5).join(", ")}${keys.length > 5 ? ", …" : ""}` : "an empty dictionary";
  }
  return `a value of type ${typeof v}`;
}

/** Python's `len()` for the values that have one; undefined for the rest. */
export function lengthOf(v: unknown): number | undefined {
  if (typeof v === "string" || Array.isArray(v)) return v.length;
  if (isDetections(v)) return v.items.length;
  if (isPlainObject(v)) return Object.keys(v).length;
  return undefined;
}

/** Python truthiness: empty and zero values are false. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  return (lengthOf(v) ?? 1) > 0;
}

/** Equality as the reference compares JSON-like values: lists and dictionaries by content, the rest by identity. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return false;
}

/** Text of a value, spelled as the reference (Python) spells it for scalars so lookups written for it keep working. */
export function pyStr(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "None";
  if (typeof v === "boolean") return v ? "True" : "False";
  if (typeof v === "number") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v) || isPlainObject(v)) return JSON.stringify(v);
  return describe(v);
}

/** Rounds half to even at `digits` decimals, as Python's `round` and numpy do. */
export function roundHalfEven(v: number, digits = 0): number {
  const scale = 10 ** digits;
  const x = v * scale;
  const floor = Math.floor(x);
  const diff = x - floor;
  const rounded = diff > 0.5 || (diff === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return rounded / scale;
}

/** Python's `s[start:end]` for strings (negative indices count from the end). */
export function pySlice(s: string, start: number, end: number): string {
  const at = (i: number) => (i < 0 ? Math.max(0, s.length + i) : Math.min(i, s.length));
  return s.slice(at(start), Math.max(at(start), at(end)));
}
