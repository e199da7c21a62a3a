import { closeSync, openSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";

/** Text is gathered in a buffer of this size: few writes, and one buffer reused rather than one per flush. */
const BUFFER_BYTES = 1 << 20;
/** UTF-8 bytes per UTF-16 code unit, at most. */
const MAX_BYTES_PER_UNIT = 3;

/** Bytes read at a time by readChunks. */
const READ_BYTES = 1 << 16;

/**
 * A file's bytes in chunks of one reused buffer (each chunk is valid until the next is asked for): buffers
 * allocated per chunk pile up outside the heap faster than the collector frees them.
 */
export async function* readChunks(path: string): AsyncGenerator<Uint8Array> {
  const handle = await open(path, "r");
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, READ_BYTES);
      if (bytesRead === 0) return;
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await handle.close();
  }
}

/** The lines of a UTF-8 text file (without `\n` or `\r\n`), read in chunks so that memory stays flat. */
export async function* readLines(path: string): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let rest = "";
  for await (const chunk of readChunks(path)) {
    const text = rest + decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf("\n"); nl !== -1; nl = text.indexOf("\n", start)) {
      yield stripCr(text.slice(start, nl));
      start = nl + 1;
    }
    rest = text.slice(start);
  }
  rest += decoder.decode();
  if (rest !== "") yield stripCr(rest);
}

const stripCr = (line: string) => (line.endsWith("\r") ? line.slice(0, -1) : line);

/**
 * A buffered file writer with synchronous writes, a megabyte at a time. The work between writes is
 * CPU-bound anyway (awaiting a resolved promise does not let the event loop run), and a promise per write
 * was most of the export's garbage; reads stay asynchronous and are where other work gets its turn.
 */
export class FileWriter {
  private readonly fd: number;
  /** Reused, like readChunks' buffer. */
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private fill = 0;
  private closed = false;
  /** Bytes written so far (all of them once closed). */
  bytes = 0;

  constructor(path: string) {
    this.fd = openSync(path, "w");
  }

  write(text: string): void {
    const worstCase = text.length * MAX_BYTES_PER_UNIT;
    if (worstCase > BUFFER_BYTES - this.fill) {
      this.flush();
      if (worstCase > BUFFER_BYTES) return this.writeBytes(Buffer.from(text));
    }
    this.fill += this.buffer.write(text, this.fill);
  }

  /** Appends a whole file's bytes. */
  async append(path: string): Promise<void> {
    this.flush();
    for await (const chunk of readChunks(path)) this.writeBytes(chunk);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.flush();
    } finally {
      closeSync(this.fd);
    }
  }

  private flush(): void {
    if (this.fill === 0) return;
    const filled = this.fill;
    this.fill = 0;
    this.writeBytes(this.buffer.subarray(0, filled));
  }

  private writeBytes(bytes: Uint8Array): void {
    for (let off = 0; off < bytes.length; ) off += writeSync(this.fd, bytes, off, bytes.length - off);
    this.bytes += bytes.length;
  }
}

/** Writes a file through `fill`, closing it whatever happens; returns its size in bytes. */
export async function writeTextFile(path: string, fill: (out: FileWriter) => void | Promise<void>): Promise<number> {
  const out = new FileWriter(path);
  try {
    await fill(out);
  } finally {
    out.close();
  }
  return out.bytes;
}
