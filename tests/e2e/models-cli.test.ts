import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../../src/core/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { startServer, type RunningServer } from "../../src/server/main.ts";
import { ROOT, shared, tempDir, runCli } from "../helpers.ts";

const KEY = "e2e-models-key";
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), apiKey: KEY }, env: {} }), { log: silentLogger, workers: 0 });
});
afterAll(() => server.stop());

/** The real CLI against this file's server. */
const vbatch = (args: string[], env: Record<string, string> = {}) => runCli(args, { VBATCH_API_URL: server.url, VBATCH_API_KEY: KEY, ...env });

const haveModels = existsSync(shared("models/coco80.txt"));

describe.skipIf(!haveModels)("models through the CLI against a real server", () => {
  test("add yolov8n-320 with coco80.txt, list, show, delete; rf-cloud answers the same", async () => {
    const model = shared("models/yolov8n-320-int8.onnx");
    const sha256 = createHash("sha256").update(readFileSync(model)).digest("hex");
    const added = await vbatch(["models", "add", "--model-id", "yolov8n-320", "--file", model, "--classes", shared("models/coco80.txt")]);
    expect(added.stderr).toBe("");
    expect(added.code).toBe(0);
    expect(added.stdout).toBe(`Added model yolov8n-320: yolov8 (detection), input 320x320, 80 classes, 3.2 MiB, sha256 ${sha256}\n`);
    expect(readdirSync(server.ctx.staging.modelsDir)).toEqual([`${sha256}.onnx`]);

    const listed = JSON.parse((await vbatch(["models", "list", "--json"])).stdout);
    expect(listed).toMatchObject([{ modelId: "yolov8n-320", family: "yolov8", task: "detection", sha256, input: { width: 320, height: 320 } }]);
    expect(listed[0].classNames.length).toBe(80);
    const table = await vbatch(["rf-cloud", "models", "list"]);
    expect(table.stdout).toMatch(/^modelId\s+family\s+task\s+input\s+classes\s+size\s+created\n/);
    expect(table.stdout).toMatch(/yolov8n-320\s+yolov8\s+detection\s+320x320\s+80\s+3\.2 MiB/);

    const shown = await vbatch(["models", "show", "--model-id", "yolov8n-320"]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/Input\s+images \[1,3,320,320\] float32, 320x320\n/);
    expect(shown.stdout).toMatch(/Outputs\s+output0 \[1,84,2100\]\n/);
    expect(shown.stdout).toMatch(/Classes\s+80: person, bicycle, car/);
    expect(JSON.parse((await vbatch(["models", "show", "--model-id", "yolov8n-320", "--json"])).stdout).sha256).toBe(sha256);

    const deleted = await vbatch(["models", "delete", "--model-id", "yolov8n-320"]);
    expect([deleted.code, deleted.stdout]).toEqual([0, "Deleted model yolov8n-320\n"]);
    expect(readdirSync(server.ctx.staging.modelsDir)).toEqual([]);
    const gone = await vbatch(["models", "show", "--model-id", "yolov8n-320"]);
    expect([gone.code, gone.stderr]).toEqual([1, "Command failed: Model 'yolov8n-320' was not found\n"]);
  });

  test("exit codes: 1 with the server's reason for a taken id or a bad model, 2 for usage errors", async () => {
    const model = shared("models/yolox-nano-416.onnx");
    const classes = shared("models/coco80.txt");
    expect((await vbatch(["models", "add", "--model-id", "yolox-nano", "--file", model, "--classes", classes])).code).toBe(0);
    const taken = await vbatch(["models", "add", "--model-id", "yolox-nano", "--file", model, "--classes", classes]);
    expect([taken.code, taken.stderr]).toEqual([1, "Command failed: Model 'yolox-nano' already exists; add it with overwrite to replace it\n"]);
    const replaced = await vbatch(["models", "add", "--model-id", "yolox-nano", "--file", model, "--classes", classes, "--overwrite", "--json"]);
    expect(replaced.code).toBe(0);
    expect(JSON.parse(replaced.stdout)).toMatchObject({ modelId: "yolox-nano", family: "yolox" });

    const noNames = await vbatch(["models", "add", "--model-id", "nameless", "--file", model]);
    expect(noNames.code).toBe(1);
    expect(noNames.stderr).toStartWith("Command failed: yolox-nano-416.onnx is a yolox model with 80 classes, but its ONNX metadata has no 'names'");
    const text = join(tempDir(), "notes.onnx");
    writeFileSync(text, "just text");
    const notModel = await vbatch(["models", "add", "--model-id", "notes", "--file", text]);
    expect(notModel.code).toBe(1);
    expect(notModel.stderr).toStartWith("Command failed: notes.onnx is not a valid ONNX model: ");
    const missing = await vbatch(["models", "add", "--model-id", "x", "--file", "/no/such/model.onnx"]);
    expect([missing.code, missing.stderr]).toEqual([1, "Command failed: File /no/such/model.onnx does not exist\n"]);
    const badId = await vbatch(["models", "show", "--model-id", "Bad.Id"]);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toContain("Invalid modelId");

    expect((await vbatch(["models", "add", "--file", model])).code).toBe(2);
    expect((await vbatch(["models", "show"])).code).toBe(2);
    expect((await vbatch(["models", "frobnicate"])).code).toBe(2);
    const wrongKey = await vbatch(["models", "list"], { VBATCH_API_KEY: "nope" });
    expect([wrongKey.code, wrongKey.stderr]).toEqual([1, "Command failed: The API key is wrong\n"]);
    expect(readdirSync(server.ctx.staging.tmpDir)).toEqual([]);
  });
});
