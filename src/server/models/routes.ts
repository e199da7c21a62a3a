import { rmSync } from "node:fs";
import { Elysia } from "elysia";
import { AppError } from "../../core/errors.ts";
import { humanBytes } from "../../core/format.ts";
import type { ServerContext } from "../context.ts";
import { docResponses, ERROR_RESPONSES, ErrorResponse } from "../errors.ts";
import * as S from "./schema.ts";
import { ModelService } from "./service.ts";
import { receiveModelUpload } from "./upload.ts";

const tags = ["models"];
/** Room for the form's other fields and part headers around the file. */
const FORM_OVERHEAD_BYTES = 16 << 20;

function parseOverwrite(value: string | undefined): boolean {
  if (value === undefined || value === "" || value === "false") return false;
  if (value === "true") return true;
  throw new AppError("VALIDATION_FAILED", `Invalid overwrite ${JSON.stringify(value)}: use true or false`, 400, { field: "overwrite" });
}

/** The file as a download; `If-None-Match` with its sha256 answers 304, so cached copies are not sent again. */
function fileResponse(request: Request, path: string, sha256: string, fileName: string): Response {
  const etag = `"${sha256}"`;
  if (request.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers: { etag } });
  return new Response(Bun.file(path), {
    headers: { "content-type": "application/octet-stream", etag, "content-disposition": `attachment; filename="${fileName}"` },
  });
}

export function modelRoutes(ctx: ServerContext) {
  const service = new ModelService(ctx);
  const maxBytes = Math.floor(ctx.config.maxModelMb * 1048576);

  async function add(request: Request, queryOverwrite: boolean | undefined) {
    if (Number(request.headers.get("content-length") ?? 0) > maxBytes + FORM_OVERHEAD_BYTES)
      throw new AppError("FILE_TOO_LARGE", `A model file may be at most ${humanBytes(maxBytes)} (maxModelMb)`, 413, { maxBytes });
    const tempPath = ctx.staging.tempPath();
    try {
      const overwriteOf = (field: string | undefined) => queryOverwrite ?? parseOverwrite(field);
      const upload = await receiveModelUpload(request, {
        tempPath,
        maxBytes,
        beforeFile: (fields) => {
          if (fields.modelId !== undefined) service.checkAddable(fields.modelId, overwriteOf(fields.overwrite));
        },
      });
      const { fields, fileNames } = upload;
      return await service.add({
        modelId: fields.modelId,
        overwrite: overwriteOf(fields.overwrite),
        tempPath,
        fileName: fileNames.file,
        classes: fields.classes,
        classesFileName: fileNames.classes,
        family: fields.family,
        task: fields.task,
      });
    } finally {
      // Kept models were moved away; whatever is left here was refused.
      rmSync(tempPath, { force: true });
    }
  }

  return new Elysia()
    .post("/api/v1/models", async ({ request, query, set }) => {
      const record = await add(request, query.overwrite);
      set.status = 201;
      return S.modelView(record);
    }, {
      parse: "none",
      query: S.AddModelQuery,
      detail: {
        tags,
        summary: "Register an ONNX model: it is inspected (family, task, input size, class names) and kept only if it passes",
        requestBody: { content: { "multipart/form-data": { schema: S.AddModelForm } } },
        responses: docResponses({ 201: S.Model, 409: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 507: ErrorResponse, ...ERROR_RESPONSES }),
      },
    })

    .get("/api/v1/models", ({ query }) => {
      const page = service.list(query);
      return { models: page.items.map(S.modelView), ...(page.next ? { nextPageToken: page.next } : {}) };
    }, { query: S.ListModelsQuery, detail: { tags, summary: "List models by id", responses: docResponses({ 200: S.ModelList, ...ERROR_RESPONSES }) } })

    .get("/api/v1/models/:modelId", ({ params }) => S.modelView(service.get(params.modelId)), {
      params: S.ModelIdParams,
      detail: { tags, summary: "A model: family, task, input, outputs, class names, metadata", responses: docResponses({ 200: S.Model, ...ERROR_RESPONSES }) },
    })

    .delete("/api/v1/models/:modelId", ({ params }) => {
      service.delete(params.modelId);
      return { deleted: params.modelId };
    }, { params: S.ModelIdParams, detail: { tags, summary: "Delete a model (its file goes with the last model using it)" } })

    .get("/api/v1/models/:modelId/file", ({ params, request }) => {
      const { record, path } = service.file(params.modelId);
      return fileResponse(request, path, record.sha256, `${record.modelId}.onnx`);
    }, { params: S.ModelIdParams, detail: { tags, summary: "Download a model's ONNX file (ETag is its sha256)" } })

    .get("/api/v1/model-files/:sha256", ({ params, request }) => fileResponse(request, service.fileBySha(params.sha256), params.sha256, `${params.sha256}.onnx`), {
      params: S.Sha256Params,
      detail: { tags, summary: "Download a model file by its sha256 (for agents, which cache files by content)" },
    });
}
