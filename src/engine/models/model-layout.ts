import type { Dim, ModelFamily, TensorInfo } from "./types.ts";

/**
 * Which decoder a model needs, told from its output shapes. Each family's rule answers the number of
 * classes its outputs hold, or undefined when the outputs do not have that family's layout. A dynamic
 * dimension matches any size; a fixed one must be exact.
 */
export interface InputSize {
  width: number;
  height: number;
}

interface Rule {
  /** The layout, for messages: what the outputs should look like at this input size. */
  expected(size: InputSize): string;
  /** The class count the outputs imply (0 when the family has no classes), or undefined. */
  classes(outputs: TensorInfo[], size: InputSize): number | undefined;
}

const STRIDES = [8, 16, 32];
const SEG_COEFFICIENTS = 32;

/** Anchor count of a YOLO head: one per cell of the stride-8, -16 and -32 grids. */
export const anchorCount = ({ width, height }: InputSize) =>
  STRIDES.reduce((sum, s) => sum + Math.ceil(height / s) * Math.ceil(width / s), 0);

export const isFixed = (d: Dim | undefined): d is number => typeof d === "number" && d > 0;
export const fits = (d: Dim | undefined, want: number) => d !== undefined && (!isFixed(d) || d === want);

export const formatShape = (shape: readonly Dim[]) => `[${shape.join(",")}]`;
export const describeTensors = (tensors: readonly TensorInfo[]) => tensors.map((t) => `${t.name} ${formatShape(t.shape)}`).join(", ");

/** [N, 4+C, A]: box centre and size, then one probability per class, for each anchor. */
function yolov8Classes(out: TensorInfo, size: InputSize, extra: number): number | undefined {
  const [, channels, anchors] = out.shape;
  if (out.shape.length !== 3 || !isFixed(channels) || channels <= 4 + extra || !fits(anchors, anchorCount(size))) return undefined;
  return channels - 4 - extra;
}

const RULES: Record<ModelFamily, Rule> = {
  yolov8: {
    expected: (size) => `one output [N, 4+C, ${anchorCount(size)}]`,
    classes: (outputs, size) => (outputs.length === 1 ? yolov8Classes(outputs[0]!, size, 0) : undefined),
  },
  "yolov8-seg": {
    expected: (size) =>
      `two outputs: [N, 4+C+${SEG_COEFFICIENTS}, ${anchorCount(size)}] and prototypes [N, ${SEG_COEFFICIENTS}, ${size.height / 4}, ${size.width / 4}]`,
    classes: (outputs, size) => {
      const det = outputs.find((o) => o.shape.length === 3);
      const protos = outputs.find((o) => o.shape.length === 4);
      if (outputs.length !== 2 || !det || !protos) return undefined;
      const [, coefficients, h, w] = protos.shape;
      if (!isFixed(coefficients) || !fits(h, Math.ceil(size.height / 4)) || !fits(w, Math.ceil(size.width / 4))) return undefined;
      return yolov8Classes(det, size, coefficients);
    },
  },
  yolox: {
    expected: (size) => `one output [N, ${anchorCount(size)}, 5+C]`,
    classes: (outputs, size) => {
      const [out] = outputs;
      if (outputs.length !== 1 || out!.shape.length !== 3) return undefined;
      const [, anchors, channels] = out!.shape;
      if (!isFixed(channels) || channels <= 5 || !fits(anchors, anchorCount(size))) return undefined;
      return channels - 5;
    },
  },
  classifier: {
    expected: () => "one output [N, C]",
    classes: (outputs) => {
      const [out] = outputs;
      if (outputs.length !== 1 || out!.shape.length !== 2 || !isFixed(out!.shape[1])) return undefined;
      return out!.shape[1];
    },
  },
  "ppocr-det": {
    expected: () => "one output [N, 1, H, W] (a text probability map)",
    classes: (outputs) => (outputs.length === 1 && outputs[0]!.shape.length === 4 && fits(outputs[0]!.shape[1], 1) ? 0 : undefined),
  },
  "ppocr-rec": {
    expected: () => "one output [N, T, C] (character probabilities per step)",
    classes: (outputs) => {
      const [out] = outputs;
      if (outputs.length !== 1 || out!.shape.length !== 3 || !isFixed(out!.shape[2])) return undefined;
      return out!.shape[2];
    },
  },
};

/** Families told apart by shape alone, most specific first; PP-OCR models must be named. */
export const INFERABLE_FAMILIES: readonly ModelFamily[] = ["yolov8-seg", "yolov8", "yolox", "classifier"];

export const expectedLayout = (family: ModelFamily, size: InputSize) => RULES[family].expected(size);

export const classCountFor = (family: ModelFamily, outputs: TensorInfo[], size: InputSize) => RULES[family].classes(outputs, size);

/** The first family whose layout the outputs have, with its class count. */
export function inferFamily(outputs: TensorInfo[], size: InputSize): { family: ModelFamily; classCount: number } | undefined {
  for (const family of INFERABLE_FAMILIES) {
    const classCount = RULES[family].classes(outputs, size);
    if (classCount !== undefined) return { family, classCount };
  }
  return undefined;
}
