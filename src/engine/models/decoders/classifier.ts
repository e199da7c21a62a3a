import type { OutputView } from "../sessions.ts";

/**
 * Single-label classifiers (Ultralytics export layout): RGB scaled to 0..1; the image is resized to cover
 * the input and centre-cropped, as the Ultralytics classification transforms do.
 */
export const CLASSIFIER_INPUT = { order: "rgb", factor: 1 / 255 } as const;

/** Outputs within this of 1 (all in 0..1) are taken as probabilities already; anything else as logits. */
const SUM_TOLERANCE = 1e-3;

/** Class probabilities from a [C] output: as they are when they already sum to ~1, else softmax. */
export function classProbabilities(out: OutputView): Float32Array {
  const v = out.data;
  let sum = 0;
  let inRange = true;
  let max = -Infinity;
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    sum += x;
    if (x < 0 || x > 1) inRange = false;
    if (x > max) max = x;
  }
  if (inRange && Math.abs(sum - 1) <= SUM_TOLERANCE) return v.slice();
  const p = new Float32Array(v.length);
  let total = 0;
  for (let i = 0; i < v.length; i++) total += p[i] = Math.exp(v[i]! - max);
  for (let i = 0; i < v.length; i++) p[i]! /= total;
  return p;
}
