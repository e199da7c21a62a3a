import type { Logger } from "../core/log.ts";
import type { SchedulerEvent } from "./types.ts";

export type SchedulerEventType = SchedulerEvent["type"];
/** The event a listener of `T` receives: that type's event, or any event for "*". */
export type EventFor<T extends SchedulerEventType | "*"> = T extends SchedulerEventType ? Extract<SchedulerEvent, { type: T }> : SchedulerEvent;
export type Listener<T extends SchedulerEventType | "*"> = (event: EventFor<T>) => unknown;

/**
 * The scheduler's typed event bus: SSE, webhooks, local workers, metrics and tests listen here. Delivery is
 * synchronous and each listener is shielded: one that throws (or returns a rejected promise) is logged and
 * the others, and the scheduler that emitted, go on.
 */
export class EventBus {
  private readonly listeners = new Set<{ type: SchedulerEventType | "*"; listener: (event: SchedulerEvent) => unknown }>();

  constructor(private readonly log: Logger) {}

  /** Listens to one event type, or to all with "*"; returns the function that stops listening. */
  on<T extends SchedulerEventType | "*">(type: T, listener: Listener<T>): () => void {
    const entry = { type, listener: listener as (event: SchedulerEvent) => unknown };
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  emit(event: SchedulerEvent): void {
    for (const entry of [...this.listeners]) {
      if (entry.type !== "*" && entry.type !== event.type) continue;
      try {
        const result = entry.listener(event);
        if (result instanceof Promise) result.catch((e: unknown) => this.failed(event, e));
      } catch (e) {
        this.failed(event, e);
      }
    }
  }

  private failed(event: SchedulerEvent, e: unknown): void {
    this.log.error("an event listener failed", { event: event.type, error: e instanceof Error ? e.message : String(e) });
  }
}
