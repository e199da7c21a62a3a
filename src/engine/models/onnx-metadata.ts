import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { basename } from "node:path";
import { AppError } from "../../core/errors.ts";

/**
 * Reads ModelProto.metadata_props (field 14: repeated StringStringEntryProto {key = 1, value = 2}), which
 * onnxruntime-node does not expose. Top-level fields are walked with positioned reads and everything else
 * (the graph, often hundreds of MiB) is skipped by seeking, so only the few metadata bytes are read.
 */
const METADATA_PROPS = 14;
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LENGTH = 2;
const WIRE_FIXED32 = 5;
/** Metadata entries are short strings; a larger one means the file is not what it claims. */
const MAX_ENTRY_BYTES = 64 << 20;

/** `fileName` names the file in errors (the path may be a temp file). */
export function readOnnxMetadata(path: string, fileName = basename(path)): Record<string, string> {
  const fd = openSync(path, "r");
  try {
    return readTopLevel(new FileCursor(fd, fstatSync(fd).size, fileName));
  } finally {
    closeSync(fd);
  }
}

function readTopLevel(cursor: FileCursor): Record<string, string> {
  const metadata: Record<string, string> = {};
  while (cursor.pos < cursor.size) {
    const key = cursor.varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === WIRE_VARINT) cursor.varint();
    else if (wire === WIRE_FIXED64) cursor.skip(8);
    else if (wire === WIRE_FIXED32) cursor.skip(4);
    else if (wire === WIRE_LENGTH) {
      const length = cursor.varint();
      if (field !== METADATA_PROPS) cursor.skip(length);
      else {
        if (length > MAX_ENTRY_BYTES) throw cursor.malformed(`a metadata entry of ${length} bytes`);
        const [k, v] = decodeEntry(cursor.read(length), cursor);
        metadata[k] = v;
      }
    } else throw cursor.malformed(`wire type ${wire}`);
  }
  return metadata;
}

/** StringStringEntryProto: key (1) and value (2); unknown fields are skipped. */
function decodeEntry(bytes: Uint8Array, cursor: FileCursor): [string, string] {
  const decoder = new TextDecoder();
  let key = "";
  let value = "";
  let pos = 0;
  const varint = () => {
    const r = decodeVarint(bytes, pos);
    if (!r) throw cursor.malformed("a metadata entry that ends early");
    pos = r.next;
    return r.value;
  };
  while (pos < bytes.length) {
    const tag = varint();
    const wire = tag % 8;
    if (wire === WIRE_VARINT) varint();
    else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) pos += wire === WIRE_FIXED64 ? 8 : 4;
    else if (wire === WIRE_LENGTH) {
      const length = varint();
      if (pos + length > bytes.length) throw cursor.malformed("a metadata entry that ends early");
      const text = decoder.decode(bytes.subarray(pos, pos + length));
      const field = Math.floor(tag / 8);
      if (field === 1) key = text;
      else if (field === 2) value = text;
      pos += length;
    } else throw cursor.malformed(`wire type ${wire} in a metadata entry`);
  }
  return [key, value];
}

/** A varint at `pos`, or undefined when the bytes end first. Multiplication keeps 53 bits exact. */
function decodeVarint(bytes: Uint8Array, pos: number): { value: number; next: number } | undefined {
  let value = 0;
  let scale = 1;
  for (let i = pos; i < bytes.length && i < pos + 10; i++) {
    value += (bytes[i]! & 0x7f) * scale;
    if ((bytes[i]! & 0x80) === 0) return { value, next: i + 1 };
    scale *= 128;
  }
  return undefined;
}

class FileCursor {
  pos = 0;

  constructor(
    private readonly fd: number,
    readonly size: number,
    private readonly fileName: string,
  ) {}

  varint(): number {
    const head = this.peek(10);
    const r = decodeVarint(head, 0);
    if (!r) throw this.malformed("a field that ends early");
    this.pos += r.next;
    return r.value;
  }

  skip(n: number): void {
    if (this.pos + n > this.size) throw this.malformed("a field that ends early");
    this.pos += n;
  }

  read(n: number): Uint8Array {
    if (this.pos + n > this.size) throw this.malformed("a field that ends early");
    const out = this.peek(n);
    this.pos += n;
    return out;
  }

  malformed(what: string): AppError {
    return new AppError("MODEL_INVALID", `${this.fileName} is not a readable ONNX model: ${what} at byte ${this.pos}`, 400, {
      file: this.fileName,
    });
  }

  private peek(n: number): Uint8Array {
    const buf = new Uint8Array(Math.min(n, this.size - this.pos));
    let got = 0;
    while (got < buf.length) {
      const r = readSync(this.fd, buf, got, buf.length - got, this.pos + got);
      if (r === 0) break;
      got += r;
    }
    return buf.subarray(0, got);
  }
}
