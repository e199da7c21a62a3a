import type { ModelRuntime } from "../models/runtime.ts";
import type { ModelInfo, ResolvedModel } from "../models/types.ts";
import type { FrameMetadata } from "../uql/types.ts";

/**
 * What a workflow block declares about itself (its manifest) and how it runs. One file per block exports
 * one or more `Block`s (versions whose manifests differ are separate blocks); the registry is the list of
 * those files.
 */

/** Kinds of data flowing between steps, as the reference names them; `*` accepts anything. */
export type Kind =
  | "*"
  | "image"
  | "object_detection_prediction"
  | "instance_segmentation_prediction"
  | "keypoint_detection_prediction"
  | "classification_prediction"
  | "string"
  | "float"
  | "float_zero_to_one"
  | "integer"
  | "boolean"
  | "list_of_values"
  | "dictionary"
  | "roboflow_model_id"
  | "zone"
  | "point"
  | "parent_id"
  | "prediction_type"
  | "inference_id"
  | "video_metadata"
  | "image_metadata"
  | "numpy_array"
  | "rgb_color"
  | "top_class"
  | "language_model_output"
  | "bytes";

/** Static values an input accepts when it is not a selector. */
export type StaticType = "number" | "integer" | "string" | "boolean" | "string[]" | "number[]" | "enum" | "object" | "array" | "any" | "none";

export interface InputSpec {
  /** Kinds accepted from a selector; empty when the input takes static values only. */
  kinds: readonly Kind[];
  /** Static value form; "none" when only a selector is accepted. */
  static: StaticType;
  values?: readonly (string | number)[];
  min?: number;
  max?: number;
  default?: unknown;
  /** Must be given (no default). */
  required?: boolean;
  /** Per-image (or per-crop) data rather than a setting; batched inputs set the step's dimensionality. */
  batch?: boolean;
  /** Other names the reference accepted for this field in older definitions. */
  aliases?: readonly string[];
  /** A `model_id`: resolved against the model registry at compile time. */
  model?: { families: readonly ModelInfo["family"][] };
  /** Further checks of a static value (an operation list, a condition): problems with their JSON paths. */
  check?: (value: unknown, path: string) => { path: string; message: string }[];
  /** A list of `$steps.<name>` this flow-control step decides about (they run only where it says so). */
  gates?: boolean;
}

export interface OutputSpec {
  kinds: readonly Kind[];
  /** The output's kinds are those of this input (filters and transforms keep what they are given). */
  sameKindAs?: string;
}

export interface BlockManifest {
  /** Every accepted `type`, current id first (with and without `roboflow_core/`, and older aliases). */
  types: readonly string[];
  description: string;
  inputs: Record<string, InputSpec>;
  outputs: Record<string, OutputSpec>;
  /**
   * +1: the block returns a list per input (crops, slices), so its outputs are one level deeper;
   * -1: the block receives the list of values of `collapses` (one level deeper than the step) at once.
   */
  dimensionality?: { offset: 1 } | { offset: -1; collapses: string };
  /** Run once with all the step's inputs of an image (e.g. a model over all crops: one batched run). */
  batched?: boolean;
  /**
   * A flow-control block: its run returns `{ [CONTINUE]: boolean }`, and the steps named by its `gates`
   * input run only where that is true.
   */
  flowControl?: boolean;
}

/** The output key through which a flow-control block answers whether its gated steps run. */
export const CONTINUE = "__continue";

/** What a block gets besides its inputs. */
export interface BlockContext {
  runtime: ModelRuntime;
  model(modelId: string): Promise<ResolvedModel>;
  /** The built-in OCR engine, created on first use. */
  ocr(): Promise<import("../models/ppocr.ts").OcrEngine>;
  /** A fresh id for crops and detections. */
  newId(): string;
  /** Name of the step being run, for error messages. */
  step: string;
  /**
   * The frame facts of the image being run: those of its video frame, or, for a still image, a video of
   * one frame named by the image (frame 0), as the reference treats it.
   */
  frame(): FrameMetadata;
  /**
   * State this step keeps across the frames of one video (a tracker, a counter): created by `create` on the
   * video's first frame, then the same object for every later frame of that video, until the engine is
   * told the video ended (`Engine.endVideo`). Keyed by step and `video_identifier`; a still image gets a
   * fresh state each run unless two runs share its id.
   */
  videoState<T>(create: () => T): T;
}

export type StepInputs = Record<string, unknown>;
export type StepOutputs = Record<string, unknown>;

export interface Block {
  manifest: BlockManifest;
  /**
   * For non-batched blocks: one call per image (or crop) with that index's inputs. For batched blocks:
   * `inputs` holds one StepInputs per index and the result one StepOutputs per index. For +1 blocks each
   * output value is a list (one entry per produced item).
   */
  run(inputs: StepInputs, ctx: BlockContext): Promise<StepOutputs>;
  runBatch?(inputs: StepInputs[], ctx: BlockContext): Promise<StepOutputs[]>;
}
