import { randomUUID } from "node:crypto";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import type { Block, BlockContext, BlockManifest, InputSpec, StepInputs, StepOutputs } from "../types.ts";
import { enumInput, floatInput } from "../common.ts";

/**
 * What the model blocks share: v3 replaced `confidence` with `confidence_mode` + `custom_confidence`;
 * models here carry no per-class thresholds, so "best" and "default" both mean the block's default.
 */
export const DEFAULT_CONFIDENCE = 0.4;

export const confidenceModeInputs = (modes: readonly string[], def: string): Record<string, InputSpec> => ({
  confidence_mode: enumInput(modes, def),
  custom_confidence: floatInput(DEFAULT_CONFIDENCE),
});

export function confidenceOf(inputs: StepInputs): number {
  if (inputs.confidence !== undefined) return (inputs.confidence as number | null) ?? DEFAULT_CONFIDENCE;
  if (inputs.confidence_mode === "custom") {
    if (inputs.custom_confidence === null || inputs.custom_confidence === undefined) throw new Error("custom_confidence is required when confidence_mode is 'custom'");
    return inputs.custom_confidence as number;
  }
  return DEFAULT_CONFIDENCE;
}

/**
 * Runs a model over all the images of a step at once (one batched call per model and settings), keeping
 * the order of the inputs.
 */
export async function runGrouped<R>(
  inputs: StepInputs[],
  ctx: BlockContext,
  settingsOf: (i: StepInputs) => unknown,
  call: (modelId: string, images: WorkflowImage[], settings: StepInputs) => Promise<R[]>,
): Promise<R[]> {
  const groups = new Map<string, number[]>();
  inputs.forEach((i, n) => {
    const key = JSON.stringify([i.model_id, settingsOf(i)]);
    groups.set(key, [...(groups.get(key) ?? []), n]);
  });
  const out: R[] = new Array(inputs.length);
  for (const members of groups.values()) {
    const first = inputs[members[0]!]!;
    const results = await call(String(first.model_id), members.map((m) => inputs[m]!.images as WorkflowImage), first);
    members.forEach((m, k) => (out[m] = results[k]!));
  }
  return out;
}

/** Outputs every model block gives: an inference id per image, and from v2 on the model id. */
export function modelOutputs(inputs: StepInputs, predictions: unknown, withModelId: boolean): StepOutputs {
  return { inference_id: randomUUID(), predictions, ...(withModelId ? { model_id: inputs.model_id } : {}) };
}

/** A block that runs batched: `run` (one input) goes through `runBatch`. */
export function batchedBlock(manifest: Omit<BlockManifest, "batched">, runBatch: NonNullable<Block["runBatch"]>): Block {
  return { manifest: { ...manifest, batched: true }, runBatch, run: async (inputs, ctx) => (await runBatch([inputs], ctx))[0]! };
}
