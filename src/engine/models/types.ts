/**
 * What the engine knows about a model: read from the ONNX file (input/output names and shapes, Ultralytics
 * `metadata_props`) plus what the user told the registry (class names, family, task).
 */
export const MODEL_FAMILIES = ["yolov8", "yolov8-seg", "yolox", "classifier", "ppocr-det", "ppocr-rec"] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export const MODEL_TASKS = ["detection", "segmentation", "classification", "ocr"] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** A dimension is a number, or a name (string) when it is dynamic. */
export type Dim = number | string;

export interface TensorInfo {
  name: string;
  shape: Dim[];
  type: string;
}

export interface ModelInfo {
  modelId: string;
  sha256: string;
  sizeBytes: number;
  family: ModelFamily;
  task: ModelTask;
  classNames: string[];
  /** The image input: NCHW, with the spatial size the model expects. */
  input: TensorInfo & { width: number; height: number; dynamicBatch: boolean };
  outputs: TensorInfo[];
  /** ONNX metadata_props (Ultralytics writes names, imgsz, task, stride there). */
  metadata: Record<string, string>;
}

/** A model ready to load: its facts and where its ONNX file is. */
export interface ResolvedModel {
  info: ModelInfo;
  path: string;
}

/** Finds a model by the `model_id` a workflow names (a models folder, the registry, or both). */
export interface ModelResolver {
  resolve(modelId: string): Promise<ResolvedModel | undefined>;
  /** Where it looked, for the error when a model is missing. */
  describe(): string;
}
