import { describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveFfmpeg } from "../../src/engine/ffmpeg.ts";
import { probeVideo } from "../../src/engine/video/probe.ts";
import { ROOT, runCli, shared, tempDir } from "../helpers.ts";

/**
 * The real pedestrian video through the example counting workflow (YOLOv8n-320 at 5 fps, ByteTrack, a line
 * across the square), as a user runs it: `vbatch run`, one-shot, with the real CLI and ffmpeg.
 */
interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
  tracker_id?: number;
}

const iou = (a: Box, b: Box) => {
  const w = Math.min(a.x + a.width / 2, b.x + b.width / 2) - Math.max(a.x - a.width / 2, b.x - b.width / 2);
  const h = Math.min(a.y + a.height / 2, b.y + b.height / 2) - Math.max(a.y - a.height / 2, b.y - b.height / 2);
  if (w <= 0 || h <= 0) return 0;
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
};

describe("tracking and counting on vtest.avi", () => {
  test("tracker ids hold from frame to frame, people are counted both ways, the annotated MP4 plays", async () => {
    const work = tempDir();
    const models = join(work, "models");
    mkdirSync(models);
    symlinkSync(shared("models/yolov8n-320-int8.onnx"), join(models, "yolov8n-320.onnx"));
    writeFileSync(join(models, "yolov8n-320.txt"), readFileSync(shared("models/coco80.txt")));
    const def = JSON.parse(readFileSync(join(ROOT, "examples/workflows/video-count-people.json"), "utf8"));
    def.steps[0].model_id = "yolov8n-320";
    // Labels cost time and add nothing to what is checked here.
    def.steps = def.steps.filter((s: { name: string }) => s.name !== "labels");
    def.steps.find((s: { name: string }) => s.name === "traces").image = "$steps.boxes.image";
    writeFileSync(join(work, "wf.json"), JSON.stringify(def));
    const out = join(work, "out");
    const run = await runCli(
      ["run", "--workflow", join(work, "wf.json"), "--input", shared("media/vtest.avi"), "--output", out, "--models-dir", models, "--type", "videos", "--max-video-fps", "5", "--save-video-outputs", "--workers", "1"],
      {},
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);

    const rows = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.length).toBe(398);
    // Stability: a tracked person's id equals that of the best-overlapping tracked box one processed frame before.
    let same = 0;
    let compared = 0;
    for (let k = 1; k < rows.length; k++) {
      const before: Box[] = rows[k - 1].tracked.predictions;
      for (const d of rows[k].tracked.predictions as Box[]) {
        const best = before.map((p) => ({ p, o: iou(d, p) })).sort((a, b) => b.o - a.o)[0];
        if (!best || best.o < 0.3) continue;
        compared++;
        if (best.p.tracker_id === d.tracker_id) same++;
      }
    }
    const stability = same / compared;
    console.log(`tracker id stability ${stability.toFixed(3)} over ${compared} detections; counts in ${rows.at(-1).count_in}, out ${rows.at(-1).count_out}`);
    expect(compared).toBeGreaterThan(1000);
    expect(stability).toBeGreaterThan(0.95);
    expect(rows.at(-1).count_in).toBeGreaterThan(0);
    expect(rows.at(-1).count_out).toBeGreaterThan(0);

    const ffmpeg = (await resolveFfmpeg()).path!;
    const info = await probeVideo(join(out, "videos", "vtest.avi", "annotated.mp4"), "annotated.mp4", { ffmpeg, maxPixels: 1e8 });
    expect(info).toMatchObject({ codec: "h264", width: 768, height: 576, frameCount: 398, fps: 5 });
    const summary = JSON.parse(readFileSync(join(out, "videos", "vtest.avi", "summary.json"), "utf8"));
    expect(summary).toMatchObject({ frames_processed: 398, counts: { count_in: rows.at(-1).count_in, count_out: rows.at(-1).count_out } });
    expect(summary.tracks).toBeGreaterThan(10);
  }, 300_000);
});
