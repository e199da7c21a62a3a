import type { ErrorBody } from "../../core/errors.ts";
import type { ResolvedModel } from "../models/types.ts";

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
  image: { name: string; path?: string; bytes?: Uint8Array };
  params: Record<string, unknown>;
  /** Folder for the image outputs of this image (JPEG files); image outputs are dropped when absent. */
  imageDir?: string;
  /** Only these image outputs are saved (all when absent or empty). */
  imageOutputs?: string[];
  /** Put in front of the saved files' names in the results (e.g. the input's name). */
  imagePrefix?: string;
}

export type ToWorker =
  | WorkerInit
  /** A test hook: the worker throws from its event loop, as an engine bug would. */
  | { type: "crash" }
  | ({ type: "run"; id: number; includeDefinition: boolean } & Omit<RunRequest, "definition"> & { definition?: unknown });

export interface RunResult {
  /** The workflow's outputs as JSON (image outputs replaced by their file paths). */
  outputs: Record<string, unknown>;
  /** Image files written, relative to imageDir. */
  images: string[];
  ms: number;
}

export type FromWorker =
  | { type: "ready"; provider: { selected: "cuda" | "cpu"; reason: string } }
  | ({ type: "result"; id: number } & RunResult)
  | { type: "error"; id: number; error: ErrorBody["error"] & { status: number } };
