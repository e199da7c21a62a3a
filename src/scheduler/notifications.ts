import { createHmac, randomUUID } from "node:crypto";
import type { Clock } from "../core/clock.ts";
import type { Logger } from "../core/log.ts";
import { VERSION } from "../core/version.ts";
import type { EventBus } from "./events.ts";
import type { SchedulerEvent } from "./types.ts";

/** What the notifier needs to know about a job when one of its events happens. */
export interface NotifyTarget {
  notificationsUrl: string | null;
  notifyTasks: boolean;
  state: string;
  currentStage: string | null;
}

export type DeliverySeverity = "info" | "warn" | "error";

export interface WebhookNotifierDeps {
  events: Pick<EventBus, "on">;
  clock: Clock;
  log: Logger;
  /** Signs every body with HMAC-SHA256 when set. */
  secret?: string;
  /** Attempts per event, the first included. */
  maxAttempts: number;
  getJob(jobId: string): NotifyTarget | undefined;
  /** Each attempt's outcome, for the job's log. */
  onDelivery?(jobId: string, message: string, severity: DeliverySeverity): void;
  /** Wait before attempt `attempt + 1` after attempt `attempt` failed (default: 1 s, 2 s, 4 s … up to 60 s). */
  backoffMs?(attempt: number): number;
  /** Time limit of one attempt (default 10 s). */
  timeoutMs?: number;
}

export type WebhookEventName = "job.state" | "task.succeeded" | "task.failed";

/** The body a receiver gets; `delivery_attempt` and `sent_at` change between attempts, the rest does not. */
export interface WebhookPayload {
  event_id: string;
  event: WebhookEventName;
  job_id: string;
  state: string;
  stage: string | null;
  task_id?: string;
  error?: string;
  delivery_attempt: number;
  sent_at: string;
}

type Delivery = { url: string; payload: Omit<WebhookPayload, "delivery_attempt" | "sent_at"> };
type AttemptResult = { ok: true; status: number } | { ok: false; why: string };

export const SIGNATURE_HEADER = "X-Vbatch-Signature";
export const EVENT_ID_HEADER = "X-Vbatch-Event-Id";

export const defaultBackoffMs = (attempt: number) => Math.min(1000 * 2 ** (attempt - 1), 60_000);

/** `sha256=<hex>`: HMAC-SHA256 of the exact body bytes, as sent in the signature header. */
export const signBody = (secret: string, body: string) => "sha256=" + createHmac("sha256", secret).update(body).digest("hex");

/**
 * POSTs job events to each job's notifications URL. Listening never blocks the scheduler: an event is turned
 * into a delivery at once and queued; each job has its own queue, delivered in order, so a receiver that hangs
 * or fails only delays that job's later notifications.
 */
export class WebhookNotifier {
  private readonly queues = new Map<string, Delivery[]>();
  private readonly draining = new Set<Promise<void>>();
  private readonly stop = new AbortController();
  private readonly unsubscribes: (() => void)[];

  constructor(private readonly deps: WebhookNotifierDeps) {
    const handle = (e: SchedulerEvent) => this.handle(e);
    this.unsubscribes = (["job:state", "task:succeeded", "task:failed"] as const).map((type) => deps.events.on(type, handle));
  }

