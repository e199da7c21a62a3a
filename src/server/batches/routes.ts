import { Elysia, t } from "elysia";
import { AppError } from "../../core/errors.ts";
import { humanBytes } from "../../core/format.ts";
import { checkFileName, checkPartName } from "../../storage/file-names.ts";
import type { BatchFileRecord } from "../../storage/store.ts";
import type { ServerContext } from "../context.ts";
import { docResponses, ERROR_RESPONSES, ErrorResponse } from "../errors.ts";
import { ARCHIVE_CONTENT_TYPES, archiveStream, type ArchiveFormat } from "./archive.ts";
import * as S from "./schema.ts";
import { BatchService } from "./service.ts";

const tags = ["batches"];

/** The whole body, refusing it as soon as it passes `max` bytes. */
async function readCapped(request: Request, max: number): Promise<Uint8Array> {
  const tooLarge = () =>
    new AppError("BODY_TOO_LARGE", `A multipart upload may hold at most ${humanBytes(max)}; send larger files as a raw body or a tar stream`, 413);
  if (Number(request.headers.get("content-length") ?? 0) > max) throw tooLarge();
  const parts: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body ?? []) {
    size += chunk.length;
    if (size > max) throw tooLarge();
    parts.push(chunk);
  }
  return Buffer.concat(parts);
}

