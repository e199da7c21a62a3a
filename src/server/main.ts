import { systemClock, type Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import { createLogger, type Logger } from "../core/log.ts";
import { VERSION } from "../core/version.ts";
import { sweep } from "../scheduler/sweeper.ts";
import { Staging } from "../storage/staging.ts";
import { SqliteStore } from "../storage/sqlite/sqlite-store.ts";
import { createApp } from "./app.ts";
import type { ServerContext } from "./context.ts";

export interface RunningServer {
  url: string;
  port: number;
  ctx: ServerContext;
  stop(): Promise<void>;
}

/** Opens the data dir and database, serves the API and runs the sweeper on a timer. */
export function startServer(config: Readonly<Config>, opts: { clock?: Clock; log?: Logger } = {}): RunningServer {
  const log = opts.log ?? createLogger(config.logLevel);
  const staging = new Staging(config.dataDir);
  staging.init();
  const store = new SqliteStore(staging.dbPath);
  const ctx: ServerContext = { config, store, staging, clock: opts.clock ?? systemClock, log };
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
      sweep(ctx, ctx.clock.now());
    } catch (e) {
      log.error("sweep failed", { error: (e as Error).message });
    }
  };
  runSweep();
  const timer = setInterval(runSweep, config.sweepIntervalS * 1000);
  const url = `http://${config.host.includes(":") ? `[${config.host}]` : config.host}:${server.port}`;
  log.info(`vbatch ${VERSION} serving on ${url}`, { dataDir: staging.root, auth: config.apiKey ? "api key" : "none" });
  return {
    url,
    port: server.port!,
    ctx,
    async stop() {
      clearInterval(timer);
      await server.stop(true);
      store.close();
    },
  };
}
