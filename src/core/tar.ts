import { AppError } from "./errors.ts";

/**
 * A streaming tar (ustar + pax + GNU long names) reader and writer. The reader is push-based and
 * synchronous: it hands each entry's bytes to a sink as they arrive, so a multi-gigabyte upload never sits
 * in memory and a truncated stream leaves complete entries intact.
 */
export type TarEntryType = "file" | "directory" | "symlink" | "hardlink" | "other";

export interface TarEntryHeader {
  name: string;
  size: number;
  type: TarEntryType;
  linkName: string;
  mtimeMs: number;
}

export interface TarEntrySink {
  write(chunk: Uint8Array): void;
  /** All `size` bytes arrived. */
  end(): void;
  /** The stream ended or failed before the entry was complete. */
  abort(reason: string): void;
}

const BLOCK = 512;
const MAX_META_BYTES = 1 << 20;
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const badArchive = (message: string) => new AppError("INVALID_ARCHIVE", `Invalid tar stream: ${message}`, 400);

function cString(block: Uint8Array, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const nul = field.indexOf(0);
  return decoder.decode(nul === -1 ? field : field.subarray(0, nul));
}

function readNumber(block: Uint8Array, start: number, length: number): number {
  if (block[start]! & 0x80) {
    // GNU base-256 encoding for values that do not fit in octal.
    let n = block[start]! & 0x7f;
    for (let i = start + 1; i < start + length; i++) n = n * 256 + block[i]!;
    return n;
  }
  const text = cString(block, start, length).trim();
  if (text === "") return 0;
  if (!/^[0-7]+$/.test(text)) throw badArchive(`a numeric header field holds ${JSON.stringify(text)}`);
  return parseInt(text, 8);
}

