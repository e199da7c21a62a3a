import { t } from "elysia";
import type { BatchFileRecord, BatchRecord, PartRecord } from "../../storage/store.ts";

/** Request and response shapes of the batches resource; they also feed the OpenAPI document. */
export const BatchIdParams = t.Object({
  batchId: t.String({ description: "1-64 lower-case letters, digits, '-' or '_'" }),
});

export const CreateBatchBody = t.Object({
  batchId: t.String({ description: "1-64 lower-case letters, digits, '-' or '_'" }),
  name: t.Optional(t.String({ maxLength: 200 })),
  type: t.Union([t.Literal("images"), t.Literal("videos")]),
});

const PageQuery = {
  pageSize: t.Optional(t.Numeric({ description: "items per page (1-10000)" })),
  pageToken: t.Optional(t.String({ description: "nextPageToken of the previous page" })),
};
export const ListBatchesQuery = t.Object(PageQuery);
export const ListContentQuery = t.Object({ ...PageQuery, part: t.Optional(t.String()) });

export const UploadQuery = t.Object({
  name: t.Optional(t.String({ description: "file name, for a raw-body upload" })),
  overwrite: t.Optional(t.BooleanString({ description: "replace a same-named file with different content" })),
});

export const FileQuery = t.Object({
  name: t.String(),
  part: t.Optional(t.String({ default: "default" })),
});

export const ArchiveQuery = t.Object({
  part: t.Optional(t.String({ default: "default" })),
  format: t.Optional(t.Union([t.Literal("tar"), t.Literal("tar.gz"), t.Literal("zip")])),
});
export const ArchiveBody = t.Object({
  names: t.Array(t.String(), { maxItems: 100_000, description: "the files to include (all when absent)" }),
});

export const ReferencesBody = t.Object({
  references: t.Array(t.Object({ name: t.String(), url: t.String() }), { minItems: 1, maxItems: 10_000 }),
  overwrite: t.Optional(t.Boolean()),
});

export const Part = t.Object({ name: t.String(), fileCount: t.Integer(), totalBytes: t.Integer(), createdAt: t.String() });

export const Batch = t.Object({
  batchId: t.String(),
  name: t.String(),
  type: t.Union([t.Literal("images"), t.Literal("videos")]),
  kind: t.Union([t.Literal("input"), t.Literal("output")]),
  fileCount: t.Integer(),
  totalBytes: t.Integer(),
  createdAt: t.String({ format: "date-time" }),
  expiresAt: t.String({ format: "date-time" }),
});
export const BatchDetails = t.Composite([Batch, t.Object({ parts: t.Array(Part) })]);
export const BatchList = t.Object({ batches: t.Array(Batch), nextPageToken: t.Optional(t.String()) });

export const BatchFile = t.Object({
  name: t.String(),
  part: t.String(),
  sizeBytes: t.Integer(),
  sha256: t.String(),
  contentType: t.String(),
  createdAt: t.String({ format: "date-time" }),
});
export const ContentList = t.Object({ files: t.Array(BatchFile), nextPageToken: t.Optional(t.String()) });

export const UploadSummary = t.Object({
  stored: t.Integer(),
  replaced: t.Integer(),
  unchanged: t.Integer(),
  bytes: t.Integer(),
  rejected: t.Array(t.Object({ name: t.String(), code: t.String(), message: t.String() })),
});
export const UploadOne = t.Object({
  name: t.String(),
  status: t.Union([t.Literal("stored"), t.Literal("replaced"), t.Literal("unchanged")]),
  sizeBytes: t.Integer(),
  sha256: t.String(),
});

const iso = (ms: number) => new Date(ms).toISOString();

export const batchView = (b: BatchRecord) => ({
  batchId: b.id,
  name: b.name,
  type: b.type,
  kind: b.kind,
  fileCount: b.fileCount,
  totalBytes: b.totalBytes,
  createdAt: iso(b.createdAtMs),
  expiresAt: iso(b.expiresAtMs),
});
export const partView = (p: PartRecord) => ({ name: p.name, fileCount: p.fileCount, totalBytes: p.totalBytes, createdAt: iso(p.createdAtMs) });
export const fileView = (f: BatchFileRecord) => ({
  name: f.name,
  part: f.part,
  sizeBytes: f.sizeBytes,
  sha256: f.sha256,
  contentType: f.contentType,
  createdAt: iso(f.createdAtMs),
});
