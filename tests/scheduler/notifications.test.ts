import { afterEach, describe, expect, test } from "bun:test";
import { createHmac, timingSafeEqual } from "node:crypto";
import { manualClock } from "../../src/core/clock.ts";
import { silentLogger } from "../../src/core/log.ts";
import { VERSION } from "../../src/core/version.ts";
import { EventBus } from "../../src/scheduler/events.ts";
import { WebhookNotifier, type DeliverySeverity, type NotifyTarget, type WebhookNotifierDeps } from "../../src/scheduler/notifications.ts";
import type { SchedulerEvent } from "../../src/scheduler/types.ts";

interface Received {
  path: string;
  headers: Headers;
  body: string;
  json: any;
}

type Answer = (req: Request, n: number) => Response | Promise<Response>;

const HANG = () => new Promise<Response>(() => {});
const OK = () => new Response("ok");

/** A real HTTP receiver on a free port; `answer` decides the response to the n-th request (1-based) of a path. */
function receiver(answers: Record<string, Answer> = {}) {
  const received: Received[] = [];
  const server = Bun.serve({
    port: 0,
    idleTimeout: 30,
    async fetch(req) {
      const path = new URL(req.url).pathname;
      const body = await req.text();
      received.push({ path, headers: req.headers, body, json: JSON.parse(body) });
      const n = received.filter((r) => r.path === path).length;
      return (answers[path] ?? OK)(req, n);
    },
  });
  cleanups.push(() => server.stop(true));
  return { url: (path: string) => `http://127.0.0.1:${server.port}${path}`, received, of: (path: string) => received.filter((r) => r.path === path) };
}

const testBus = () => new EventBus(silentLogger);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

function setup(jobs: Record<string, Partial<NotifyTarget>>, opts: Partial<WebhookNotifierDeps> = {}) {
  const events = testBus();
  const reports: { jobId: string; message: string; severity: DeliverySeverity }[] = [];
  const notifier = new WebhookNotifier({
    events,
    clock: manualClock(),
    log: silentLogger,
    maxAttempts: 5,
    backoffMs: () => 20,
    timeoutMs: 300,
    getJob: (id) => (jobs[id] ? { notificationsUrl: null, notifyTasks: false, state: "running", currentStage: "processing", ...jobs[id] } : undefined),
    onDelivery: (jobId, message, severity) => reports.push({ jobId, message, severity }),
    ...opts,
  });
  cleanups.push(() => notifier.close());
  return { events, notifier, reports };
}

const jobState = (jobId: string, state: "running" | "succeeded" | "failed", error: string | null = null): SchedulerEvent => ({
  type: "job:state", jobId, state, stage: state === "running" ? "processing" : null, error, atMs: Date.UTC(2026, 0, 1),
});

