import { availableParallelism } from "node:os";
import { AppError } from "../../core/errors.ts";
import { DEFAULT_MAX_PIXELS } from "../image/workflow-image.ts";
import type { FromWorker, RunRequest, RunResult, ToWorker } from "./protocol.ts";

/**
 * The worker's entry. In the compiled binary it is a second entry point of the build, found by its path
 * from the bundle's root (src/); in a checkout, beside this file.
 */
const WORKER_ENTRY = import.meta.url.includes("$bunfs") ? "./engine/parallel/worker.ts" : new URL("./worker.ts", import.meta.url).href;

export interface PoolOptions {
  /** Worker threads; one per core by default. */
  workers?: number;
  machineType?: "auto" | "cpu" | "gpu";
  /** onnxruntime threads per worker; 1 by default, since parallelism comes from the workers. */
  intraOpNumThreads?: number;
  maxImagePixels?: number;
  /** Images in flight per worker: the next one is decoded while the current one runs its models. */
  inFlight?: number;
}

interface Slot {
  worker: Worker;
  busy: number;
  seen: Set<string>;
  dead: boolean;
}

interface Pending {
  resolve(r: RunResult): void;
  reject(e: AppError): void;
  slot: Slot;
}

/**
 * Runs workflows on images across Worker threads, each with its own Engine and sessions. onnxruntime's
 * `run` holds the JavaScript thread of the worker calling it, so cores are used by running one worker per
 * core, not by overlapping calls in one thread.
 */
export class EnginePool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly queue: { req: RunRequest; resolve: Pending["resolve"]; reject: Pending["reject"] }[] = [];
  private nextId = 1;
  private closed = false;
  provider: { selected: "cuda" | "cpu"; reason: string } | undefined;

  private constructor(private readonly inFlight: number) {}

  static async start(opts: PoolOptions = {}): Promise<EnginePool> {
    const pool = new EnginePool(opts.inFlight ?? 2);
    const count = opts.workers ?? availableParallelism();
    const init: ToWorker = {
      type: "init",
      machineType: opts.machineType ?? "auto",
      intraOpNumThreads: opts.intraOpNumThreads ?? 1,
      maxImagePixels: opts.maxImagePixels ?? DEFAULT_MAX_PIXELS,
    };
    await Promise.all(Array.from({ length: count }, () => pool.spawn(init)));
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  /** Runs one image; rejects with the image's error (decode, model, step) as an AppError. */
  run(req: RunRequest): Promise<RunResult> {
    if (this.closed) return Promise.reject(new AppError("POOL_CLOSED", "The engine pool was closed", 503));
    return new Promise((resolve, reject) => {
      this.queue.push({ req, resolve, reject });
      this.dispatch();
    });
  }

  /**
   * Stops the workers. Images queued here are refused at once; those already in a worker are let finish
   * first (up to `waitMs`), because terminating a thread inside an onnxruntime call brings the whole
   * process down.
   */
  async close(waitMs = 10_000): Promise<void> {
    this.closed = true;
    for (const q of this.queue.splice(0)) q.reject(new AppError("POOL_CLOSED", "The engine pool was closed", 503));
    const end = Date.now() + waitMs;
    while (this.pending.size > 0 && Date.now() < end) await Bun.sleep(20);
    for (const s of this.slots) s.worker.terminate();
    for (const p of this.pending.values()) p.reject(new AppError("POOL_CLOSED", "The engine pool was closed", 503));
    this.pending.clear();
  }

  /**
   * Tells the workers to forget the state kept for a video. A video's frames must all go to one worker for
   * its state to hold: a pool of one worker (as each local worker has) guarantees it.
   */
  endVideo(videoIdentifier: string): void {
    for (const s of this.slots) if (!s.dead) s.worker.postMessage({ type: "endVideo", videoIdentifier } satisfies ToWorker);
  }

  /** A test hook: every worker throws from its event loop (between images), as an engine bug would. */
  crashForTest(): void {
    for (const s of this.slots) s.worker.postMessage({ type: "crash" } satisfies ToWorker);
  }

  private spawn(init: ToWorker): Promise<void> {
    // `smol`: a smaller heap collected more often; a worker's garbage is mostly image buffers.
    const worker = new Worker(WORKER_ENTRY, { smol: true } as WorkerOptions);
    const slot: Slot = { worker, busy: 0, seen: new Set(), dead: false };
    this.slots.push(slot);
    return new Promise((ready, fail) => {
      worker.onmessage = (event: MessageEvent<FromWorker>) => {
        const msg = event.data;
        if (msg.type === "ready") {
          this.provider ??= msg.provider;
          ready();
          return;
        }
        this.settle(slot, msg);
      };
      worker.onerror = (event) => {
        slot.dead = true;
        // Not inside an onnxruntime call (the error came from its event loop), so it can be stopped safely.
        worker.terminate();
        const err = new AppError("WORKER_CRASHED", `An engine worker stopped: ${event.message}`, 500);
        fail(err);
        for (const [id, p] of this.pending) if (p.slot === slot) (this.pending.delete(id), p.reject(err));
      };
      worker.postMessage(init);
    });
  }

  private settle(slot: Slot, msg: Exclude<FromWorker, { type: "ready" }>): void {
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    slot.busy--;
    if (msg.type === "result") p.resolve({ outputs: msg.outputs, images: msg.images, ms: msg.ms, ...(msg.pixels ? { pixels: msg.pixels } : {}) });
    else p.reject(new AppError(msg.error.code, msg.error.message, msg.error.status, msg.error.details));
    this.dispatch();
  }

  /** Sends queued images to the least busy live workers, up to `inFlight` each. */
  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.filter((s) => !s.dead && s.busy < this.inFlight).sort((a, b) => a.busy - b.busy)[0];
      if (!slot) {
        if (this.slots.every((s) => s.dead)) for (const q of this.queue.splice(0)) q.reject(new AppError("WORKER_CRASHED", "No engine worker is running", 500));
        return;
      }
      const { req, resolve, reject } = this.queue.shift()!;
      const id = this.nextId++;
      const includeDefinition = !slot.seen.has(req.workflowKey);
      slot.seen.add(req.workflowKey);
      slot.busy++;
      this.pending.set(id, { resolve, reject, slot });
      const { definition, ...rest } = req;
      const msg: ToWorker = { type: "run", id, includeDefinition, ...rest, ...(includeDefinition ? { definition } : {}) };
      slot.worker.postMessage(msg);
    }
  }
}
