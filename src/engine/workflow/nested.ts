/**
 * Values of a step live at a dimensionality level: 0 is one value per input image, 1 a list per image
 * (one per crop), 2 a list of lists, and so on. They are stored as nested arrays; an index path picks one.
 * `undefined` at a place means the step did not run there (a condition stopped it, or its input was empty).
 */
export type Nested = unknown;
export type IndexPath = readonly number[];

export function getAt(value: Nested, path: IndexPath): unknown {
  let v = value;
  for (const i of path) {
    if (!Array.isArray(v)) return undefined;
    v = v[i];
  }
  return v;
}

export function setAt(root: unknown[], path: IndexPath, value: unknown): void {
  let v = root;
  for (let d = 0; d < path.length - 1; d++) {
    const i = path[d]!;
    if (!Array.isArray(v[i])) v[i] = [];
    v = v[i] as unknown[];
  }
  v[path[path.length - 1]!] = value;
}

/** Every index path at `depth` in a nested value (lists shorter than others simply give fewer paths). */
export function pathsAt(value: Nested, depth: number): number[][] {
  if (depth === 0) return [[]];
  const out: number[][] = [];
  const walk = (v: unknown, prefix: number[]) => {
    if (!Array.isArray(v)) return;
    if (prefix.length === depth - 1) {
      for (let i = 0; i < v.length; i++) out.push([...prefix, i]);
      return;
    }
    v.forEach((child, i) => walk(child, [...prefix, i]));
  };
  walk(value, []);
  return out;
}
