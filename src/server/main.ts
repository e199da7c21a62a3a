import { systemClock, type Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { VERSION } from "../core/version.ts";
import { EventBus } from "../scheduler/events.ts";
import { LocalWorkers } from "../scheduler/local-workers.ts";
import { WebhookNotifier } from "../scheduler/notifications.ts";
import { Scheduler } from "../scheduler/scheduler.ts";
import { Staging } from "../storage/staging.ts";
import { SqliteStore } from "../storage/sqlite/sqlite-store.ts";
import { createApp } from "./app.ts";
import type { ServerContext } from "./context.ts";

export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  workers: LocalWorkers | undefined;
  stop(): Promise<void>;
}

/** The data dir, database, event bus and scheduler: what the HTTP app and the workers share. */
export function createServerContext(config: Readonly<Config>, opts: { clock?: Clock; log?: Logger } = {}): ServerContext {
  const log = opts.log ?? createLogger(config.logLevel);
  const staging = new Staging(config.dataDir);
  staging.init();
  const store = new SqliteStore(staging.dbPath);
  const clock = opts.clock ?? systemClock;
  const events = new EventBus(log);
  const scheduler = new Scheduler({ store, staging, clock, config, log, events });
  return { config, store, staging, clock, log, events, scheduler };
}

/**
 * Serves the API, starts `config.workers` local workers (0: none, as for an API-only server), the webhook
 * notifier, and the sweep on a timer. A sweep runs at start so that a restarted server takes up the work
 * of the one before it at once (leases of dead workers expire and are queued again).
 */
export async function startServer(config: Readonly<Config>, opts: { clock?: Clock; log?: Logger; workers?: number } = {}): Promise<RunningServer> {
  const ctx = createServerContext(config, opts);
  const { log, scheduler, store, events, clock } = ctx;
  const notifier = new WebhookNotifier({
    events,
    clock,
    log,
    ...(config.webhookSecret ? { secret: config.webhookSecret } : {}),
    maxAttempts: config.webhookMaxAttempts,
    getJob: (jobId) => {
      const job = store.getJob(jobId);
      return job && { notificationsUrl: job.options.notificationsUrl, notifyTasks: job.options.notifyTasks, state: job.state, currentStage: job.currentStage };
    },
    onDelivery: (jobId, message, severity) => store.addJobLog({ jobId, taskId: null, severity, message, atMs: clock.now() }),
  });
  const count = opts.workers ?? config.workers;
  let provider: string | null = null;
  const workers =
    count > 0
      ? new LocalWorkers(
          { tasks: scheduler, store, staging: ctx.staging, events, log, leaseSeconds: config.leaseSeconds, archiveMaxBytes: config.archiveMaxMb * 1048576, ffmpegPath: config.ffmpegPath },
          { count, machineType: config.machineType, ownerPrefix: `local:${process.pid}:` },
        )
      : undefined;
  ctx.provider = () => provider;
  ctx.localWorkers = () => (workers ? count : 0);
  const app = createApp(ctx);
  const server = Bun.serve({
    hostname: config.host,
    port: config.port,
    fetch: (request) => app.handle(request),
    // Uploads are streamed to disk, so the body size is bounded per file by the batch writer, not here.
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    // Reference fetches and large archives can keep a request quiet for long; never cut it.
    idleTimeout: 0,
  });
  const runSweep = () => {
    try {
      scheduler.sweep(clock.now());
    } catch (e) {
      log.error("sweep failed", { error: (e as Error).message });
    }
  };
  runSweep();
  const timer = setInterval(runSweep, config.sweepIntervalS * 1000);
  if (workers) {
    const p = await workers.start();
    provider = p ? `${p.selected.toUpperCase()}: ${p.reason}` : null;
    log.info(`${count} local worker(s) started`, { machineType: workers.machineType, provider });
  }
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`;
  log.info(`vbatch ${VERSION} serving on ${url}`, { dataDir: ctx.staging.root, auth: config.apiKey ? "api key" : "none" });
  return {
    url,
    port: server.port!,
    ctx,
    workers,
    async stop() {
      clearInterval(timer);
      await workers?.stop();
      await notifier.close();
      await server.stop(true);
      store.close();
    },
  };
}
