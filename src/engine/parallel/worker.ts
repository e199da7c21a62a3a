/**
 * An engine worker thread: one Engine (its own inference sessions, one onnxruntime thread by default)
 * running workflows on the images the pool sends. A bad image is an error result, never a dead worker.
 */
import { mkdirSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import sharp from "sharp";
import { toAppError } from "../../core/errors.ts";
import { Engine } from "../engine.ts";
import { WorkflowImage } from "../image/workflow-image.ts";
import type { ResolvedModel } from "../models/types.ts";
import { serializeOutputs } from "../workflow/serialize.ts";
import type { CompiledWorkflow } from "../workflow/types.ts";
import type { FromWorker, RawPixels, ToWorker } from "./protocol.ts";

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
  if (msg.type === "endVideo") {
    engine?.endVideo(msg.videoIdentifier);
    return;
  }
  // The frames of a video run one after another, in the order sent: stateful steps (trackers,
  // counters) must see frame n before frame n+1. Other images run as they come.
  const video = msg.image.video?.video_identifier;
  if (video === undefined) return runImage(msg);
  const previous = videoQueues.get(video) ?? Promise.resolve();
  const mine = previous.then(() => runImage(msg));
  videoQueues.set(video, mine);
  await mine;
  if (videoQueues.get(video) === mine) videoQueues.delete(video);
};

/** The last run queued for each video being processed. */
const videoQueues = new Map<string, Promise<void>>();

async function runImage(msg: Extract<ToWorker, { type: "run" }>): Promise<void> {
  const started = performance.now();
  try {
    models = { ...models, ...msg.models };
    let wf = workflows.get(msg.workflowKey);
    if (!wf) {
      wf = engine!.compile(msg.definition);
      workflows.set(msg.workflowKey, wf);
    }
    const compiled = await wf;
    const image = msg.image.raw
      ? WorkflowImage.fromRaw({ ...msg.image.raw, channels: 3 }, msg.image.name, msg.image.video)
      : await engine!.image(msg.image.bytes ?? (await Bun.file(msg.image.path!).bytes()), msg.image.name);
    const raw = await engine!.run(compiled, image, engine!.parameters(compiled, msg.params));
    const images: string[] = [];
    const pixels: Record<string, RawPixels> = {};
    const outputs = await serializeOutputs(compiled, raw, {
      image: async (img, output, path) => {
        if (msg.returnPixels) {
          if (path.length || (msg.imageOutputs?.length && !msg.imageOutputs.includes(output))) return null;
          const rgb = await img.rgb();
          pixels[output] = { data: rgb.data, width: rgb.width, height: rgb.height };
          return { type: "video", file: `${msg.imagePrefix ?? ""}${output}.mp4` };
        }
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
    post({ type: "result", id: msg.id, outputs, images, ...(msg.returnPixels ? { pixels } : {}), ms: performance.now() - started });
    if (performance.now() - lastCollection >= COLLECT_EVERY_MS) {
      Bun.gc(true);
      lastCollection = performance.now();
    }
  } catch (e) {
    const err = toAppError(e);
    post({ type: "error", id: msg.id, error: { code: err.code, message: err.message, status: err.status, ...(err.details ? { details: err.details } : {}) } });
  }
}
