import { deepEqual, isDetections, isNumber, isPlainObject, isPoint, lengthOf, pyStr } from "./values.ts";

/**
 * The comparators of BinaryStatement and the operators of UnaryStatement, by the names definitions use.
 * Each gets a `wrong` callback that throws UQL_ERROR naming the operator and what it was given.
 */

type Wrong = (expected: string, got: unknown) => never;
type Binary = (a: unknown, b: unknown, wrong: Wrong) => boolean;
type Unary = (a: unknown, wrong: Wrong) => boolean;

const num = (v: unknown, wrong: Wrong) => (isNumber(v) ? v : wrong("numbers", v));
const str = (v: unknown, wrong: Wrong) => (typeof v === "string" ? v : wrong("strings", v));

/** Python's `item in collection`: list membership, dictionary keys, or a substring. */
function contains(collection: unknown, item: unknown, wrong: Wrong): boolean {
  if (Array.isArray(collection)) return collection.some((x) => deepEqual(x, item));
  if (typeof collection === "string") return collection.includes(str(item, wrong));
  if (isPlainObject(collection)) return (typeof item === "string" || typeof item === "number") && Object.hasOwn(collection, pyStr(item));
  return wrong("a list, dictionary or string to look in", collection);
}

const listOf = (v: unknown, wrong: Wrong) => (Array.isArray(v) ? v : wrong("a list", v));

/**
 * The point a zone test uses: a point as given (e.g. a detection's `center`, as the reference's examples
 * extract it), or the centre of a single detection's box.
 */
function pointOf(v: unknown, wrong: Wrong): [number, number] {
  if (isPoint(v)) return v;
  if (isDetections(v) && v.items.length === 1) {
    const d = v.items[0]!;
    return [(d.x1 + d.x2) / 2, (d.y1 + d.y2) / 2];
  }
  return wrong("a point [x, y] or a single detection", v);
}

function zoneOf(v: unknown, wrong: Wrong): [number, number][] {
  return Array.isArray(v) && v.length >= 3 && v.every(isPoint) ? v : wrong("a zone (a list of at least 3 points [x, y])", v);
}

function onSegment([x, y]: [number, number], [x1, y1]: [number, number], [x2, y2]: [number, number]): boolean {
  const cross = (x2 - x1) * (y - y1) - (y2 - y1) * (x - x1);
  if (Math.abs(cross) > 1e-9 * (Math.abs(x2 - x1) + Math.abs(y2 - y1) + 1)) return false;
  return Math.min(x1, x2) <= x && x <= Math.max(x1, x2) && Math.min(y1, y2) <= y && y <= Math.max(y1, y2);
}

/** Inside the polygon or on its edge (even-odd rule for the inside). */
function pointInPolygon(p: [number, number], polygon: [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = polygon.length - 1; i < polygon.length; j = i++) {
    const [a, b] = [polygon[i]!, polygon[j]!];
    if (onSegment(p, a, b)) return true;
    if (a[1] > p[1] !== b[1] > p[1] && p[0] < ((b[0] - a[0]) * (p[1] - a[1])) / (b[1] - a[1]) + a[0]) inside = !inside;
  }
  return inside;
}

const equals: Binary = (a, b) => deepEqual(a, b);
const differs: Binary = (a, b) => !deepEqual(a, b);

export const BINARY_OPERATORS: Record<string, Binary> = {
  "==": equals,
  "(Number) ==": equals,
  "!=": differs,
  "(Number) !=": differs,
  "(Number) >": (a, b, w) => num(a, w) > num(b, w),
  "(Number) >=": (a, b, w) => num(a, w) >= num(b, w),
  "(Number) <": (a, b, w) => num(a, w) < num(b, w),
  "(Number) <=": (a, b, w) => num(a, w) <= num(b, w),
  "(String) startsWith": (a, b, w) => str(a, w).startsWith(str(b, w)),
  "(String) endsWith": (a, b, w) => str(a, w).endsWith(str(b, w)),
  "(String) contains": (a, b, w) => str(a, w).includes(str(b, w)),
  "in (Sequence)": (a, b, w) => contains(b, a, w),
  "any in (Sequence)": (a, b, w) => listOf(a, w).some((x) => contains(b, x, w)),
  "all in (Sequence)": (a, b, w) => listOf(a, w).every((x) => contains(b, x, w)),
  "(Detection) in zone": (a, b, w) => pointInPolygon(pointOf(a, w), zoneOf(b, w)),
};

const sized = (v: unknown, wrong: Wrong) => lengthOf(v) ?? wrong("a list, detections, a dictionary or a string", v);

export const UNARY_OPERATORS: Record<string, Unary> = {
  Exists: (a) => a !== null && a !== undefined,
  DoesNotExist: (a) => a === null || a === undefined,
  "(Boolean) is True": (a) => a === true,
  "(Boolean) is False": (a) => a === false,
  "(Sequence) is empty": (a, w) => sized(a, w) === 0,
  "(Sequence) is not empty": (a, w) => sized(a, w) > 0,
};
