import { Elysia, t } from "elysia";
import type { EventBus } from "../../scheduler/events.ts";
import type { SchedulerEvent } from "../../scheduler/types.ts";
import type { ServerContext } from "../context.ts";
import { ErrorResponse } from "../errors.ts";

export interface EventRoutesOptions {
  /** Interval of the comment lines that keep proxies and idle-timeouts from closing a quiet stream. */
  keepAliveMs?: number;
}

/**
 * A client that reads slower than events arrive is cut off past this many unsent events, rather than holding
 * them all in memory; it reconnects and reads the current state from the API.
 */
const MAX_UNSENT = 1000;

const EventsQuery = t.Object({
  jobId: t.Optional(t.String({ minLength: 1, description: "Only the events of this job" })),
});

const DESCRIPTION =
  "Server-Sent Events (`text/event-stream`) of scheduler events, as they happen; no replay of past events. " +
  "Each event is `event: <type>` and `data: <JSON>`; the types are `job:created`, `job:state`, `job:progress`, " +
  "`task:leased`, `task:succeeded`, `task:failed`, `task:requeued` and `agent:lost`. The JSON always holds " +
  "`type` and `atMs` (epoch milliseconds), and `jobId` for job and task events. A comment line (`: keep-alive`) " +
  "comes every 15 s. With `?jobId=` only that job's events are sent (agent events are left out). A client that " +
  "reads too slowly is disconnected and should reconnect.";

export function eventRoutes(ctx: ServerContext, options: EventRoutesOptions = {}) {
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  return new Elysia({ prefix: "/api/v1/events" }).get(
    "",
    ({ query, request }) => {
      const body = eventStream(ctx.events, query.jobId, keepAliveMs, request.signal);
      return new Response(body, {
        headers: {
          "content-type": "text/event-stream; charset=utf-8",
          "cache-control": "no-cache",
          // Tells reverse proxies such as nginx to pass each event on at once instead of buffering.
          "x-accel-buffering": "no",
        },
      });
    },
    {
      query: EventsQuery,
      detail: {
        tags: ["events"],
        summary: "Stream job, task and agent events (Server-Sent Events)",
        description: DESCRIPTION,
        responses: {
          200: { description: "An endless event stream", content: { "text/event-stream": { schema: { type: "string" } } } },
          401: { description: "Missing or wrong API key", content: { "application/json": { schema: ErrorResponse } } },
        },
      },
    },
  );
}

/** `event: <type>` and `data: <json>` lines; JSON.stringify never emits a newline, so one data line suffices. */
const sseFrame = (e: SchedulerEvent) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`;

/** The stream of one client: subscribed to the bus while the client is there, unsubscribed once it goes. */
function eventStream(events: EventBus, jobId: string | undefined, keepAliveMs: number, clientGone: AbortSignal): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let cleanup = () => {};
  return new ReadableStream<Uint8Array>({
    start(controller) {
      let ended = false;
      // A stream torn down without `cancel` (a connection reset) refuses writes: that ends this client too.
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text));
        } catch {
          end(false);
        }
      };
      const unsubscribe = events.on("*", (e: SchedulerEvent) => {
        if (jobId !== undefined && !("jobId" in e && e.jobId === jobId)) return;
        if ((controller.desiredSize ?? 0) < -MAX_UNSENT) return end(true);
        send(sseFrame(e));
      });
      const keepAlive = setInterval(() => send(": keep-alive\n\n"), keepAliveMs);
      function end(closeStream: boolean) {
        if (ended) return;
        ended = true;
        unsubscribe();
        clearInterval(keepAlive);
        clientGone.removeEventListener("abort", onGone);
        if (closeStream) controller.close();
      }
      const onGone = () => end(false);
      cleanup = onGone;
      clientGone.addEventListener("abort", onGone, { once: true });
      // A first line at once, so that the client sees the stream open before any event happens.
      send(": connected\n\n");
    },
    cancel() {
      cleanup();
    },
  });
}
