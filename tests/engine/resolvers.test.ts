import { describe, expect, test } from "bun:test";
import { copyFileSync, mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { classifierModel } from "../../scripts/lib/onnx-builder.ts";
import { inspectOnnx } from "../../src/engine/models/inspect.ts";
import { chainResolvers, directoryResolver, registryResolver } from "../../src/engine/models/resolvers.ts";
import { modelFilePath } from "../../src/storage/model-files.ts";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import type { ModelRecord } from "../../src/storage/store.ts";
import { shared, tempDir } from "../helpers.ts";

const colours = () => classifierModel({ weights: [[1, 0], [0, 1], [0, 0]], height: 8, width: 8 });

function modelsFolder(): string {
  const dir = tempDir();
  writeFileSync(join(dir, "colours.onnx"), colours());
  writeFileSync(join(dir, "colours.txt"), "red\ngreen\n");
  return dir;
}

describe("directoryResolver", () => {
  test("finds <id>.onnx with names from <id>.txt; unknown and unsafe ids are not found", async () => {
    const dir = modelsFolder();
    const r = directoryResolver(dir);
    const found = await r.resolve("colours");
    expect(found?.path).toBe(join(dir, "colours.onnx"));
    expect(found?.info).toMatchObject({ modelId: "colours", family: "classifier", classNames: ["red", "green"] });
    expect(await r.resolve("missing")).toBeUndefined();
    mkdirSync(join(dir, "sub"));
    writeFileSync(join(dir, "sub", "x.onnx"), colours());
    writeFileSync(join(dir, "sub", "x.txt"), "red\ngreen");
    // The reference's `project/version` ids live in sub-folders; '..' can never be a segment.
    expect((await r.resolve("sub/x"))?.path).toBe(join(dir, "sub", "x.onnx"));
    expect(await r.resolve("../" + dir.split("/").pop() + "/colours")).toBeUndefined();
    expect(r.describe()).toContain(`the models folder ${dir}`);
  });

  test("inspects once per version of the files: an edited names file is read again", async () => {
    const dir = modelsFolder();
    const r = directoryResolver(dir);
    const first = (await r.resolve("colours"))!.info;
    expect((await r.resolve("colours"))!.info).toBe(first);
    writeFileSync(join(dir, "colours.txt"), "rouge\nvert\n");
    utimesSync(join(dir, "colours.txt"), new Date(), new Date(Date.now() + 5000));
    expect((await r.resolve("colours"))!.info.classNames).toEqual(["rouge", "vert"]);
  });

  test("<id>.json overrides family, task and names; a bad one is refused by name", async () => {
    const dir = tempDir();
    copyFileSync(shared("models/yolov8n-seg-320-int8.onnx"), join(dir, "seg.onnx"));
    writeFileSync(join(dir, "seg.json"), JSON.stringify({ task: "detection" }));
    expect((await directoryResolver(dir).resolve("seg"))!.info).toMatchObject({ family: "yolov8-seg", task: "detection" });

    writeFileSync(join(dir, "colours.onnx"), colours());
    writeFileSync(join(dir, "colours.json"), JSON.stringify({ classNames: ["a", "b"] }));
    expect((await directoryResolver(dir).resolve("colours"))!.info.classNames).toEqual(["a", "b"]);
    writeFileSync(join(dir, "colours.json"), JSON.stringify({ family: "yolo9000" }));
    await expect(directoryResolver(dir).resolve("colours")).rejects.toThrow('Invalid family "yolo9000"');
    writeFileSync(join(dir, "colours.json"), JSON.stringify({ classes: ["a", "b"] }));
    await expect(directoryResolver(dir).resolve("colours")).rejects.toThrow(`${join(dir, "colours.json")}: unknown field "classes"`);
  });

  test("a broken model in the folder is an error, not a missing model", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "bad.onnx"), "not a model");
    await expect(directoryResolver(dir).resolve("bad")).rejects.toThrow("bad.onnx is not a valid ONNX model");
  });
});

describe("registryResolver and chainResolvers", () => {
  async function registry() {
    const dir = tempDir();
    const store = new SqliteStore(join(dir, "v.db"));
    const modelsDir = join(dir, "models");
    mkdirSync(modelsDir);
    const source = join(dir, "upload.onnx");
    writeFileSync(source, colours());
    const info = await inspectOnnx(source, { modelId: "colours", classNames: ["r", "g"] });
    const record: ModelRecord = { modelId: "colours", sha256: info.sha256, family: info.family, task: info.task, infoJson: JSON.stringify(info), sizeBytes: info.sizeBytes, createdAtMs: 1 };
    store.putModel(record, false);
    return { store, modelsDir, source, info, resolver: registryResolver((id) => store.getModel(id), modelsDir) };
  }

  test("resolves registered models to their file by sha256; a missing file is an error", async () => {
    const { store, modelsDir, source, info, resolver } = await registry();
    await expect(resolver.resolve("colours")).rejects.toThrow("is missing from the data directory");
    copyFileSync(source, modelFilePath(modelsDir, info.sha256));
    expect(await resolver.resolve("colours")).toEqual({ info, path: join(modelsDir, `${info.sha256}.onnx`) });
    expect(await resolver.resolve("other")).toBeUndefined();
    store.close();
  });

  test("the first resolver that knows an id wins; describe names them all", async () => {
    const { store, modelsDir, source, info, resolver } = await registry();
    copyFileSync(source, modelFilePath(modelsDir, info.sha256));
    const folder = modelsFolder();
    const chain = chainResolvers(directoryResolver(folder), resolver);
    expect((await chain.resolve("colours"))!.info.classNames).toEqual(["red", "green"]);
    expect((await chainResolvers(resolver, directoryResolver(folder)).resolve("colours"))!.info.classNames).toEqual(["r", "g"]);
    expect(await chain.resolve("nowhere")).toBeUndefined();
    expect(chain.describe()).toBe(`the models folder ${folder} (<model_id>.onnx, class names in <model_id>.txt), then the model registry (vbatch models add)`);
    store.close();
  });
});
