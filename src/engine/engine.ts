import { BLOCKS } from "./blocks/registry.ts";
import type { Block } from "./blocks/types.ts";
import { DEFAULT_MAX_PIXELS, WorkflowImage } from "./image/workflow-image.ts";
import { createOcrEngine, type OcrEngine } from "./models/ppocr.ts";
import { ModelRuntime } from "./models/runtime.ts";
import type { MachineType } from "./models/sessions.ts";
import type { ModelResolver } from "./models/types.ts";
import { compileWorkflow } from "./workflow/compile.ts";
import { resolveParameters, runWorkflow } from "./workflow/executor.ts";
import type { Nested } from "./workflow/nested.ts";
import type { CompiledWorkflow } from "./workflow/types.ts";

export interface EngineOptions {
  machineType?: MachineType;
  /** Threads per inference session; onnxruntime's default (all cores) when unset. */
  intraOpNumThreads?: number;
  /** Largest image accepted, in pixels (decompression-bomb guard). */
  maxImagePixels?: number;
  blocks?: readonly Block[];
}

/** Checks and compiles a workflow definition, resolving its model ids; no sessions are created. */
export function compileDefinition(definition: unknown, models: ModelResolver, blocks: readonly Block[] = BLOCKS): Promise<CompiledWorkflow> {
  return compileWorkflow(definition, {
    blocks,
    resolveModel: async (id) => (await models.resolve(id))?.info,
    modelSource: models.describe(),
  });
}

/**
 * The engine as its users see it: compile a workflow, run it on images. One Engine holds one set of
 * inference sessions (one per model, created on first use), so a worker makes one and keeps it. It knows
 * nothing of jobs or batches.
 */
export class Engine {
  readonly runtime: ModelRuntime;
  private ocrEngine: Promise<OcrEngine> | undefined;
  private readonly blocks: readonly Block[];
  /** State of stateful steps (trackers, counters, zones) per video being processed. */
  private readonly videoStates = new Map<string, Map<string, unknown>>();

  constructor(
    readonly models: ModelResolver,
    private readonly opts: EngineOptions = {},
  ) {
    this.runtime = new ModelRuntime({ machineType: opts.machineType, intraOpNumThreads: opts.intraOpNumThreads });
    this.blocks = opts.blocks ?? BLOCKS;
  }

  compile(definition: unknown): Promise<CompiledWorkflow> {
    return compileDefinition(definition, this.models, this.blocks);
  }

  /** Parameters for a run: defaults merged with `given`, each checked against the fields it feeds. */
  parameters(wf: CompiledWorkflow, given?: Record<string, unknown>): Record<string, unknown> {
    return resolveParameters(wf, given);
  }

  /** An encoded image (JPEG, PNG, ...) checked for format and size; its pixels are decoded when needed. */
  image(bytes: Uint8Array, id: string): Promise<WorkflowImage> {
    return WorkflowImage.fromEncoded(bytes, id, { maxPixels: this.opts.maxImagePixels ?? DEFAULT_MAX_PIXELS });
  }

  /**
   * Runs the workflow on an image. A frame of a video (`image.videoMetadata`) sees the state its stateful
   * steps kept from the video's earlier frames; a still image is a video of one frame, whose state goes
   * with the run.
   */
  async run(wf: CompiledWorkflow, image: WorkflowImage, params: Record<string, unknown>): Promise<Record<string, Nested>> {
    try {
      return await runWorkflow(wf, image, params, {
        runtime: this.runtime,
        models: this.models,
        ocr: () => (this.ocrEngine ??= createOcrEngine({ intraOpNumThreads: this.opts.intraOpNumThreads })),
        videoStates: this.videoStates,
      });
    } finally {
      if (!image.videoMetadata) this.videoStates.delete(image.id);
    }
  }

  /** Forgets the state the workflow's steps kept for a video (its last frame was run, or its task ended). */
  endVideo(videoIdentifier: string): void {
    this.videoStates.delete(videoIdentifier);
  }

  async release(): Promise<void> {
    await this.runtime.release();
    if (this.ocrEngine) await (await this.ocrEngine).release();
  }
}
