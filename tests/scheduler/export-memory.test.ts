import { describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TarReader } from "../../src/core/tar.ts";
import type { ExportOutput } from "../../src/scheduler/export/index.ts";
import { openRowWriter } from "../../src/scheduler/result-rows.ts";
import { ROOT, tempDir } from "../helpers.ts";

const ROWS = 100_000;
const FILES = 10;
const MB = 2 ** 20;

function row(i: number): Record<string, unknown> {
  const box = (k: number) => ({
    x: 100 + k, y: 80, width: 40, height: 30, confidence: 0.87, class_id: k, class: `c${k}`, detection_id: `${i}-${k}`, parent_id: "image",
  });
  return {
    image: `img-${String(i).padStart(6, "0")}.jpg`,
    dets: { image: { width: 640, height: 480 }, predictions: [box(0), box(1)] },
    cls: {
      image: { width: 640, height: 480 },
      predictions: [{ class: "cat", class_id: 0, confidence: 0.9 }],
      top: "cat",
      confidence: 0.9,
      prediction_type: "classification",
    },
  };
}

/** Ten processing files of 10,000 rows, as the processing stage writes them. */
function processingFiles(dir: string, format: "jsonl" | "csv"): string[] {
  mkdirSync(join(dir, format), { recursive: true });
  const per = ROWS / FILES;
  return Array.from({ length: FILES }, (_, f) => {
    const path = join(dir, format, `task-${f}.${format}`);
    if (format === "jsonl") writeFileSync(path, Array.from({ length: per }, (_, k) => JSON.stringify(row(f * per + k)) + "\n").join(""));
    else {
      const writer = openRowWriter(path, "csv", ["image", "dets", "cls"]);
      for (let k = 0; k < per; k++) writer.write(row(f * per + k));
      writer.close();
    }
    return path;
  });
}

/**
 * The work runs in a child process, so that nothing else the suite left running shows in its memory. The
 * peak is the kernel's, not a sample: VmHWM (getrusage's maxRSS would count the parent's memory at fork).
 * `imports` run before the baseline is taken; `work` is the body of an async function of `input`.
 */
function inChild(imports: string, work: string, input: unknown): { growthMb: number; seconds: number; result: unknown } {
  const script = `${imports}
const input = JSON.parse(process.argv[1]);
Bun.gc(true);
const baseline = process.memoryUsage.rss();
const started = performance.now();
const result = await (async () => { ${work} })();
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ result, seconds, growthMb: (peakRss() - baseline) / ${MB} }));
function peakRss() {
  try {
    return Number(/VmHWM:\\s+(\\d+) kB/.exec(require("node:fs").readFileSync("/proc/self/status", "utf8"))[1]) * 1024;
  } catch {
    return process.resourceUsage().maxRSS * 1024;
  }
}`;
  const child = Bun.spawnSync([process.execPath, "-e", script, JSON.stringify(input)], { cwd: ROOT, stderr: "inherit" });
  expect(child.exitCode).toBe(0);
  return JSON.parse(child.stdout.toString());
}

/** results.jsonl from the export's tar.gz, unpacked as a stream. */
async function resultsText(archive: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  const reader = new TarReader((h) => (h.name === "results.jsonl" ? { write: (c) => chunks.push(c.slice()), end() {}, abort() {} } : undefined));
  const gunzip = new DecompressionStream("gzip") as unknown as TransformStream<Uint8Array, Uint8Array>;
  for await (const chunk of Bun.file(archive).stream().pipeThrough(gunzip)) reader.push(chunk);
  reader.finish();
  return Buffer.concat(chunks).toString("utf8");
}

describe("100,000 rows", () => {
  const dir = tempDir();
  const files = { jsonl: processingFiles(dir, "jsonl"), csv: processingFiles(dir, "csv") };

  for (const format of ["jsonl", "csv"] as const) {
    test(`${format}: the merge (with COCO and YOLO) streams in bounded memory`, () => {
      const { growthMb, seconds, result } = inChild(
        `import { mergeResults } from "./src/scheduler/export/merge.ts";
         import { DetectionOutputs } from "./src/scheduler/export/detection-outputs.ts";
         import { ENTRY_COST } from "./src/scheduler/export/archive-size.ts";`,
        `const outputs = new DetectionOutputs(input.dir, ENTRY_COST["tar.gz"]);
         const counts = await mergeResults(input.format, input.files, input.dir + "/merged", (row) => outputs.add(row));
         const { detection } = await outputs.finish("big");
         return { rows: counts.rows, detections: detection.map((d) => d.detections) };`,
        { format, files: files[format], dir: tempDir() },
      );
      console.log(`${format} merge of 100k rows: ${seconds.toFixed(1)} s, peak RSS growth ${growthMb.toFixed(0)} MB`);
      expect(result).toEqual({ rows: ROWS, detections: [2 * ROWS] });
      expect(growthMb).toBeLessThan(100);
      expect(seconds).toBeLessThan(30);
    }, 120_000);
  }

  test("the whole export, 100,000 label files included, stays bounded too", async () => {
    const input = {
      jobId: "big", format: "jsonl", archiveFormat: "tar.gz", archiveMaxBytes: 1 << 30,
      resultFiles: files.jsonl, errorFiles: [], imageFiles: [], manifest: {}, workDir: tempDir(),
    };
    const { growthMb, seconds, result } = inChild(`import { runExport } from "./src/scheduler/export/index.ts";`, "return runExport(input);", input);
    console.log(`export of 100k rows: ${seconds.toFixed(1)} s, peak RSS growth ${growthMb.toFixed(0)} MB`);
    const out = result as ExportOutput;
    expect(out.counts).toEqual({ images: ROWS, failed: 0, detections: 2 * ROWS, detectionOutputs: ["dets"] });
    // Packing 100,000 tiny tar entries adds garbage per entry (tar.ts); still far below the rows' size.
    expect(growthMb).toBeLessThan(128);
    expect(seconds).toBeLessThan(60);
    const manifest = JSON.parse(await Bun.file(out.files.find((f) => f.name === "manifest.json")!.path).text());
    expect(manifest.archives[0].files).toEqual(["results.jsonl", "errors.jsonl", "coco.json", "classes.txt"]);
    expect(manifest.archives[0].folders).toEqual({ "labels/": ROWS });
    const results = await resultsText(out.files[0]!.path);
    expect(results.split("\n")).toHaveLength(ROWS + 1);
    expect(results.startsWith(JSON.stringify(row(0)) + "\n")).toBe(true);
    expect(results.endsWith(JSON.stringify(row(ROWS - 1)) + "\n")).toBe(true);
  }, 120_000);
});