  /** Stops listening, drops queued deliveries and cuts retries short; resolves when nothing runs any more. */
  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribes) unsubscribe();
    this.stop.abort();
    await Promise.all(this.draining);
  }

  private handle(e: SchedulerEvent): void {
    if (this.stop.signal.aborted) return;
    try {
      const delivery = this.toDelivery(e);
      if (delivery) this.enqueue(delivery);
    } catch (err) {
      this.deps.log.error("webhook: could not queue a notification", { event: e.type, message: (err as Error).message });
    }
  }

  private toDelivery(e: SchedulerEvent): Delivery | undefined {
    if (e.type !== "job:state" && e.type !== "task:succeeded" && e.type !== "task:failed") return undefined;
    const job = this.deps.getJob(e.jobId);
    if (!job?.notificationsUrl) return undefined;
    const base = { event_id: randomUUID(), job_id: e.jobId };
    if (e.type === "job:state")
      return { url: job.notificationsUrl, payload: { ...base, event: "job.state", state: e.state, stage: e.stage, ...(e.error ? { error: e.error } : {}) } };
    // A failed attempt that will be retried is not news to the receiver: only a task's final outcome is.
    if (!job.notifyTasks || (e.type === "task:failed" && !e.final)) return undefined;
    const task = { ...base, state: job.state, stage: job.currentStage, task_id: e.taskId };
    if (e.type === "task:succeeded") return { url: job.notificationsUrl, payload: { ...task, event: "task.succeeded" } };
    return { url: job.notificationsUrl, payload: { ...task, event: "task.failed", error: e.error } };
  }

  private enqueue(delivery: Delivery): void {
    const jobId = delivery.payload.job_id;
    const queue = this.queues.get(jobId);
    if (queue) {
      queue.push(delivery);
      return;
    }
    this.queues.set(jobId, [delivery]);
    const run = this.drain(jobId);
    this.draining.add(run);
    void run.finally(() => this.draining.delete(run));
  }

  private async drain(jobId: string): Promise<void> {
    const queue = this.queues.get(jobId)!;
    while (queue.length && !this.stop.signal.aborted) {
      await this.deliver(queue[0]!);
      queue.shift();
    }
    this.queues.delete(jobId);
  }

  /** All attempts of one event: same event id, increasing delivery_attempt, back-off in between. */
  private async deliver({ url, payload }: Delivery): Promise<void> {
    const where = redact(url);
    const what = `webhook ${payload.event}${payload.task_id ? ` (task ${payload.task_id})` : ` (${payload.state})`}`;
    if (!/^https?:\/\//i.test(url)) return this.report(payload.job_id, `${what} not sent: the notifications URL is not http(s)`, "error");
    for (let attempt = 1; attempt <= this.deps.maxAttempts; attempt++) {
      const result = await this.attempt(url, { ...payload, delivery_attempt: attempt, sent_at: new Date(this.deps.clock.now()).toISOString() });
      if (this.stop.signal.aborted) return;
      if (result.ok) return this.report(payload.job_id, `${what} delivered to ${where} (attempt ${attempt}, HTTP ${result.status})`, "info");
      if (attempt === this.deps.maxAttempts)
        return this.report(payload.job_id, `${what} to ${where} given up after ${attempt} attempts: ${result.why}`, "error");
      const waitMs = (this.deps.backoffMs ?? defaultBackoffMs)(attempt);
      this.report(payload.job_id, `${what} to ${where} failed (attempt ${attempt} of ${this.deps.maxAttempts}): ${result.why}; retrying in ${waitMs / 1000} s`, "warn");
      await sleep(waitMs, this.stop.signal);
    }
  }

  private async attempt(url: string, payload: WebhookPayload): Promise<AttemptResult> {
    const body = JSON.stringify(payload);
    const headers: Record<string, string> = {
      "Content-Type": "application/json",
      "User-Agent": `vbatch/${VERSION}`,
      [EVENT_ID_HEADER]: payload.event_id,
    };
    if (this.deps.secret) headers[SIGNATURE_HEADER] = signBody(this.deps.secret, body);
    const signal = AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.deps.timeoutMs ?? 10_000)]);
    try {
      // Redirects are answers, not destinations: following them would let a receiver point the server elsewhere.
      const res = await fetch(url, { method: "POST", headers, body, signal, redirect: "manual" });
      await res.body?.cancel();
      return res.ok ? { ok: true, status: res.status } : { ok: false, why: `HTTP ${res.status}` };
    } catch (err) {
      const e = err as Error;
      return { ok: false, why: e.name === "TimeoutError" ? `no answer within ${(this.deps.timeoutMs ?? 10_000) / 1000} s` : e.message };
    }
  }

  private report(jobId: string, message: string, severity: DeliverySeverity): void {
    // The job's log is where outcomes belong; the server log only keeps the troubles.
    this.deps.log[severity === "info" ? "debug" : severity](message, { jobId });
    try {
      this.deps.onDelivery?.(jobId, message, severity);
    } catch (err) {
      this.deps.log.error("webhook: delivery report failed", { jobId, message: (err as Error).message });
    }
  }
}

/** The URL without query string or credentials, which may hold tokens that do not belong in logs. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return u.origin + u.pathname;
  } catch {
    return "(invalid URL)";
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
