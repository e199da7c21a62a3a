/**
 * An engine worker thread: one Engine (its own inference sessions, one onnxruntime thread by default)
 * running workflows on the images the pool sends. A bad image is an error result, never a dead worker.
 */
import { mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { toAppError } from "../../core/errors.ts";
import { Engine } from "../engine.ts";
import type { ResolvedModel } from "../models/types.ts";
import { serializeOutputs } from "../workflow/serialize.ts";
import type { CompiledWorkflow } from "../workflow/types.ts";
import type { FromWorker, ToWorker } from "./protocol.ts";

declare const self: Worker;

let engine: Engine | undefined;
let lastCollection = performance.now();

/**
 * A full collection at most this often, after an image. Each image leaves megabytes of buffers behind
 * (decoded pixels, the model's input and output tensors) that the collector, left alone, frees late: the
 * resident size of a server with two workers wandered up to 400 MB on a stream of images. Forced, it
 * stays near 320 MB; a collection costs about 11 ms on a worker's small heap, about 1 % of a second's
 * work. See docs/benchmarks.md.
 */
const COLLECT_EVERY_MS = 1000;
let models: Record<string, ResolvedModel> = {};
const workflows = new Map<string, Promise<CompiledWorkflow>>();
const post = (m: FromWorker) => self.postMessage(m);

self.onmessage = async (event: MessageEvent<ToWorker>) => {
  const msg = event.data;
  if (msg.type === "init") {
    // Each worker is one of N: libvips gets one thread per worker, as onnxruntime does.
    sharp.concurrency(1);
    // Each image is read once: libvips's operation cache would only hold memory.
    sharp.cache(false);
    engine = new Engine(
      { resolve: async (id) => models[id], describe: () => "the models sent by the scheduler" },
      { machineType: msg.machineType, intraOpNumThreads: msg.intraOpNumThreads, maxImagePixels: msg.maxImagePixels },
    );
    const report = await engine.runtime.ready();
    post({ type: "ready", provider: { selected: report.selected, reason: report.reason } });
    return;
  }
  if (msg.type === "crash") {
    setTimeout(() => {
      throw new Error("engine worker crashed (test hook)");
    });
    return;
  }
  const started = performance.now();
  try {
    models = { ...models, ...msg.models };
    let wf = workflows.get(msg.workflowKey);
    if (!wf) {
      wf = engine!.compile(msg.definition);
      workflows.set(msg.workflowKey, wf);
    }
    const compiled = await wf;
    const bytes = msg.image.bytes ?? (await Bun.file(msg.image.path!).bytes());
    const image = await engine!.image(bytes, msg.image.name);
    const raw = await engine!.run(compiled, image, engine!.parameters(compiled, msg.params));
    const images: string[] = [];
    const outputs = await serializeOutputs(compiled, raw, {
      image: async (img, output, path) => {
        if (!msg.imageDir || (msg.imageOutputs?.length && !msg.imageOutputs.includes(output))) return null;
        const rel = path.length ? `${output}/${path.join("/")}.jpg` : `${output}.jpg`;
        const file = join(msg.imageDir, rel);
        mkdirSync(dirname(file), { recursive: true });
        const temp = `${file}.part-${process.pid}-${msg.id}`;
        await Bun.write(temp, await img.toJpeg(90));
        renameSync(temp, file);
        images.push(rel);
        return { type: "image", file: `${msg.imagePrefix ?? ""}${rel}`, width: img.width, height: img.height };
      },
    });
    post({ type: "result", id: msg.id, outputs, images, ms: performance.now() - started });
    if (performance.now() - lastCollection >= COLLECT_EVERY_MS) {
      Bun.gc(true);
      lastCollection = performance.now();
    }
  } catch (e) {
    const err = toAppError(e);
    post({ type: "error", id: msg.id, error: { code: err.code, message: err.message, status: err.status, ...(err.details ? { details: err.details } : {}) } });
  }
};