describe("webhook notifications", () => {
  test("POSTs a signed JSON body; the signature verifies against the received bytes", async () => {
    const r = receiver();
    const { events, reports } = setup({ j1: { notificationsUrl: r.url("/hook?token=abc") } }, { secret: "s3cret" });
    events.emit(jobState("j1", "failed", "task 3 failed: boom"));
    await waitFor("the delivery", () => r.received.length === 1 && reports.length === 1);
    const [got] = r.received;
    expect(got!.headers.get("content-type")).toBe("application/json");
    expect(got!.headers.get("user-agent")).toBe(`vbatch/${VERSION}`);
    const expected = Buffer.from("sha256=" + createHmac("sha256", "s3cret").update(got!.body).digest("hex"));
    const signature = Buffer.from(got!.headers.get("x-vbatch-signature") ?? "");
    expect(signature.length === expected.length && timingSafeEqual(signature, expected)).toBe(true);
    expect(got!.headers.get("x-vbatch-event-id")).toBe(got!.json.event_id);
    expect(got!.json).toEqual({
      event_id: expect.stringMatching(/^[0-9a-f-]{36}$/), event: "job.state", job_id: "j1", state: "failed", stage: null,
      error: "task 3 failed: boom", delivery_attempt: 1, sent_at: "2026-01-01T00:00:00.000Z",
    });
    expect(reports[0]).toMatchObject({ jobId: "j1", severity: "info" });
    // The query string may carry a token: it stays out of the job's log.
    expect(reports[0]!.message).not.toContain("abc");
  });

  test("without a secret there is no signature header", async () => {
    const r = receiver();
    const { events } = setup({ j1: { notificationsUrl: r.url("/hook") } });
    events.emit(jobState("j1", "running"));
    await waitFor("the delivery", () => r.received.length === 1);
    expect(r.received[0]!.headers.get("x-vbatch-signature")).toBeNull();
    expect(r.received[0]!.headers.get("x-vbatch-event-id")).toBe(r.received[0]!.json.event_id);
  });

  test("retries after HTTP 500 with the same event id and an increasing attempt number", async () => {
    const r = receiver({ "/hook": (_req, n) => new Response("no", { status: n < 3 ? 500 : 204 }) });
    const { events, reports } = setup({ j1: { notificationsUrl: r.url("/hook") } }, { secret: "k" });
    events.emit(jobState("j1", "succeeded"));
    await waitFor("three attempts", () => reports.length === 3);
    expect(r.received.map((x) => x.json.delivery_attempt)).toEqual([1, 2, 3]);
    expect(new Set(r.received.map((x) => x.json.event_id)).size).toBe(1);
    // Each attempt is signed anew, since its body differs.
    for (const x of r.received) expect(x.headers.get("x-vbatch-signature")).toBe("sha256=" + createHmac("sha256", "k").update(x.body).digest("hex"));
    expect(reports.map((x) => x.severity)).toEqual(["warn", "warn", "info"]);
    expect(reports[0]!.message).toContain("HTTP 500");
  });

  test("a receiver that does not answer in time is retried", async () => {
    const r = receiver({ "/slow": (_req, n) => (n === 1 ? HANG() : OK()) });
    const { events, reports } = setup({ j1: { notificationsUrl: r.url("/slow") } }, { timeoutMs: 150 });
    events.emit(jobState("j1", "running"));
    await waitFor("the second attempt's success", () => reports.some((x) => x.severity === "info"));
    expect(r.received.map((x) => x.json.delivery_attempt)).toEqual([1, 2]);
    expect(r.received[0]!.json.event_id).toBe(r.received[1]!.json.event_id);
    expect(reports[0]).toMatchObject({ severity: "warn", message: expect.stringContaining("no answer within 0.15 s") });
  });

  test("gives up after maxAttempts and reports it", async () => {
    const r = receiver({ "/down": () => new Response("", { status: 503 }) });
    const { events, reports } = setup({ j1: { notificationsUrl: r.url("/down") } }, { maxAttempts: 3 });
    events.emit(jobState("j1", "running"));
    await waitFor("the give-up", () => reports.some((x) => x.severity === "error"));
    await Bun.sleep(100);
    expect(r.received).toHaveLength(3);
    expect(reports.map((x) => x.severity)).toEqual(["warn", "warn", "error"]);
    expect(reports[2]!.message).toContain("given up after 3 attempts: HTTP 503");
  });

  test("one job's events arrive in order; a hanging URL of another job delays nothing else", async () => {
    const r = receiver({ "/a": (_req, n) => (n === 1 ? new Response("", { status: 500 }) : OK()), "/b": HANG });
    const { events } = setup(
      { a: { notificationsUrl: r.url("/a"), notifyTasks: true }, b: { notificationsUrl: r.url("/b"), notifyTasks: true } },
      { timeoutMs: 5000 },
    );
    events.emit(jobState("b", "running"));
    events.emit(jobState("a", "running"));
    events.emit({ type: "task:succeeded", jobId: "a", taskId: "a-t1", atMs: 1 });
    events.emit({ type: "task:failed", jobId: "a", taskId: "a-t2", error: "bad model", final: true, atMs: 2 });
    events.emit({ type: "task:succeeded", jobId: "b", taskId: "b-t1", atMs: 3 });
    events.emit(jobState("a", "failed", "task a-t2 failed"));
    await waitFor("job a's four events, one of them twice", () => r.of("/a").length === 5, 2000);
    const delivered = r.of("/a").map((x) => `${x.json.event}:${x.json.task_id ?? x.json.state}:${x.json.delivery_attempt}`);
    expect(delivered).toEqual(["job.state:running:1", "job.state:running:2", "task.succeeded:a-t1:1", "task.failed:a-t2:1", "job.state:failed:1"]);
    expect(r.of("/a")[3]!.json).toMatchObject({ error: "bad model", state: "running", stage: "processing" });
    // Job b's first event still hangs, so its task event waits behind it.
    expect(r.of("/b")).toHaveLength(1);
  });

  test("task events only when the job asked for them and only final failures; jobs without a URL get nothing", async () => {
    const r = receiver();
    const { events } = setup({ quiet: { notificationsUrl: r.url("/q") }, loud: { notificationsUrl: r.url("/l"), notifyTasks: true }, none: {} });
    events.emit({ type: "task:succeeded", jobId: "quiet", taskId: "t1", atMs: 1 });
    events.emit({ type: "task:failed", jobId: "loud", taskId: "t2", error: "will retry", final: false, atMs: 1 });
    events.emit(jobState("none", "running"));
    events.emit({ type: "job:progress", jobId: "quiet", atMs: 2 });
    events.emit(jobState("quiet", "succeeded"));
    await waitFor("the job event", () => r.received.length === 1);
    await Bun.sleep(100);
    expect(r.received.map((x) => x.json.event)).toEqual(["job.state"]);
  });

  test("emit returns before any delivery, and a throwing listener elsewhere does not stop them", async () => {
    const r = receiver({ "/hook": HANG });
    const { events } = setup({ j1: { notificationsUrl: r.url("/hook") } }, { timeoutMs: 5000 });
    events.on("job:state", () => {
      throw new Error("a broken listener");
    });
    const started = performance.now();
    events.emit(jobState("j1", "running"));
    expect(performance.now() - started).toBeLessThan(50);
    expect(r.received).toHaveLength(0);
    await waitFor("the delivery despite the broken listener", () => r.received.length === 1);
  });

  test("close() stops retries", async () => {
    const r = receiver({ "/down": () => new Response("", { status: 500 }) });
    const { events, notifier } = setup({ j1: { notificationsUrl: r.url("/down") } }, { backoffMs: () => 60_000 });
    events.emit(jobState("j1", "running"));
    await waitFor("the first attempt", () => r.received.length === 1);
    const started = performance.now();
    await notifier.close();
    expect(performance.now() - started).toBeLessThan(1000);
    events.emit(jobState("j1", "succeeded"));
    await Bun.sleep(100);
    expect(r.received).toHaveLength(1);
  });
});