export function batchRoutes(ctx: ServerContext) {
  const service = new BatchService(ctx);

  /** Every file of a part, paged from the store as the archive is written. */
  async function* partFiles(batchId: string, part: string): AsyncGenerator<BatchFileRecord> {
    let cursor: string | undefined;
    do {
      const page = ctx.store.listBatchFiles(batchId, { part, pageSize: 1000, cursor });
      yield* page.items;
      cursor = page.next;
    } while (cursor);
  }

  function archiveResponse(batchId: string, query: { part?: string; format?: ArchiveFormat }, names?: string[]) {
    const batch = service.get(batchId);
    const part = checkPartName(query.part ?? "default");
    const format = query.format ?? "tar";
    let files: AsyncIterable<BatchFileRecord>;
    if (names) {
      const rows = names.map((n) => ctx.store.getBatchFile(batch.id, part, checkFileName(n)));
      const missing = names.filter((_, i) => !rows[i]);
      if (missing.length)
        throw new AppError("FILE_NOT_FOUND", `${missing.length} of the named files are not in part '${part}' of batch '${batch.id}'`, 404, {
          missing: missing.slice(0, 100),
        });
      files = (async function* () {
        yield* rows as BatchFileRecord[];
      })();
    } else {
      if (!ctx.store.listParts(batch.id).some((p) => p.name === part))
        throw new AppError("PART_NOT_FOUND", `Batch '${batch.id}' has no part '${part}'`, 404, { part });
      files = partFiles(batch.id, part);
    }
    const body = archiveStream(files, (row) => ctx.staging.filePath(batch, part, row.name), format);
    return new Response(body, {
      headers: {
        "content-type": ARCHIVE_CONTENT_TYPES[format],
        "content-disposition": `attachment; filename="${batch.id}-${part}.${format}"`,
      },
    });
  }

  return new Elysia({ prefix: "/api/v1/batches" })
    .post("", ({ body, set }) => {
      set.status = 201;
      return S.batchView(service.create(body));
    }, { body: S.CreateBatchBody, detail: { tags, summary: "Create a batch of images or videos", responses: docResponses({ 201: S.Batch, 409: ErrorResponse, ...ERROR_RESPONSES }) } })

    .get("", ({ query }) => {
      const page = service.list(query);
      return { batches: page.items.map(S.batchView), ...(page.next ? { nextPageToken: page.next } : {}) };
    }, { query: S.ListBatchesQuery, detail: { tags, summary: "List batches, newest first", responses: docResponses({ 200: S.BatchList, ...ERROR_RESPONSES }) } })

    .get("/:batchId", ({ params }) => {
      const d = service.details(params.batchId);
      return { ...S.batchView(d), parts: d.parts.map(S.partView) };
    }, { params: S.BatchIdParams, detail: { tags, summary: "Batch details: type, counts, bytes, parts, creation and expiry", responses: docResponses({ 200: S.BatchDetails, ...ERROR_RESPONSES }) } })

    .delete("/:batchId", ({ params }) => {
      service.delete(params.batchId);
      return { deleted: params.batchId };
    }, { params: S.BatchIdParams, detail: { tags, summary: "Delete a batch with its files" } })

    .get("/:batchId/content", ({ params, query }) => {
      const page = service.listContent(params.batchId, query);
      return { files: page.items.map(S.fileView), ...(page.next ? { nextPageToken: page.next } : {}) };
    }, { params: S.BatchIdParams, query: S.ListContentQuery, detail: { tags, summary: "List the files of a batch (all parts, or one), by name", responses: docResponses({ 200: S.ContentList, ...ERROR_RESPONSES }) } })

    .post("/:batchId/files", async ({ params, query, request }) => {
      const type = request.headers.get("content-type") ?? "";
      const overwrite = query.overwrite === true;
      if (type.startsWith("multipart/form-data")) {
        // Multipart bodies are parsed in memory, so they are capped; raw and tar bodies stream to disk.
        const bytes = await readCapped(request, Math.floor(ctx.config.maxMultipartMb * 1048576));
        const form = await new Response(bytes, { headers: { "content-type": type } }).formData().catch((e) => {
          throw new AppError("INVALID_BODY", `The multipart body could not be read: ${(e as Error).message}`, 400);
        });
        const files = [...form.values()].filter((v) => typeof v !== "string") as unknown as File[];
        if (files.length === 0) throw new AppError("INVALID_BODY", "The multipart body holds no file fields", 400);
        return service.uploadFiles(params.batchId, files, overwrite);
      }
      if (!request.body) throw new AppError("INVALID_BODY", "The request has no body", 400);
      if (type.startsWith("application/x-tar")) return service.uploadTar(params.batchId, request.body, overwrite);
      if (!query.name) throw new AppError("VALIDATION_FAILED", "A raw-body upload needs the file name in ?name=", 400, { field: "name" });
      return service.uploadOne(params.batchId, query.name, request.body, overwrite);
    }, {
      parse: "none",
      params: S.BatchIdParams,
      query: S.UploadQuery,
      detail: {
        tags,
        summary: "Upload files: multipart/form-data (one or more file fields), application/x-tar (a stream of many), or any other type as one raw file named by ?name=",
        requestBody: {
          content: {
            "multipart/form-data": { schema: { type: "object", properties: { file: { type: "string", format: "binary" } } } },
            "application/x-tar": { schema: { type: "string", format: "binary" } },
            "application/octet-stream": { schema: { type: "string", format: "binary" } },
          },
        },
        responses: docResponses({ 200: t.Union([S.UploadSummary, S.UploadOne]), 409: ErrorResponse, 413: ErrorResponse, 415: ErrorResponse, 507: ErrorResponse, ...ERROR_RESPONSES }),
      },
    })

    .post("/:batchId/references", ({ params, body }) => service.addReferences(params.batchId, body.references, body.overwrite), {
      params: S.BatchIdParams,
      body: S.ReferencesBody,
      detail: {
        tags,
        summary: "Add files the server fetches from http(s) URLs (size, time and redirect limits apply)",
        responses: docResponses({ 200: S.UploadSummary, ...ERROR_RESPONSES }),
      },
    })

    .get("/:batchId/file", ({ params, query }) => {
      const { row, path } = service.file(params.batchId, query.part ?? "default", query.name);
      return new Response(Bun.file(path), {
        headers: {
          "content-type": row.contentType,
          etag: `"${row.sha256}"`,
          "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(row.name.split("/").pop()!)}`,
        },
      });
    }, { params: S.BatchIdParams, query: S.FileQuery, detail: { tags, summary: "Download one file" } })

    .get("/:batchId/archive", ({ params, query }) => archiveResponse(params.batchId, query), {
      params: S.BatchIdParams,
      query: S.ArchiveQuery,
      detail: { tags, summary: "Download a part as an archive (tar, tar.gz or zip)" },
    })

    .post("/:batchId/archive", ({ params, query, body }) => archiveResponse(params.batchId, query, body.names), {
      params: S.BatchIdParams,
      query: S.ArchiveQuery,
      body: S.ArchiveBody,
      detail: { tags, summary: "Download named files of a part as an archive" },
    });
}
