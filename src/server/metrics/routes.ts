import { heapStats } from "bun:jsc";
import { Elysia } from "elysia";
import { TASK_STATES, JOB_STATES } from "../../scheduler/types.ts";
import type { ServerContext } from "../context.ts";

/**
 * `/metrics` in the Prometheus text format: tasks and jobs by state, queue depth (what an autoscaler of
 * agents watches), images and frames processed and failed, processing seconds, local workers.
 */
export function metricsRoutes(ctx: ServerContext, localWorkers: () => number) {
  return new Elysia().get(
    "/metrics",
    () => {
      const m = ctx.store.metrics(ctx.clock.now());
      const lines: string[] = [];
      const metric = (name: string, type: "gauge" | "counter", help: string, samples: [string, number][]) => {
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, v]) => `${name}${labels} ${v}`));
      };
      metric("vbatch_tasks", "gauge", "Tasks by state.", TASK_STATES.map((s) => [`{state="${s}"}`, m.tasksByState[s] ?? 0]));
      metric("vbatch_jobs", "gauge", "Jobs by state.", JOB_STATES.map((s) => [`{state="${s}"}`, m.jobsByState[s] ?? 0]));
      metric("vbatch_queue_depth", "gauge", "Queued tasks that may run now.", [["", m.queueDepth]]);
      const byType = (type: string) => m.items.find((i) => i.type === type) ?? { done: 0, failed: 0, ms: 0 };
      metric("vbatch_images_processed_total", "counter", "Images processed without failure.", [["", byType("images").done]]);
      metric("vbatch_frames_processed_total", "counter", "Video frames processed (videos done, for video jobs).", [["", byType("videos").done]]);
      metric("vbatch_items_failed_total", "counter", "Images or videos that failed.", [
        ['{type="images"}', byType("images").failed],
        ['{type="videos"}', byType("videos").failed],
      ]);
      metric("vbatch_processing_seconds_total", "counter", "Machine time spent on processing tasks.", [["", m.items.reduce((s, i) => s + i.ms, 0) / 1000]]);
      metric("vbatch_local_workers", "gauge", "Workers of this server.", [["", localWorkers()]]);
      metric("vbatch_agents", "gauge", "Agents online.", [["", 0]]);
      metric("process_resident_memory_bytes", "gauge", "Resident memory of the server process (all its threads).", [["", process.memoryUsage.rss()]]);
      metric("vbatch_js_heap_bytes", "gauge", "JavaScript heap of the server's main thread.", [["", heapStats().heapSize]]);
      return new Response(lines.join("\n") + "\n", { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } });
    },
    { detail: { tags: ["monitoring"], summary: "Prometheus metrics: tasks, jobs, queue depth, images and frames processed, processing seconds" } },
  );
}
