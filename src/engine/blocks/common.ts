import type { Detections } from "../detections.ts";
import type { InputSpec, Kind } from "./types.ts";

/** Field specs shared by many blocks, so each manifest reads like the reference's. */
export const DETECTION_KINDS: readonly Kind[] = ["object_detection_prediction", "instance_segmentation_prediction", "keypoint_detection_prediction"];

export const imagesInput = (): InputSpec => ({ kinds: ["image"], static: "none", required: true, batch: true, aliases: ["image"] });
export const predictionsInput = (kinds: readonly Kind[] = DETECTION_KINDS): InputSpec => ({ kinds, static: "none", required: true, batch: true });
export const floatInput = (def: number | null, min = 0, max = 1): InputSpec => ({ kinds: ["float_zero_to_one", "float"], static: "number", min, max, default: def });
export const intInput = (def: number | null, min?: number, max?: number): InputSpec => ({ kinds: ["integer"], static: "integer", default: def, ...(min !== undefined ? { min } : {}), ...(max !== undefined ? { max } : {}) });
export const boolInput = (def: boolean): InputSpec => ({ kinds: ["boolean"], static: "boolean", default: def });
export const stringInput = (def: string | null): InputSpec => ({ kinds: ["string"], static: "string", default: def });
export const enumInput = (values: readonly string[], def: string): InputSpec => ({ kinds: ["string"], static: "enum", values, default: def });

/** Fields the reference has for its hosted service (active learning); accepted and ignored here. */
export const ACTIVE_LEARNING_INPUTS: Record<string, InputSpec> = {
  disable_active_learning: boolInput(true),
  active_learning_target_dataset: { kinds: ["string"], static: "string", default: null },
};

/** Versioned type ids: `name@v1` plus older aliases for the first version. */
export const typeIds = (name: string, version: string, ...aliases: string[]) => [`${name}@${version}`, ...aliases];

export function asDetections(value: unknown, field = "predictions"): Detections {
  const d = value as Detections;
  if (d?.kind !== "detections") throw new Error(`'${field}' is not a set of detections`);
  return d;
}

/** The same detections with other items (filters, offsets keep the image). */
export const withItems = (d: Detections, items: Detections["items"]): Detections => ({ ...d, items });
