import { t } from "elysia";
import { modelInfoOf } from "../../engine/models/resolvers.ts";
import { MODEL_FAMILIES, MODEL_TASKS } from "../../engine/models/types.ts";
import type { ModelRecord } from "../../storage/store.ts";

/** Request and response shapes of the models resource; they also feed the OpenAPI document. */
const MODEL_ID = "1-100 lower-case letters, digits, '-', '_' or '.' (not first)";

export const ModelIdParams = t.Object({ modelId: t.String({ description: MODEL_ID }) });
export const Sha256Params = t.Object({ sha256: t.String({ description: "the file's sha256, 64 lower-case hex digits" }) });

export const ListModelsQuery = t.Object({
  pageSize: t.Optional(t.Numeric({ description: "items per page (1-10000)" })),
  pageToken: t.Optional(t.String({ description: "nextPageToken of the previous page" })),
});

export const AddModelQuery = t.Object({
  overwrite: t.Optional(t.BooleanString({ description: "replace a model of the same id (also accepted as a form field)" })),
});

/** The multipart form of an upload, for the OpenAPI document (the body is read as a stream, not by schema). */
export const AddModelForm = t.Object({
  modelId: t.String({ description: MODEL_ID }),
  classes: t.Optional(t.String({ description: "class names, one per line in class-id order (text or a text file); optional when the model's metadata has Ultralytics 'names'" })),
  family: t.Optional(t.Union(MODEL_FAMILIES.map((f) => t.Literal(f)), { description: "read from the output shapes when absent" })),
  task: t.Optional(t.Union(MODEL_TASKS.map((k) => t.Literal(k)), { description: "follows from the family when absent" })),
  overwrite: t.Optional(t.Union([t.Literal("true"), t.Literal("false")])),
  file: t.String({ format: "binary", description: "the ONNX model; send it last, so a bad or taken id fails before the upload" }),
});

const Dim = t.Union([t.Integer(), t.String()], { description: "a size, or a name for a dynamic dimension" });
const Tensor = { name: t.String(), shape: t.Array(Dim), type: t.String() };

export const Model = t.Object({
  modelId: t.String(),
  family: t.String(),
  task: t.String(),
  sha256: t.String(),
  sizeBytes: t.Integer(),
  classNames: t.Array(t.String()),
  input: t.Object({ ...Tensor, width: t.Integer(), height: t.Integer(), dynamicBatch: t.Boolean() }),
  outputs: t.Array(t.Object(Tensor)),
  metadata: t.Record(t.String(), t.String(), { description: "the ONNX metadata_props" }),
  createdAt: t.String({ format: "date-time" }),
});
export const ModelList = t.Object({ models: t.Array(Model), nextPageToken: t.Optional(t.String()) });

export function modelView(r: ModelRecord) {
  const info = modelInfoOf(r);
  return {
    modelId: r.modelId,
    family: info.family,
    task: info.task,
    sha256: r.sha256,
    sizeBytes: r.sizeBytes,
    classNames: info.classNames,
    input: info.input,
    outputs: info.outputs,
    metadata: info.metadata,
    createdAt: new Date(r.createdAtMs).toISOString(),
  };
}
