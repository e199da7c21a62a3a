import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { shapedOutputsModel } from "../../scripts/lib/onnx-builder.ts";
import { call, shared, testContext, type TestApp } from "../helpers.ts";

const haveModels = existsSync(shared("models/coco80.txt"));
const modelBytes = (file: string) => readFileSync(shared(`models/${file}`));
const coco = () => new File([readFileSync(shared("models/coco80.txt"))], "coco80.txt");
const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

interface Upload {
  modelId?: string;
  file?: Uint8Array;
  fileName?: string;
  classes?: File | string;
  family?: string;
  task?: string;
  overwrite?: string;
}

function form(u: Upload): FormData {
  const f = new FormData();
  for (const key of ["modelId", "family", "task", "overwrite"] as const) if (u[key] !== undefined) f.append(key, u[key]!);
  if (u.classes !== undefined) f.append("classes", u.classes);
  if (u.file) f.append("file", new File([u.file], u.fileName ?? "model.onnx"));
  return f;
}

const add = (app: TestApp, u: Upload, query = "") => call(app, "POST", `/api/v1/models${query}`, { body: form(u) });

/** Model files and temp files in the data dir: what a refused upload must not leave behind. */
const onDisk = (t: ReturnType<typeof testContext>) => ({ models: readdirSync(t.staging.modelsDir).sort(), tmp: readdirSync(t.staging.tmpDir) });

