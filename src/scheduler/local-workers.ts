import { rmSync } from "node:fs";
import { join } from "node:path";
import { AppError, toAppError } from "../core/errors.ts";
import type { Logger } from "../core/log.ts";
import { EnginePool } from "../engine/parallel/pool.ts";
import type { Staging } from "../storage/staging.ts";
import type { Store } from "../storage/store.ts";
import type { EventBus } from "./events.ts";
import { runVideoTask } from "./video-task.ts";
import { runExportTask } from "./export-task.ts";
import { isRetryable } from "./retry.ts";
import { planOf, runProcessingTask, type JobPlan } from "./task-runner.ts";
import type { JobRecord, Lease, TaskResult } from "./types.ts";

/**
 * What a worker needs from the scheduler: the same calls a remote agent makes over HTTP, so local workers
 * are one transport among others, not a second scheduler.
 */
export interface TaskSource {
  lease(owner: string, machineType: "cpu" | "gpu", capacity: number): Lease[] | Promise<Lease[]>;
  heartbeat(owner: string, leases: { taskId: string; token: string; itemsDone: number; itemsFailed: number }[]): { lost: string[]; cancelled: string[] } | Promise<{ lost: string[]; cancelled: string[] }>;
  complete(taskId: string, token: string, result: TaskResult): unknown;
  fail(taskId: string, token: string, error: AppError, retryable?: boolean): unknown;
  getJob(jobId: string): JobRecord | undefined;
}

export interface LocalWorkerDeps {
  tasks: TaskSource;
  store: Store;
  staging: Staging;
  events: EventBus;
  log: Logger;
  leaseSeconds: number;
  archiveMaxBytes: number;
  /** The configured ffmpeg for video tasks (else the bundled one, else PATH's). */
  ffmpegPath?: string;
}

interface Running {
  lease: Lease;
  done: number;
  failed: number;
  stopped: boolean;
}

/**
 * The server's own workers: N loops, each with one engine thread (its own inference sessions), leasing one
 * task at a time. Heartbeats renew the leases every half lease and carry progress; a lease lost or a job
 * aborted stops the task at the next image, and its files are dropped.
 */
export class LocalWorkers {
  private readonly loops: WorkerLoop[] = [];
  private machine: "cpu" | "gpu" = "cpu";

  constructor(
    private readonly deps: LocalWorkerDeps,
    private readonly opts: { count: number; machineType: "auto" | "cpu" | "gpu"; ownerPrefix: string },
  ) {}

  async start(): Promise<{ selected: "cuda" | "cpu"; reason: string } | undefined> {
    const pools = await Promise.all(Array.from({ length: this.opts.count }, () => EnginePool.start({ workers: 1, machineType: this.opts.machineType, intraOpNumThreads: 1 })));
    const provider = pools[0]?.provider;
    this.machine = provider?.selected === "cuda" ? "gpu" : "cpu";
    pools.forEach((pool, i) => this.loops.push(new WorkerLoop(`${this.opts.ownerPrefix}${i + 1}`, pool, this.machine, this.deps)));
    for (const loop of this.loops) void loop.run();
    return provider;
  }

  get machineType(): "cpu" | "gpu" {
    return this.machine;
  }

  /** Stops leasing; tasks in progress are abandoned (their leases expire and they run again). */
  async stop(): Promise<void> {
    await Promise.all(this.loops.map((l) => l.stop()));
  }

  /** For tests: kills one worker's engine thread as a crash would. */
  crashEngineForTest(worker = 0): void {
    this.loops[worker]?.crash();
  }
}

