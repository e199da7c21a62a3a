import * as ort from "onnxruntime-node";
import { AppError } from "../../core/errors.ts";
import { detectProviders, type ProviderReport } from "../providers.ts";
import type { ResolvedModel } from "./types.ts";

export type MachineType = "auto" | "cpu" | "gpu";

export interface SessionPoolOptions {
  /** Threads one `run` may use; onnxruntime's default (all cores) when unset. */
  intraOpNumThreads?: number;
  machineType?: MachineType;
}

/** One output of one image: the tensor's dims without the batch axis, and a view of that image's values. */
export interface OutputView {
  dims: readonly number[];
  data: Float32Array;
}

export type ImageOutputs = Record<string, OutputView>;

/** Largest batch handed to one `run` when the model's batch axis is dynamic. */
export const MAX_BATCH = 8;

/**
 * The inference sessions of one worker: one per model, created on first use and reused. The execution
 * provider is chosen once, when the pool is made; if a CUDA session cannot be created after all (e.g. the
 * CUDA runtime libraries are missing) the pool falls back to CPU for good and says why.
 */
export class SessionPool {
  private readonly sessions = new Map<string, Promise<ort.InferenceSession>>();
  private readonly detection: Promise<ProviderReport>;
  private report: ProviderReport | undefined;

  constructor(private readonly opts: SessionPoolOptions = {}) {
    this.detection = detectProviders(opts.machineType ?? "auto").then((r) => (this.report = r));
  }

  /** The full provider report (bundled providers, CUDA status) once detection has run. */
  async ready(): Promise<ProviderReport> {
    await this.detection;
    return this.report!;
  }

  provider(): { selected: "cuda" | "cpu"; reason: string } {
    if (!this.report) return { selected: "cpu", reason: "execution provider not chosen yet" };
    return { selected: this.report.selected, reason: this.report.reason };
  }

  /** The model's session, created once per pool (keyed by the file's sha256, else its path). */
  session(model: ResolvedModel): Promise<ort.InferenceSession> {
    const key = model.info.sha256 || model.path;
    let s = this.sessions.get(key);
    if (!s) {
      s = this.create(model);
      this.sessions.set(key, s);
      // A failed load is not cached, so a replaced file can be tried again.
      s.catch(() => this.sessions.delete(key));
    }
    return s;
  }

  /**
   * Runs the model over `count` images stored one after another in `input` (NCHW float32). Models with a
   * dynamic batch axis get up to MAX_BATCH images per run; others one run per image.
   */
  async run(model: ResolvedModel, input: Float32Array, count: number): Promise<ImageOutputs[]> {
    const session = await this.session(model);
    const { name, width, height, dynamicBatch } = model.info.input;
    const perImage = 3 * width * height;
    const step = dynamicBatch ? MAX_BATCH : 1;
    const results: ImageOutputs[] = [];
    for (let first = 0; first < count; first += step) {
      const n = Math.min(step, count - first);
      const tensor = new ort.Tensor("float32", input.subarray(first * perImage, (first + n) * perImage), [n, 3, height, width]);
      const out = await runSession(session, model, { [name]: tensor });
      for (let i = 0; i < n; i++) results.push(imageViews(model, out, i, n));
    }
    return results;
  }

  async release(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.then((x) => x.release()).catch(() => undefined)));
  }

  private async create(model: ResolvedModel): Promise<ort.InferenceSession> {
    const report = await this.ready();
    const options: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: "all",
      executionMode: "sequential",
      interOpNumThreads: 1,
      ...(this.opts.intraOpNumThreads ? { intraOpNumThreads: this.opts.intraOpNumThreads } : {}),
    };
    if (report.selected === "cuda") {
      try {
        return await ort.InferenceSession.create(model.path, { ...options, executionProviders: ["cuda", "cpu"] });
      } catch (e) {
        this.report = { ...report, selected: "cpu", reason: `CUDA session failed (${(e as Error).message}); using CPU` };
      }
    }
    try {
      return await ort.InferenceSession.create(model.path, { ...options, executionProviders: ["cpu"] });
    } catch (e) {
      throw new AppError("MODEL_LOAD_FAILED", `Model '${model.info.modelId}' (${model.path}) cannot be loaded: ${(e as Error).message}`, 422, {
        modelId: model.info.modelId,
        path: model.path,
      });
    }
  }
}

async function runSession(session: ort.InferenceSession, model: ResolvedModel, feeds: Record<string, ort.Tensor>) {
  try {
    return await session.run(feeds);
  } catch (e) {
    throw new AppError("MODEL_RUN_FAILED", `Model '${model.info.modelId}' failed to run: ${(e as Error).message}`, 500, { modelId: model.info.modelId });
  }
}

/** Per-image views into batched outputs (no copies). */
function imageViews(model: ResolvedModel, out: ort.InferenceSession.ReturnType, index: number, batch: number): ImageOutputs {
  const views: ImageOutputs = {};
  for (const [name, value] of Object.entries(out)) {
    const data = value.data;
    if (!(data instanceof Float32Array))
      throw new AppError("MODEL_OUTPUT_UNSUPPORTED", `Model '${model.info.modelId}' output '${name}' is ${value.type}; float32 is needed`, 422, {
        modelId: model.info.modelId,
      });
    const size = data.length / batch;
    views[name] = { dims: value.dims.slice(1), data: data.subarray(index * size, (index + 1) * size) };
  }
  return views;
}
