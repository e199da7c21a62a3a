import { expect } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../../src/core/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { startServer, type RunningServer } from "../../src/server/main.ts";
import { ROOT, runCli, shared, tempDir } from "../helpers.ts";

/**
 * A real server with two local workers, short leases and a fast sweep, holding the YOLOv8n-320 detector and
 * the `boxes` workflow (examples/workflows/boxes-and-labels.json on that model), registered through the CLI.
 */
export async function jobsServer(): Promise<{ server: RunningServer; vbatch: (args: string[]) => ReturnType<typeof runCli> }> {
  const server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), workers: 2, sweepIntervalS: 0.2, leaseSeconds: 2 }, env: {} }), { log: silentLogger });
  const vbatch = (args: string[]) => runCli(args, { VBATCH_API_URL: server.url });
  expect((await vbatch(["models", "add", "--model-id", "yolov8n-320", "--file", shared("models/yolov8n-320-int8.onnx"), "--classes", shared("models/coco80.txt")])).code).toBe(0);
  const def = JSON.parse(readFileSync(join(ROOT, "examples/workflows/boxes-and-labels.json"), "utf8"));
  def.steps[0].model_id = "yolov8n-320";
  const file = join(tempDir(), "wf.json");
  writeFileSync(file, JSON.stringify(def));
  expect((await vbatch(["workflows", "add", "--workflow-id", "boxes", "--file", file])).code).toBe(0);
  return { server, vbatch };
}
