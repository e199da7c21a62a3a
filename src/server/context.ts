import type { Clock } from "../core/clock.ts";
import type { Config } from "../core/config.ts";
import type { Logger } from "../core/log.ts";
import type { EventBus } from "../scheduler/events.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { Staging } from "../storage/staging.ts";
import type { Store } from "../storage/store.ts";

/** What every service gets: collaborators and the clock are passed in, never imported as singletons. */
export interface ServerContext {
  config: Readonly<Config>;
  store: Store;
  staging: Staging;
  clock: Clock;
  log: Logger;
  /** The scheduler's events, streamed by `GET /api/v1/events`. */
  events: EventBus;
  scheduler: Scheduler;
  /** Which execution provider the local workers use (CUDA or CPU, and why), once they have started. */
  provider?: () => string | null;
  /** How many local workers run. */
  localWorkers?: () => number;
}
