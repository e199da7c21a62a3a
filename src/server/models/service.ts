import { existsSync, rmSync } from "node:fs";
import { AppError, notFound } from "../../core/errors.ts";
import { assertModelId } from "../../core/ids.ts";
import { parseClassesText } from "../../engine/models/class-names.ts";
import { checkFamily, checkTask, inspectOnnx } from "../../engine/models/inspect.ts";
import type { ModelInfo } from "../../engine/models/types.ts";
import { dropModelFileIfUnused, modelFilePath, SHA256_PATTERN } from "../../storage/model-files.ts";
import type { ModelRecord } from "../../storage/store.ts";
import { pageSize } from "../paging.ts";
import type { ServerContext } from "../context.ts";

export interface AddModelInput {
  modelId: unknown;
  overwrite: boolean;
  /** The ONNX file, received into a temp file; it is moved into the store or left for the caller to delete. */
  tempPath: string;
  /** The uploaded file's name, for messages. */
  fileName?: string;
  /** Class names, one per line (a PP-OCR dictionary for ppocr-rec). */
  classes?: string;
  classesFileName?: string;
  family?: string;
  task?: string;
}

/** The model registry's use cases. Takes plain arguments; knows nothing of HTTP. */
export class ModelService {
  constructor(private readonly ctx: ServerContext) {}

  /** The id, checked; throws MODEL_EXISTS when it is taken and `overwrite` is not set. */
  checkAddable(modelId: unknown, overwrite: boolean): string {
    const id = assertModelId(modelId);
    if (!overwrite && this.ctx.store.getModel(id)) throw modelExists(id);
    return id;
  }

  /** Inspects the uploaded file; only a model that passes is kept. */
  async add(input: AddModelInput): Promise<ModelRecord> {
    const modelId = this.checkAddable(input.modelId, input.overwrite);
    const family = checkFamily(input.family);
    const task = checkTask(input.task);
    const classesFrom = input.classesFileName ?? "the classes field";
    const classNames = input.classes === undefined ? undefined : parseClassesText(input.classes, classesFrom, family);
    const info = await inspectOnnx(input.tempPath, { modelId, family, task, classNames, classesFrom, fileName: input.fileName ?? "the uploaded file" });
    return this.keep(info, input.tempPath, input.overwrite);
  }

  /**
   * Moves the file into place and writes the row. Synchronous from the look-up to the last file
   * operation, so no other request sees the file without its row or deletes it in between.
   */
  private keep(info: ModelInfo, tempPath: string, overwrite: boolean): ModelRecord {
    const { store, staging } = this.ctx;
    const previous = store.getModel(info.modelId);
    if (previous && !overwrite) throw modelExists(info.modelId);
    const path = modelFilePath(staging.modelsDir, info.sha256);
    if (existsSync(path)) rmSync(tempPath);
    else staging.commit(tempPath, path);
    const record: ModelRecord = {
      modelId: info.modelId,
      sha256: info.sha256,
      family: info.family,
      task: info.task,
      infoJson: JSON.stringify(info),
      sizeBytes: info.sizeBytes,
      createdAtMs: this.ctx.clock.now(),
    };
    try {
      store.putModel(record, overwrite);
    } catch (e) {
      dropModelFileIfUnused(store, staging, info.sha256);
      throw e;
    }
    if (previous && previous.sha256 !== info.sha256) dropModelFileIfUnused(store, staging, previous.sha256);
    this.ctx.log.info(previous ? "model replaced" : "model added", { modelId: info.modelId, family: info.family, sha256: info.sha256 });
    return record;
  }

  get(modelId: string): ModelRecord {
    const id = assertModelId(modelId);
    const record = this.ctx.store.getModel(id);
    if (!record) throw notFound("Model", id, "MODEL_NOT_FOUND");
    return record;
  }

  list(opts: { pageSize?: number; pageToken?: string }) {
    return this.ctx.store.listModels({ pageSize: pageSize(opts.pageSize, 100), cursor: opts.pageToken });
  }

  /** Removes the model; its file goes with the last model that uses it. */
  delete(modelId: string): void {
    const record = this.get(modelId);
    this.ctx.store.deleteModel(record.modelId);
    dropModelFileIfUnused(this.ctx.store, this.ctx.staging, record.sha256);
    this.ctx.log.info("model deleted", { modelId: record.modelId });
  }

  /** A model's record and the path of its file, for download. */
  file(modelId: string): { record: ModelRecord; path: string } {
    const record = this.get(modelId);
    return { record, path: this.existingFile(record.sha256, record.modelId) };
  }

  /** The path of a model file by content, for agents that cache files by sha256. */
  fileBySha(sha256: string): string {
    if (!SHA256_PATTERN.test(sha256))
      throw new AppError("VALIDATION_FAILED", `Invalid sha256 '${sha256}': 64 lower-case hex digits expected`, 400, { field: "sha256" });
    if (this.ctx.store.countModelsWithSha(sha256) === 0)
      throw new AppError("MODEL_FILE_NOT_FOUND", `No registered model has the file ${sha256}`, 404, { sha256 });
    return this.existingFile(sha256);
  }

  private existingFile(sha256: string, modelId?: string): string {
    const path = modelFilePath(this.ctx.staging.modelsDir, sha256);
    if (!existsSync(path))
      throw new AppError("MODEL_FILE_MISSING", `The model file ${sha256}${modelId ? ` of model '${modelId}'` : ""} is missing from the data directory`, 500, { sha256 });
    return path;
  }
}

const modelExists = (id: string) =>
  new AppError("MODEL_EXISTS", `Model '${id}' already exists; add it with overwrite to replace it`, 409, { modelId: id });