function parsePax(data: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const len = parseInt(decoder.decode(data.subarray(pos, space)), 10);
    if (!Number.isFinite(len) || len <= 0 || pos + len > data.length) throw badArchive("a pax record is malformed");
    const record = decoder.decode(data.subarray(space + 1, pos + len - 1));
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

const TYPES: Record<string, TarEntryType> = { "0": "file", "\0": "file", "7": "file", "5": "directory", "2": "symlink", "1": "hardlink" };

type State = "header" | "data" | "meta" | "padding" | "end";

export class TarReader {
  private state: State = "header";
  private header = new Uint8Array(BLOCK);
  private headerFill = 0;
  private remaining = 0;
  private padding = 0;
  private sink: TarEntrySink | undefined;
  private metaKind: "pax" | "gnu-name" | "gnu-link" | "skip" = "skip";
  private meta: Uint8Array[] = [];
  private pending: { path?: string; linkpath?: string; size?: number } = {};
  private zeroBlocks = 0;
  /** Name of the entry whose bytes are arriving, for error reports. */
  current: string | undefined;

  constructor(private readonly onEntry: (header: TarEntryHeader) => TarEntrySink | undefined) {}

  get ended(): boolean {
    return this.state === "end";
  }

  push(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length && this.state !== "end") {
      if (this.state === "header") {
        const take = Math.min(BLOCK - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill === BLOCK) {
          this.headerFill = 0;
          this.onHeader();
        }
      } else if (this.state === "data" || this.state === "meta") {
        const take = Math.min(this.remaining, chunk.length - pos);
        const piece = chunk.subarray(pos, pos + take);
        if (this.state === "data") this.sink?.write(piece);
        else if (this.metaKind !== "skip") this.meta.push(piece.slice());
        this.remaining -= take;
        pos += take;
        if (this.remaining === 0) this.finishEntry();
      } else {
        const take = Math.min(this.padding, chunk.length - pos);
        this.padding -= take;
        pos += take;
        if (this.padding === 0) this.state = "header";
      }
    }
  }

  /** Call when the input ends. Throws TRUNCATED_ARCHIVE when it ended inside an entry. */
  finish(): void {
    const midEntry = this.state === "data" || this.state === "meta" || (this.state === "header" && this.headerFill > 0);
    if (midEntry || (this.state === "padding" && this.padding > 0)) {
      const name = this.current;
      if (this.state === "data" && this.remaining > 0) this.sink?.abort("the tar stream ended inside this file");
      this.sink = undefined;
      if (midEntry)
        throw new AppError(
          "TRUNCATED_ARCHIVE",
          name ? `The tar stream ended inside '${name}'` : "The tar stream ended inside a header",
          400,
          name ? { name } : undefined,
        );
    }
  }

  /** Drops the entry in progress (its sink is told why); used when the input fails. */
  abort(reason: string): void {
    if (this.state === "data" && this.remaining > 0) this.sink?.abort(reason);
    this.sink = undefined;
    this.state = "end";
  }

  private onHeader(): void {
    const block = this.header;
    if (block.every((b) => b === 0)) {
      if (++this.zeroBlocks >= 2) this.state = "end";
      return;
    }
    this.zeroBlocks = 0;
    let stored: number;
    try {
      stored = readNumber(block, 148, 8);
    } catch {
      stored = -1;
    }
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : block[i]!;
    if (sum !== stored) throw badArchive("a header checksum does not match (not a tar stream, or corrupted)");

    const flag = String.fromCharCode(block[156]!);
    const size = this.pending.size ?? readNumber(block, 124, 12);
    if (flag === "x" || flag === "g" || flag === "L" || flag === "K") {
      if (size > MAX_META_BYTES) throw badArchive("an extended header is larger than 1 MiB");
      this.metaKind = flag === "x" ? "pax" : flag === "L" ? "gnu-name" : flag === "K" ? "gnu-link" : "skip";
      this.meta = [];
      this.beginBody("meta", size);
      return;
    }
    const magicUstar = cString(block, 257, 6).startsWith("ustar");
    const prefix = magicUstar ? cString(block, 345, 155) : "";
    const baseName = cString(block, 0, 100);
    let name = this.pending.path ?? (prefix ? `${prefix}/${baseName}` : baseName);
    while (name.startsWith("./")) name = name.slice(2);
    const header: TarEntryHeader = {
      name,
      size,
      type: TYPES[flag] ?? "other",
      linkName: this.pending.linkpath ?? cString(block, 157, 100),
      mtimeMs: readNumber(block, 136, 12) * 1000,
    };
    this.pending = {};
    this.current = name;
    // Only regular files carry data that we keep; other types' bytes are skipped.
    const sink = this.onEntry(header);
    this.sink = header.type === "file" ? sink : undefined;
    this.beginBody("data", header.type === "file" || header.type === "other" ? size : 0);
  }

  private beginBody(state: "data" | "meta", size: number): void {
    this.remaining = size;
    this.padding = (BLOCK - (size % BLOCK)) % BLOCK;
    this.state = state;
    if (size === 0) this.finishEntry();
  }

  private finishEntry(): void {
    if (this.state === "data") {
      const sink = this.sink;
      this.sink = undefined;
      sink?.end();
      this.current = undefined;
    } else if (this.metaKind !== "skip") {
      const data = Buffer.concat(this.meta);
      if (this.metaKind === "pax") {
        const pax = parsePax(data);
        if (pax.path !== undefined) this.pending.path = pax.path;
        if (pax.linkpath !== undefined) this.pending.linkpath = pax.linkpath;
        if (pax.size !== undefined) this.pending.size = Number(pax.size);
      } else {
        const text = cString(data, 0, data.length);
        if (this.metaKind === "gnu-name") this.pending.path = text;
        else this.pending.linkpath = text;
      }
      this.meta = [];
    }
    this.state = this.padding > 0 ? "padding" : "header";
  }
}

// ---------------------------------------------------------------------------------------------------------
// Writer

function writeOctal(block: Uint8Array, start: number, length: number, value: number): void {
  const text = value.toString(8).padStart(length - 1, "0");
  block.set(encoder.encode(text), start);
  block[start + length - 1] = 0;
}

function headerBlock(name: Uint8Array, size: number, mtimeMs: number, flag: string, linkName = ""): Uint8Array {
  const block = new Uint8Array(BLOCK);
  block.set(name.subarray(0, 100), 0);
  block.set(encoder.encode(linkName).subarray(0, 100), 157);
  writeOctal(block, 100, 8, 0o644);
  writeOctal(block, 108, 8, 0);
  writeOctal(block, 116, 8, 0);
  writeOctal(block, 124, 12, size);
  writeOctal(block, 136, 12, Math.max(0, Math.floor(mtimeMs / 1000)));
  block.fill(0x20, 148, 156);
  block[156] = flag.charCodeAt(0);
  block.set(encoder.encode("ustar\u000000"), 257);
  let sum = 0;
  for (const b of block) sum += b;
  writeOctal(block, 148, 7, sum);
  block[155] = 0x20;
  return block;
}

const MAX_OCTAL_SIZE = 0o77777777777;

const FLAGS: Partial<Record<TarEntryType, string>> = { file: "0", symlink: "2", hardlink: "1", directory: "5" };

/**
 * The header block(s) for one entry (a regular file unless `type` says otherwise): a pax header first
 * when the name or size needs one.
 */
