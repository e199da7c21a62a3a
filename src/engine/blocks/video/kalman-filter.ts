/**
 * The Kalman filter of ByteTrack (as in supervision): 8-dimensional state (cx, cy, a, h, vx, vy, va, vh) —
 * box centre, aspect ratio w/h, height and their velocities — with a constant-velocity motion model and
 * (cx, cy, a, h) observed directly. Noise is relative to the box height, as in the reference.
 */

export type Vec = number[];
export type Mat = number[][];

const STD_POSITION = 1 / 20;
const STD_VELOCITY = 1 / 160;

export interface Gaussian {
  mean: Vec;
  covariance: Mat;
}

/** A new track's state from its first measurement (xyah); velocities start at 0 with a wide spread. */
export function initiate(measurement: Vec): Gaussian {
  const h = measurement[3]!;
  const std = [2 * STD_POSITION * h, 2 * STD_POSITION * h, 1e-2, 2 * STD_POSITION * h, 10 * STD_VELOCITY * h, 10 * STD_VELOCITY * h, 1e-5, 10 * STD_VELOCITY * h];
  return { mean: [...measurement, 0, 0, 0, 0], covariance: diag(std.map((s) => s * s)) };
}

/** One frame ahead: x' = F x, P' = F P Fᵀ + Q, where F adds each velocity to its position. */
export function predict({ mean, covariance }: Gaussian): Gaussian {
  const h = mean[3]!;
  const std = [STD_POSITION * h, STD_POSITION * h, 1e-2, STD_POSITION * h, STD_VELOCITY * h, STD_VELOCITY * h, 1e-5, STD_VELOCITY * h];
  const next = mean.map((x, i) => (i < 4 ? x + mean[i + 4]! : x));
  // F P Fᵀ with F = [[I, I], [0, I]]: rows then columns 0..3 gain rows/columns 4..7.
  const fp = covariance.map((row, i) => (i < 4 ? row.map((x, j) => x + covariance[i + 4]![j]!) : [...row]));
  const fpf = fp.map((row) => row.map((x, j) => (j < 4 ? x + row[j + 4]! : x)));
  std.forEach((s, i) => (fpf[i]![i]! += s * s));
  return { mean: next, covariance: fpf };
}

/** Corrects the state with a measurement (xyah). */
export function update({ mean, covariance }: Gaussian, measurement: Vec): Gaussian {
  const h = mean[3]!;
  const r = [STD_POSITION * h, STD_POSITION * h, 1e-1, STD_POSITION * h];
  // S = H P Hᵀ + R: the top-left 4×4 block plus the measurement noise.
  const s = covariance.slice(0, 4).map((row, i) => row.slice(0, 4).map((x, j) => x + (i === j ? r[i]! * r[i]! : 0)));
  const sInv = invert4(s);
  // K = P Hᵀ S⁻¹ (8×4).
  const pht = covariance.map((row) => row.slice(0, 4));
  const gain = matmul(pht, sInv);
  const innovation = measurement.map((z, i) => z - mean[i]!);
  const newMean = mean.map((x, i) => x + gain[i]!.reduce((acc, k, j) => acc + k * innovation[j]!, 0));
  const kskt = matmul(matmul(gain, s), transpose(gain));
  const newCov = covariance.map((row, i) => row.map((x, j) => x - kskt[i]![j]!));
  return { mean: newMean, covariance: newCov };
}

function diag(values: number[]): Mat {
  return values.map((v, i) => values.map((_, j) => (i === j ? v : 0)));
}

function transpose(a: Mat): Mat {
  return a[0]!.map((_, j) => a.map((row) => row[j]!));
}

function matmul(a: Mat, b: Mat): Mat {
  return a.map((row) => b[0]!.map((_, j) => row.reduce((acc, x, k) => acc + x * b[k]![j]!, 0)));
}

/** Inverse of a small symmetric positive-definite matrix by Gauss-Jordan elimination with pivoting. */
function invert4(m: Mat): Mat {
  const n = m.length;
  const a = m.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r]![col]!) > Math.abs(a[pivot]![col]!)) pivot = r;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]! || 1e-12;
    for (let j = 0; j < 2 * n; j++) a[col]![j]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const f = a[r]![col]!;
      if (f !== 0) for (let j = 0; j < 2 * n; j++) a[r]![j]! -= f * a[col]![j]!;
    }
  }
  return a.map((row) => row.slice(n));
}
