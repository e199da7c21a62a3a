import { afterEach, describe, expect, test } from "bun:test";
import { Elysia } from "elysia";
import { silentLogger } from "../../src/core/log.ts";
import { EventBus } from "../../src/scheduler/events.ts";
import type { SchedulerEvent } from "../../src/scheduler/types.ts";
import { createApp } from "../../src/server/app.ts";
import { eventRoutes } from "../../src/server/events/routes.ts";
import { call, testContext } from "../helpers.ts";

const testBus = () => new EventBus(silentLogger);

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A bus that also counts its subscriptions, to see the stream let go of it. */
function countingBus() {
  const bus = testBus();
  const subscribe = bus.on.bind(bus);
  let active = 0;
  const on: typeof bus.on = (type, listener) => {
    active++;
    const off = subscribe(type, listener);
    return () => {
      active--;
      off();
    };
  };
  return { bus: Object.assign(bus, { on }), active: () => active };
}

/** The real app on a free port, with a bus. */
function serve(overrides: { apiKey?: string } = {}) {
  const t = testContext(overrides);
  const { bus, active } = countingBus();
  const app = createApp({ ...t.ctx, events: bus });
  const server = Bun.serve({ port: 0, fetch: (req) => app.handle(req) });
  cleanups.push(() => server.stop(true));
  return { bus, active, base: `http://127.0.0.1:${server.port}`, app };
}

/** Reads an SSE body frame by frame (frames end with a blank line). */
function sseReader(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  return {
    async next(): Promise<string> {
      while (!buffer.includes("\n\n")) {
        const { value, done } = await reader.read();
        if (done) throw new Error("the stream ended");
        buffer += decoder.decode(value, { stream: true });
      }
      const at = buffer.indexOf("\n\n");
      const frame = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      return frame;
    },
    cancel: () => reader.cancel(),
  };
}

async function open(url: string, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const res = await fetch(url, { headers, signal: abort.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toStartWith("text/event-stream");
  const sse = sseReader(res.body!);
  // The first frame says the stream is open, and so subscribed.
  expect(await sse.next()).toBe(": connected");
  cleanups.push(() => abort.abort());
  return { sse, abort };
}

async function waitFor(what: string, check: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

const running: SchedulerEvent = { type: "job:state", jobId: "j1", state: "running", stage: "processing", error: null, atMs: 1 };
const leased: SchedulerEvent = { type: "task:leased", jobId: "j2", taskId: "j2-t1", owner: "local-0", atMs: 2 };
const done: SchedulerEvent = { type: "task:succeeded", jobId: "j1", taskId: "j1-t1", atMs: 3 };
const lost: SchedulerEvent = { type: "agent:lost", agentId: "a1", atMs: 4 };

const frame = (e: SchedulerEvent) => `event: ${e.type}\ndata: ${JSON.stringify(e)}`;

describe("events stream", () => {
  test("streams every event with its type as the event name and JSON data", async () => {
    const s = serve();
    const { sse } = await open(`${s.base}/api/v1/events`);
    for (const e of [running, leased, done, lost]) s.bus.emit(e);
    const frames = [await sse.next(), await sse.next(), await sse.next(), await sse.next()];
    expect(frames).toEqual([running, leased, done, lost].map(frame));
    expect(JSON.parse(frames[0]!.split("\ndata: ")[1]!)).toEqual(running);
  });

  test("?jobId= keeps that job's events only", async () => {
    const s = serve();
    const { sse } = await open(`${s.base}/api/v1/events?jobId=j1`);
    for (const e of [leased, lost, running, done]) s.bus.emit(e);
    expect([await sse.next(), await sse.next()]).toEqual([frame(running), frame(done)]);
  });

  test("a client that goes away is unsubscribed from the bus", async () => {
    const s = serve();
    const { abort } = await open(`${s.base}/api/v1/events`);
    expect(s.active()).toBe(1);
    abort.abort();
    await waitFor("the unsubscription", () => s.active() === 0);
    // Events after the client left go nowhere and break nothing.
    s.bus.emit(running);
  });

  test("the API key is required when set", async () => {
    const s = serve({ apiKey: "k1" });
    const denied = await fetch(`${s.base}/api/v1/events`);
    expect(denied.status).toBe(401);
    expect(((await denied.json()) as { error: { code: string } }).error.code).toBe("UNAUTHORIZED");
    expect(s.active()).toBe(0);
    const { sse } = await open(`${s.base}/api/v1/events`, { authorization: "Bearer k1" });
    s.bus.emit(running);
    expect(await sse.next()).toBe(frame(running));
    await open(`${s.base}/api/v1/events?api_key=k1&jobId=j1`);
    expect(s.active()).toBe(2);
  });

  test("a keep-alive comment comes while nothing happens", async () => {
    const t = testContext();
    const app = new Elysia().use(eventRoutes({ ...t.ctx, events: testBus() }, { keepAliveMs: 20 }));
    const res = await app.handle(new Request("http://localhost/api/v1/events"));
    const sse = sseReader(res.body!);
    expect([await sse.next(), await sse.next(), await sse.next()]).toEqual([": connected", ": keep-alive", ": keep-alive"]);
    await sse.cancel();
  });

  test("a client that stops reading is cut off instead of piling up events", async () => {
    const t = testContext();
    const { bus, active } = countingBus();
    const app = new Elysia().use(eventRoutes({ ...t.ctx, events: bus }));
    const res = await app.handle(new Request("http://localhost/api/v1/events"));
    for (let i = 0; i < 1500; i++) bus.emit({ ...running, atMs: i });
    expect(active()).toBe(0);
    const text = await res.text();
    const sent = text.split("\n\n").filter((f) => f.startsWith("event: "));
    expect(sent.length).toBeGreaterThan(900);
    expect(sent.length).toBeLessThan(1100);
    expect(sent.at(-1)).toBe(frame({ ...running, atMs: sent.length - 1 }));
  });

  test("the OpenAPI document describes the event stream", async () => {
    const t = testContext();
    const doc = (await call(t.app, "GET", "/api/v1/openapi.json")).json;
    const op = doc.paths["/api/v1/events"].get;
    expect(Object.keys(op.responses["200"].content)).toEqual(["text/event-stream"]);
    expect(op.parameters.map((p: { name: string }) => p.name)).toContain("jobId");
  });
});