export function tarHeader(name: string, size: number, mtimeMs = 0, type: TarEntryType = "file", linkName = ""): Uint8Array {
  const nameBytes = encoder.encode(name);
  const simple = nameBytes.length <= 100 && /^[\x20-\x7e]*$/.test(name) && size <= MAX_OCTAL_SIZE;
  const flag = FLAGS[type] ?? "0";
  if (simple) return headerBlock(nameBytes, size, mtimeMs, flag, linkName);
  const records = [paxRecord("path", name), ...(size > MAX_OCTAL_SIZE ? [paxRecord("size", String(size))] : [])];
  const pax = encoder.encode(records.join(""));
  const out = new Uint8Array(BLOCK + pax.length + tarPaddingSize(pax.length) + BLOCK);
  out.set(headerBlock(encoder.encode("PaxHeader"), pax.length, mtimeMs, "x"), 0);
  out.set(pax, BLOCK);
  const shortName = encoder.encode(name.replace(/[^\x20-\x7e]/g, "_")).subarray(0, 100);
  out.set(headerBlock(shortName, Math.min(size, MAX_OCTAL_SIZE), mtimeMs, flag, linkName), BLOCK + pax.length + tarPaddingSize(pax.length));
  return out;
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  const bodyLen = encoder.encode(body).length;
  let len = bodyLen;
  for (let total = bodyLen + String(len).length; total !== len; total = bodyLen + String(len).length) len = total;
  return `${len}${body}`;
}

export const tarPaddingSize = (size: number) => (BLOCK - (size % BLOCK)) % BLOCK;
export const TAR_END = new Uint8Array(2 * BLOCK);
const PADDING = new Uint8Array(BLOCK);

export interface TarSource {
  name: string;
  size: number;
  mtimeMs?: number;
  /** The file's bytes: small files whole, large ones as a stream. */
  body(): Uint8Array | Promise<Uint8Array> | ReadableStream<Uint8Array>;
}

/** Small pieces are gathered into chunks of about this size: one write per chunk, not three per file. */
const COALESCE_BYTES = 1 << 20;

/**
 * A tar stream of the given sources, produced on demand (pull-based) so that memory stays bounded by about
 * one chunk plus one small file (or one piece of a streamed body). Headers, small bodies and padding are
 * copied into ~1 MiB chunks, which keeps the number of socket writes low. A body whose length differs from
 * `size` fails the stream.
 */
export function tarStream(sources: AsyncIterable<TarSource> | Iterable<TarSource>): ReadableStream<Uint8Array> {
  const iterator =
    Symbol.asyncIterator in sources ? sources[Symbol.asyncIterator]() : (sources as Iterable<TarSource>)[Symbol.iterator]();
  /** The streamed body in progress: its reader, the bytes still expected, and the padding owed after it. */
  let current: { reader: ReadableStreamDefaultReader<Uint8Array>; left: number; pad: number; name: string } | undefined;
  let buffer = new Uint8Array(COALESCE_BYTES);
  let fill = 0;
  const append = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    if (fill + bytes.length > buffer.length) flush(controller);
    if (bytes.length >= buffer.length) controller.enqueue(bytes);
    else {
      buffer.set(bytes, fill);
      fill += bytes.length;
    }
  };
  const flush = (controller: ReadableStreamDefaultController<Uint8Array>) => {
    if (fill === 0) return;
    controller.enqueue(buffer.subarray(0, fill));
    buffer = new Uint8Array(COALESCE_BYTES);
    fill = 0;
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (current) {
        const { done, value } = await current.reader.read();
        if (!done) {
          current.left -= value.length;
          if (current.left < 0) throw new Error(`'${current.name}' grew while it was being sent`);
          controller.enqueue(value);
          return;
        }
        if (current.left !== 0) throw new Error(`'${current.name}' shrank while it was being sent`);
        append(controller, PADDING.subarray(0, current.pad));
        current = undefined;
      }
      while (fill < COALESCE_BYTES / 2) {
        const next = await iterator.next();
        if (next.done) {
          append(controller, TAR_END);
          flush(controller);
          controller.close();
          return;
        }
        const src = next.value;
        const body = await src.body();
        append(controller, tarHeader(src.name, src.size, src.mtimeMs ?? Date.now()));
        const pad = tarPaddingSize(src.size);
        if (!(body instanceof Uint8Array)) {
          flush(controller);
          current = { reader: body.getReader() as ReadableStreamDefaultReader<Uint8Array>, left: src.size, pad, name: src.name };
          return;
        }
        if (body.length !== src.size) throw new Error(`'${src.name}' changed size while it was being sent`);
        append(controller, body);
        append(controller, PADDING.subarray(0, pad));
      }
      flush(controller);
    },
    async cancel() {
      await current?.reader.cancel();
      await (iterator as AsyncIterator<TarSource>).return?.();
    },
  });
}