describe.skipIf(!haveModels)("models API", () => {
  test("add (multipart), list, show, download byte-identical, delete", async () => {
    const t = testContext();
    const bytes = modelBytes("yolox-nano-416.onnx");
    const added = await add(t.app, { modelId: "yolox-nano", file: bytes, fileName: "yolox-nano-416.onnx", classes: coco() });
    expect(added.status).toBe(201);
    expect(added.json).toMatchObject({ modelId: "yolox-nano", family: "yolox", task: "detection", sha256: sha(bytes), sizeBytes: bytes.length });
    expect(added.json.input).toMatchObject({ name: "images", width: 416, height: 416, dynamicBatch: false });
    expect(added.json.outputs).toEqual([{ name: "output", shape: [1, 3549, 85], type: "float32" }]);
    expect(added.json.classNames.length).toBe(80);
    expect(onDisk(t)).toEqual({ models: [`${sha(bytes)}.onnx`], tmp: [] });

    // Names from the model's own Ultralytics metadata: no classes field needed.
    const seg = await add(t.app, { modelId: "yolov8n-seg.v2", file: modelBytes("yolov8n-seg-320-int8.onnx") });
    expect(seg.json).toMatchObject({ family: "yolov8-seg", task: "segmentation", metadata: { task: "segment" } });
    expect(seg.json.classNames[0]).toBe("person");

    const list = await call(t.app, "GET", "/api/v1/models");
    expect(list.json.models.map((m: { modelId: string }) => m.modelId)).toEqual(["yolov8n-seg.v2", "yolox-nano"]);
    const page1 = await call(t.app, "GET", "/api/v1/models?pageSize=1");
    expect(page1.json.models.map((m: { modelId: string }) => m.modelId)).toEqual(["yolov8n-seg.v2"]);
    const page2 = await call(t.app, "GET", `/api/v1/models?pageSize=1&pageToken=${page1.json.nextPageToken}`);
    expect(page2.json).toMatchObject({ models: [{ modelId: "yolox-nano" }] });
    expect(page2.json.nextPageToken).toBeUndefined();

    const shown = await call(t.app, "GET", "/api/v1/models/yolox-nano");
    expect(shown.json).toEqual(added.json);

    const file = await t.app.handle(new Request("http://localhost/api/v1/models/yolox-nano/file"));
    expect(file.headers.get("etag")).toBe(`"${sha(bytes)}"`);
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
    const cached = await t.app.handle(new Request("http://localhost/api/v1/models/yolox-nano/file", { headers: { "if-none-match": `"${sha(bytes)}"` } }));
    expect(cached.status).toBe(304);
    const bySha = await t.app.handle(new Request(`http://localhost/api/v1/model-files/${sha(bytes)}`));
    expect(Buffer.from(await bySha.arrayBuffer()).equals(bytes)).toBe(true);

    expect((await call(t.app, "DELETE", "/api/v1/models/yolox-nano")).json).toEqual({ deleted: "yolox-nano" });
    expect((await call(t.app, "GET", "/api/v1/models/yolox-nano")).json.error.code).toBe("MODEL_NOT_FOUND");
    expect((await call(t.app, "GET", `/api/v1/model-files/${sha(bytes)}`)).json.error.code).toBe("MODEL_FILE_NOT_FOUND");
    expect(onDisk(t).models).toEqual([`${sha(modelBytes("yolov8n-seg-320-int8.onnx"))}.onnx`]);
  });

  test("a taken id is refused with 409 unless overwrite is set; the replaced file goes when unused", async () => {
    const t = testContext();
    const v8 = modelBytes("yolov8n-320-int8.onnx");
    const yx = modelBytes("yolox-nano-416.onnx");
    expect((await add(t.app, { modelId: "det", file: v8 })).status).toBe(201);
    const again = await add(t.app, { modelId: "det", file: yx, classes: coco() });
    expect(again.status).toBe(409);
    expect(again.json.error).toMatchObject({ code: "MODEL_EXISTS", message: "Model 'det' already exists; add it with overwrite to replace it" });
    expect(onDisk(t)).toEqual({ models: [`${sha(v8)}.onnx`], tmp: [] });

    const replaced = await add(t.app, { modelId: "det", file: yx, classes: coco(), overwrite: "true" });
    expect(replaced.status).toBe(201);
    expect(replaced.json.family).toBe("yolox");
    expect(onDisk(t).models).toEqual([`${sha(yx)}.onnx`]);
    expect((await add(t.app, { modelId: "det", file: v8 }, "?overwrite=true")).json.family).toBe("yolov8");
  });

  test("one file shared by two ids is stored once and deleted with the last of them", async () => {
    const t = testContext();
    const bytes = modelBytes("yolov8n-320-int8.onnx");
    await add(t.app, { modelId: "a", file: bytes });
    await add(t.app, { modelId: "b", file: bytes });
    expect(onDisk(t).models).toEqual([`${sha(bytes)}.onnx`]);
    await call(t.app, "DELETE", "/api/v1/models/a");
    expect(onDisk(t).models).toEqual([`${sha(bytes)}.onnx`]);
    const stillThere = await t.app.handle(new Request("http://localhost/api/v1/models/b/file"));
    expect(Buffer.from(await stillThere.arrayBuffer()).equals(bytes)).toBe(true);
    await call(t.app, "DELETE", "/api/v1/models/b");
    expect(onDisk(t)).toEqual({ models: [], tmp: [] });
  });

  test("bad files are refused with their cause and leave nothing on disk", async () => {
    const t = testContext();
    const real = modelBytes("yolox-nano-416.onnx");
    const cases: [Upload, number, string, string][] = [
      [{ file: crypto.getRandomValues(new Uint8Array(5000)), fileName: "random.onnx" }, 400, "MODEL_INVALID", "random.onnx is not a valid ONNX model: "],
      [{ file: real.subarray(0, 100_000), fileName: "cut.onnx", classes: coco() }, 400, "MODEL_INVALID", "cut.onnx is not a valid ONNX model: "],
      [{ file: shapedOutputsModel({ input: [1, 3, 320, 320], outputs: [{ name: "out", shape: [1, 84, 2000] }] }), classes: coco() }, 400, "MODEL_LAYOUT_UNSUPPORTED", "Cannot tell which kind of model model.onnx is from its shapes (input images [1,3,320,320], outputs out [1,84,2000])"],
      [{ file: real, fileName: "yolox.onnx", classes: new File(["person\ncar\n"], "two.txt") }, 400, "MODEL_CLASSES_MISMATCH", "yolox.onnx has 80 classes (outputs output [1,3549,85]) but two.txt lists 2"],
      [{ file: real, fileName: "yolox.onnx" }, 400, "MODEL_CLASSES_MISSING", "yolox.onnx is a yolox model with 80 classes"],
      [{ file: real, classes: coco(), family: "yolov9" }, 400, "VALIDATION_FAILED", 'Invalid family "yolov9": use one of yolov8, yolov8-seg'],
      [{ file: real, classes: coco(), task: "segmentation" }, 400, "MODEL_TASK_MISMATCH", "Task 'segmentation' does not fit a yolox model"],
      [{ file: new Uint8Array(0) }, 400, "EMPTY_FILE", "The model file is empty"],
      [{}, 400, "VALIDATION_FAILED", "The upload has no 'file' field"],
    ];
    for (const [upload, status, code, message] of cases) {
      const res = await add(t.app, { modelId: "m", ...upload });
      expect([res.status, res.json.error.code]).toEqual([status, code]);
      expect(res.json.error.message).toContain(message);
      expect(onDisk(t)).toEqual({ models: [], tmp: [] });
    }
    expect((await call(t.app, "GET", "/api/v1/models")).json.models).toEqual([]);
  });

  test("ids, fields and content types are checked before the file is kept", async () => {
    const t = testContext({ maxModelMb: 1 });
    const small = shapedOutputsModel({ input: [1, 3, 64, 64], outputs: [{ name: "p", shape: [1, 2] }] });
    const badId = await add(t.app, { modelId: "Bad Id", file: small });
    expect(badId.json.error).toMatchObject({ code: "INVALID_MODEL_ID", message: expect.stringContaining("1-100 lower-case letters, digits, '-', '_' or '.'") });
    expect((await add(t.app, { modelId: ".hidden", file: small })).json.error.code).toBe("INVALID_MODEL_ID");
    expect((await add(t.app, { file: small })).json.error.code).toBe("INVALID_MODEL_ID");
    const big = await add(t.app, { modelId: "big", file: modelBytes("yolox-nano-416.onnx") });
    expect([big.status, big.json.error.code]).toEqual([413, "FILE_TOO_LARGE"]);
    const unknown = new FormData();
    unknown.append("model_id", "x");
    expect((await call(t.app, "POST", "/api/v1/models", { body: unknown })).json.error.message).toBe(
      "Unknown field 'model_id'; a model upload has: file, modelId, classes, family, task, overwrite",
    );
    const raw = await call(t.app, "POST", "/api/v1/models", { body: small, headers: { "content-type": "application/octet-stream" } });
    expect([raw.status, raw.json.error.code]).toEqual([415, "UNSUPPORTED_CONTENT"]);
    expect((await call(t.app, "GET", "/api/v1/model-files/xyz")).json.error.code).toBe("VALIDATION_FAILED");
    expect(onDisk(t)).toEqual({ models: [], tmp: [] });
  });

  test("with an API key every models route needs it; the routes are in the OpenAPI document", async () => {
    const t = testContext({ apiKey: "sekret" });
    const bytes = modelBytes("yolov8n-320-int8.onnx");
    const refused = await add(t.app, { modelId: "m", file: bytes });
    expect([refused.status, refused.json.error.code]).toEqual([401, "UNAUTHORIZED"]);
    expect(onDisk(t).models).toEqual([]);
    for (const path of ["/api/v1/models", "/api/v1/models/m", "/api/v1/models/m/file", `/api/v1/model-files/${sha(bytes)}`])
      expect((await call(t.app, "GET", path)).status).toBe(401);
    const auth = { authorization: "Bearer sekret" };
    expect((await call(t.app, "POST", "/api/v1/models", { body: form({ modelId: "m", file: bytes }), headers: auth })).status).toBe(201);
    expect((await call(t.app, "GET", "/api/v1/models/m", { headers: auth })).json.modelId).toBe("m");
    const doc = (await call(t.app, "GET", "/api/v1/openapi.json", { headers: auth })).json;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/models", "/api/v1/models/{modelId}", "/api/v1/models/{modelId}/file", "/api/v1/model-files/{sha256}"]));
  });
});
