import type { ErrorBody } from "../../core/errors.ts";
import type { ResolvedModel } from "../models/types.ts";
import type { FrameMetadata } from "../uql/types.ts";

/** Pixels sent as they are: 8-bit RGB, row-major. */
export interface RawPixels {
  data: Uint8Array;
  width: number;
  height: number;
}

/**
 * Messages between an EnginePool and its Worker threads. Models are resolved by the pool and sent along,
 * so a worker needs no access to the registry; a workflow is sent once per worker and then named by key.
 */
export interface WorkerInit {
  type: "init";
  machineType: "auto" | "cpu" | "gpu";
  intraOpNumThreads: number;
  maxImagePixels: number;
}

export interface RunRequest {
  workflowKey: string;
  definition: unknown;
  models: Record<string, ResolvedModel>;
  /** An encoded file (by path or bytes), or a decoded video frame with its facts. */
  image: { name: string; path?: string; bytes?: Uint8Array; raw?: RawPixels; video?: FrameMetadata };
  params: Record<string, unknown>;
  /** Folder for the image outputs of this image (JPEG files); image outputs are dropped when absent. */
  imageDir?: string;
  /** Only these image outputs are saved (all when absent or empty). */
  imageOutputs?: string[];
  /** Put in front of the saved files' names in the results (e.g. the input's name). */
  imagePrefix?: string;
  /**
   * Video frames: the workflow's image outputs (those of `imageOutputs`, or all) come back as pixels, to be
   * encoded into a video, and stand in the results as `{type: "video", file: <imagePrefix><output>.mp4}`.
   */
  returnPixels?: boolean;
}

export type ToWorker =
  | WorkerInit
  /** A test hook: the worker throws from its event loop, as an engine bug would. */
  | { type: "crash" }
  /** Forget the state stateful steps kept for this video (sent before its first frame and after its last). */
  | { type: "endVideo"; videoIdentifier: string }
  | ({ type: "run"; id: number; includeDefinition: boolean } & Omit<RunRequest, "definition"> & { definition?: unknown });

export interface RunResult {
  /** The workflow's outputs as JSON (image outputs replaced by their file paths). */
  outputs: Record<string, unknown>;
  /** Image files written, relative to imageDir. */
  images: string[];
  /** With `returnPixels`: the image outputs' pixels by output name. */
  pixels?: Record<string, RawPixels>;
  ms: number;
}

export type FromWorker =
  | { type: "ready"; provider: { selected: "cuda" | "cpu"; reason: string } }
  | ({ type: "result"; id: number } & RunResult)
  | { type: "error"; id: number; error: ErrorBody["error"] & { status: number } };
