/**
 * The engine's in-memory predictions. Boxes are corner coordinates in pixels of the image they were made
 * on (`image`); the image knows its place in its parent and in the workflow's input (crops, slices), so
 * results can be mapped back ("parent" coordinates) when serialized.
 */
export interface Origin {
  /** The image this one was cut from. */
  parentId: string;
  offsetX: number;
  offsetY: number;
  parentWidth: number;
  parentHeight: number;
}

export interface ImageRef {
  id: string;
  width: number;
  height: number;
  /** Undefined for the workflow's input image. */
  origin: Origin | undefined;
  /** Position in the workflow's input image (the root); offsets are 0 for the root itself. */
  root: { id: string; offsetX: number; offsetY: number; width: number; height: number };
}

export interface Detection {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  confidence: number;
  classId: number;
  className: string;
  detectionId: string;
  /** Id of the image the detection was made on. */
  parentId: string;
  /** Instance outline, in the same coordinates as the box. */
  polygon?: [number, number][];
  trackerId?: number;
  /** Extra per-detection values (OCR text, properties set by blocks, ...). */
  data?: Record<string, unknown>;
}

export interface Detections {
  kind: "detections";
  image: ImageRef;
  items: Detection[];
}

export interface ClassPrediction {
  className: string;
  classId: number;
  confidence: number;
}

export interface Classification {
  kind: "classification";
  image: ImageRef;
  predictions: ClassPrediction[];
  top: string;
  confidence: number;
}

export function rootRef(id: string, width: number, height: number): ImageRef {
  return { id, width, height, origin: undefined, root: { id, offsetX: 0, offsetY: 0, width, height } };
}
