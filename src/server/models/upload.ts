import { closeSync, openSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { AppError } from "../../core/errors.ts";
import { humanBytes } from "../../core/format.ts";
import { readMultipart, type PartSink } from "../../core/multipart.ts";

/**
 * Receives a model upload (multipart/form-data): the `file` field streams to a temp file under a size
 * limit; the other fields are short texts kept in memory.
 */
export const MODEL_FIELDS = ["file", "modelId", "classes", "family", "task", "overwrite"] as const;

/** A class names list is small (tens of thousands of names at most); anything larger is not one. */
const MAX_FIELD_BYTES = 8 << 20;

export interface ModelUpload {
  fields: Partial<Record<Exclude<(typeof MODEL_FIELDS)[number], "file">, string>>;
  /** File names sent with the parts, for messages. */
  fileNames: { file?: string; classes?: string };
  /** Whether the `file` field came. */
  received: boolean;
}

export interface UploadOptions {
  tempPath: string;
  maxBytes: number;
  /** Called when the file starts, with the fields sent before it: a taken id fails before the bytes come. */
  beforeFile(fields: ModelUpload["fields"]): void;
}

export async function receiveModelUpload(request: Request, opts: UploadOptions): Promise<ModelUpload> {
  const type = request.headers.get("content-type") ?? "";
  if (!type.startsWith("multipart/form-data"))
    throw new AppError("UNSUPPORTED_CONTENT", `Send a model as multipart/form-data with a 'file' field (got ${type || "no Content-Type"})`, 415);
  if (!request.body) throw new AppError("INVALID_BODY", "The request has no body", 400);
  const upload: ModelUpload = { fields: {}, fileNames: {}, received: false };
  const file = new TempFileSink(opts.tempPath, opts.maxBytes);
  try {
    await readMultipart(request.body, type, (part) => {
      if (!(MODEL_FIELDS as readonly string[]).includes(part.name))
        throw new AppError("VALIDATION_FAILED", `Unknown field '${part.name}'; a model upload has: ${MODEL_FIELDS.join(", ")}`, 400, { field: part.name });
      const name = part.name as (typeof MODEL_FIELDS)[number];
      if (part.fileName !== undefined && (name === "file" || name === "classes")) upload.fileNames[name] = basename(part.fileName);
      if (name !== "file") return new TextSink((text) => (upload.fields[name] = text), name);
      if (upload.received) throw new AppError("VALIDATION_FAILED", "A model upload holds one 'file' field", 400, { field: "file" });
      upload.received = true;
      opts.beforeFile(upload.fields);
      return file;
    });
  } finally {
    file.close();
  }
  if (!upload.received) throw new AppError("VALIDATION_FAILED", "The upload has no 'file' field with the ONNX model", 400, { field: "file" });
  return upload;
}

class TempFileSink implements PartSink {
  private fd: number | undefined;
  private size = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {}

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes)
      throw new AppError("FILE_TOO_LARGE", `A model file may be at most ${humanBytes(this.maxBytes)} (maxModelMb)`, 413, { maxBytes: this.maxBytes });
    this.fd ??= openSync(this.path, "wx");
    let off = 0;
    while (off < chunk.length) off += writeSync(this.fd, chunk, off, chunk.length - off);
  }

  end(): void {
    if (this.size === 0) throw new AppError("EMPTY_FILE", "The model file is empty (0 bytes)", 400, { field: "file" });
    this.close();
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

class TextSink implements PartSink {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  constructor(
    private readonly done: (text: string) => void,
    private readonly field: string,
  ) {}

  write(chunk: Uint8Array): void {
    this.size += chunk.length;
    if (this.size > MAX_FIELD_BYTES)
      throw new AppError("FIELD_TOO_LARGE", `Field '${this.field}' may hold at most ${humanBytes(MAX_FIELD_BYTES)}`, 413, { field: this.field });
    this.parts.push(chunk);
  }

  end(): void {
    this.done(new TextDecoder().decode(Buffer.concat(this.parts)));
  }
}
