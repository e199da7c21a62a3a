import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { resolveConfig } from "../../src/core/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { startServer, type RunningServer } from "../../src/server/main.ts";
import { ROOT, runCli, shared, sharedModelsDir, tempDir } from "../helpers.ts";

const KEY = "e2e-workflows-key";
let server: RunningServer;
beforeAll(async () => {
  server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), apiKey: KEY }, env: {} }), { log: silentLogger, workers: 0 });
});
afterAll(() => server.stop());

const vbatch = (args: string[], env: Record<string, string> = {}) => runCli(args, { VBATCH_API_URL: server.url, VBATCH_API_KEY: KEY, ...env });
const example = (file: string) => join(ROOT, "examples/workflows", file);

function badWorkflow(): string {
  const file = join(tempDir(), "bad.json");
  const def = JSON.parse(readFileSync(example("detect.json"), "utf8"));
  def.steps[0].confidence = "very";
  def.steps.push({ type: "roboflow_core/frobnicate@v1", name: "x" });
  writeFileSync(file, JSON.stringify(def));
  return file;
}

describe("workflows and infer through the CLI", () => {
  test("add (checked against the registry), list, show, validate, delete; rf-cloud alias", async () => {
    const missing = await vbatch(["workflows", "add", "--workflow-id", "people", "--file", example("detect.json")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("Command failed: Invalid workflow at $.steps[0].model_id: model 'yolov8n-640' was not found");

    const model = await vbatch(["models", "add", "--model-id", "yolov8n-640", "--file", shared("models/yolov8n-640-int8.onnx"), "--classes", shared("models/coco80.txt")]);
    expect(model.code).toBe(0);
    const added = await vbatch(["workflows", "add", "--workflow-id", "people", "--file", example("detect.json"), "--json"]);
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ workflowId: "people", steps: 1, outputs: ["predictions"], modelIds: ["yolov8n-640"], warnings: [] });
    expect((await vbatch(["workflows", "add", "--workflow-id", "people", "--file", example("detect.json")])).stderr).toContain("already exists");

    const list = JSON.parse((await vbatch(["rf-cloud", "workflows", "list", "--json"])).stdout);
    expect(list.map((w: { workflowId: string }) => w.workflowId)).toEqual(["people"]);
    const shown = JSON.parse((await vbatch(["workflows", "show", "--workflow-id", "people", "--json"])).stdout);
    expect(shown.definition).toEqual(JSON.parse(readFileSync(example("detect.json"), "utf8")));
    expect((await vbatch(["workflows", "validate", "--workflow-id", "people"])).stdout).toBe("Valid: 1 steps, outputs predictions; models yolov8n-640\n");

    const bad = await vbatch(["workflows", "add", "--workflow-id", "bad", "--file", badWorkflow()]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("$.steps[0].confidence: must be a number");
    expect(bad.stderr).toContain("$.steps[1].type: unknown block type 'roboflow_core/frobnicate@v1'");

    expect((await vbatch(["workflows", "delete", "--workflow-id", "people"])).code).toBe(0);
    const gone = await vbatch(["workflows", "show", "--workflow-id", "people"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe("Command failed: Workflow 'people' was not found\n");
  });

  test("validate --file works with no server, resolving models from a folder", async () => {
    const models = sharedModelsDir();
    const offline = { VBATCH_API_URL: "http://127.0.0.1:9", VBATCH_DATA_DIR: tempDir() };
    const ok = await runCli(["workflows", "validate", "--file", example("tiled-detection.json"), "--models-dir", models], offline);
    expect(ok.stdout).toBe("Valid: 3 steps, outputs predictions; models yolov8n-320\n");
    const bad = await runCli(["workflows", "validate", "--file", badWorkflow(), "--models-dir", models], offline);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("$.steps[0].confidence");
    const noModels = await runCli(["workflows", "validate", "--file", example("detect.json")], offline);
    expect(noModels.code).toBe(1);
    expect(noModels.stderr).toContain("model 'yolov8n-640' was not found (looked in no models folder (--models-dir) and no registry");
  });

  test("infer runs one image here, with parameters, and names what is wrong", async () => {
    const models = sharedModelsDir();
    const env = { VBATCH_DATA_DIR: tempDir() };
    const dir = tempDir();
    writeFileSync(join(dir, "strict.json"), JSON.stringify({ confidence: 0.9 }));
    writeFileSync(join(dir, "wrong.json"), JSON.stringify({ confidence: "high" }));
    const strict = await runCli(["infer", "--workflow", example("detect.json"), "--image", shared("media/messi5.jpg"), "--models-dir", models, "--params", join(dir, "strict.json")], env);
    expect(strict.code).toBe(0);
    expect(JSON.parse(strict.stdout).predictions.predictions.map((p: { class: string }) => p.class)).toEqual(["sports ball"]);
    const wrong = await runCli(["infer", "--workflow", example("detect.json"), "--image", shared("media/messi5.jpg"), "--models-dir", models, "--params", join(dir, "wrong.json")], env);
    expect(wrong.stderr).toBe("Command failed: Workflow parameter 'confidence' (used by $.steps[0].confidence): must be a number, got \"high\"\n");
    const notImage = await runCli(["infer", "--workflow", example("detect.json"), "--image", join(dir, "strict.json"), "--models-dir", models], env);
    expect(notImage.code).toBe(1);
    expect(notImage.stderr).toContain("Image 'strict.json' cannot be decoded");
  });
});
