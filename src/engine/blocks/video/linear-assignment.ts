/**
 * Optimal assignment of rows to columns at least total cost (the Hungarian method with potentials and
 * shortest augmenting paths, O(n²·m)), thresholded as ByteTrack's `matching.linear_assignment` does it:
 * costs above `thresh` are capped just above it, and pairs whose cost is still above it are not matches.
 */

export interface Assignment {
  matches: [row: number, col: number][];
  unmatchedRows: number[];
  unmatchedCols: number[];
}

/** `cost` has one row per track and `cols` columns (given, as a matrix without rows cannot tell). */
export function linearAssignment(cost: number[][], cols: number, thresh: number): Assignment {
  const rows = cost.length;
  if (rows === 0 || cols === 0) return { matches: [], unmatchedRows: range(rows), unmatchedCols: range(cols) };
  const capped = cost.map((row) => row.map((c) => (Number.isFinite(c) && c <= thresh ? c : thresh + 1e-4)));
  const pairs: [number, number][] =
    rows <= cols ? solve(capped).map((c, r) => [r, c]) : solve(transpose(capped)).map((r, c) => [r, c]);
  const matches = pairs.filter(([r, c]) => c >= 0 && r >= 0 && capped[r]![c]! <= thresh).sort((a, b) => a[0] - b[0]);
  const rowSet = new Set(matches.map(([r]) => r));
  const colSet = new Set(matches.map(([, c]) => c));
  return { matches, unmatchedRows: range(rows).filter((r) => !rowSet.has(r)), unmatchedCols: range(cols).filter((c) => !colSet.has(c)) };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function transpose(a: number[][]): number[][] {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

/** For n rows ≤ m columns: the column given to each row, minimising the sum of costs. */
function solve(a: number[][]): number[] {
  const n = a.length;
  const m = a[0]!.length;
  const u = new Float64Array(n + 1);
  const v = new Float64Array(m + 1);
  const owner = new Int32Array(m + 1); // owner[j]: the row (1-based) holding column j; 0 = free
  const way = new Int32Array(m + 1);
  for (let i = 1; i <= n; i++) {
    owner[0] = i;
    let j0 = 0;
    const minv = new Float64Array(m + 1).fill(Infinity);
    const used = new Uint8Array(m + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0]!;
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= m; j++) {
        if (used[j]) continue;
        const cur = a[i0 - 1]![j - 1]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= m; j++) {
        if (used[j]) {
          u[owner[j]!] = u[owner[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else minv[j] = minv[j]! - delta;
      }
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0]!;
      owner[j0] = owner[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const colOfRow = new Array<number>(n).fill(-1);
  for (let j = 1; j <= m; j++) if (owner[j]) colOfRow[owner[j]! - 1] = j - 1;
  return colOfRow;
}