class WorkerLoop {
  private running: Running | undefined;
  private alive = true;
  private wake: (() => void) | undefined;
  private readonly plans = new Map<string, JobPlan>();
  private readonly unsubscribe: () => void;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly owner: string,
    private pool: EnginePool,
    private readonly machine: "cpu" | "gpu",
    private readonly deps: LocalWorkerDeps,
  ) {
    // New work wakes idle workers at once (a job starts within a second), else they poll.
    this.unsubscribe = deps.events.on("*", (e) => {
      if (e.type === "job:created" || e.type === "task:requeued" || (e.type === "job:state" && e.state === "pending")) this.wake?.();
      if (e.type === "job:state" && (e.state === "aborted" || e.state === "failed") && this.running?.lease.jobId === e.jobId) this.running.stopped = true;
    });
  }

  async run(): Promise<void> {
    while (this.alive) {
      let leases: Lease[] = [];
      try {
        leases = await this.deps.tasks.lease(this.owner, this.machine, 1);
      } catch (e) {
        this.deps.log.error("leasing failed", { owner: this.owner, error: (e as Error).message });
      }
      if (leases.length === 0) {
        await this.idle(1000);
        continue;
      }
      await this.execute(leases[0]!);
    }
  }

  async stop(): Promise<void> {
    this.alive = false;
    this.unsubscribe();
    if (this.running) this.running.stopped = true;
    this.wake?.();
    clearInterval(this.heartbeatTimer);
    await this.pool.close();
  }

  crash(): void {
    this.pool.crashForTest();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async execute(lease: Lease): Promise<void> {
    const running: Running = { lease, done: 0, failed: 0, stopped: false };
    this.running = running;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(running), (this.deps.leaseSeconds * 1000) / 2);
    const workDir = join(this.deps.staging.tmpDir, `task-${lease.taskId.replace(/[^\w.-]/g, "_")}-${lease.token.slice(0, 8)}`);
    try {
      const job = this.deps.tasks.getJob(lease.jobId);
      if (!job) throw new AppError("JOB_NOT_FOUND", `Job '${lease.jobId}' of task ${lease.taskId} is gone`, 404);
      const result = await this.runTask(lease, job, workDir, running);
      if (result && !running.stopped) await this.deps.tasks.complete(lease.taskId, lease.token, result);
    } catch (e) {
      await this.failTask(lease, e, running);
    } finally {
      clearInterval(this.heartbeatTimer);
      this.running = undefined;
      rmSync(workDir, { recursive: true, force: true });
    }
  }

  private runTask(lease: Lease, job: JobRecord, workDir: string, running: Running): Promise<TaskResult | undefined> {
    const control = {
      progress: (done: number, failed: number) => ((running.done = done), (running.failed = failed)),
      stopped: () => running.stopped,
    };
    if (lease.stage === "export") return runExportTask(lease, job, { ...this.deps, workDir }, control);
    let plan = this.plans.get(job.jobId);
    if (!plan || this.plans.size > 16) this.plans.clear();
    plan ??= planOf(job);
    this.plans.set(job.jobId, plan);
    if (job.type === "videos") return runVideoTask(lease, job, plan, { pool: this.pool, staging: this.deps.staging, workDir, ffmpegPath: this.deps.ffmpegPath }, control);
    return runProcessingTask(lease, job, plan, { pool: this.pool, staging: this.deps.staging, workDir }, control);
  }

  private async failTask(lease: Lease, e: unknown, running: Running): Promise<void> {
    const err = toAppError(e);
    if (err.code === "WORKER_CRASHED" || err.code === "POOL_CLOSED") {
      // The engine thread died: this worker starts a fresh one; the task is retried (here or elsewhere).
      this.deps.log.warn("engine worker crashed; restarting it", { owner: this.owner, task: lease.taskId });
      this.pool = await EnginePool.start({ workers: 1, machineType: this.machine === "gpu" ? "gpu" : "cpu", intraOpNumThreads: 1 });
    }
    if (running.stopped) return;
    try {
      await this.deps.tasks.fail(lease.taskId, lease.token, err, isRetryable(err));
    } catch (failErr) {
      this.deps.log.warn("could not report a task failure", { task: lease.taskId, error: (failErr as Error).message });
    }
  }

  private async heartbeat(running: Running): Promise<void> {
    const { lease } = running;
    try {
      // Progress counts images done without failure apart from failed ones.
      const answer = await this.deps.tasks.heartbeat(this.owner, [{ taskId: lease.taskId, token: lease.token, itemsDone: running.done - running.failed, itemsFailed: running.failed }]);
      if (answer.lost.includes(lease.taskId) || answer.cancelled.includes(lease.taskId)) running.stopped = true;
    } catch (e) {
      this.deps.log.warn("heartbeat failed", { owner: this.owner, error: (e as Error).message });
    }
  }
}
