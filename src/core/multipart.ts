import { AppError } from "./errors.ts";

/**
 * A streaming multipart/form-data reader: each part's body is handed to a sink chunk by chunk as it
 * arrives, so a large file field goes to disk without the whole body being held in memory (which the
 * platform's `formData()` does).
 */
export interface MultipartPart {
  /** The form field's name. */
  name: string;
  /** Present when the part is a file. */
  fileName: string | undefined;
  contentType: string | undefined;
}

export interface PartSink {
  write(chunk: Uint8Array): void;
  end(): void;
}

const MAX_HEADER_BYTES = 16 * 1024;
const CRLF = Buffer.from("\r\n");
const HEADER_END = Buffer.from("\r\n\r\n");

const invalidBody = (why: string) => new AppError("INVALID_BODY", `The multipart body could not be read: ${why}`, 400);

export function boundaryOf(contentType: string): string {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw invalidBody("its Content-Type has no boundary");
  return m[1] ?? m[2]!;
}

type State = "preamble" | "delimiter" | "headers" | "body";

export async function readMultipart(
  body: AsyncIterable<Uint8Array>,
  contentType: string,
  onPart: (part: MultipartPart) => PartSink,
): Promise<void> {
  // Every boundary but the first follows a CRLF; starting the buffer with one makes them all alike.
  const delimiter = Buffer.from(`\r\n--${boundaryOf(contentType)}`);
  let buf: Buffer = Buffer.from(CRLF);
  let state: State = "preamble";
  let sink: PartSink | undefined;

  /** Handles what the buffer holds; false when it needs more bytes, true at the closing boundary. */
  const consume = (): boolean => {
    for (;;) {
      if (state === "preamble" || state === "body") {
        const at = buf.indexOf(delimiter);
        // Without a whole delimiter, all but its possible start can go to the part now.
        const upTo = at >= 0 ? at : Math.max(0, buf.length - delimiter.length + 1);
        if (state === "body" && upTo > 0) sink!.write(buf.subarray(0, upTo));
        buf = buf.subarray(at >= 0 ? at + delimiter.length : upTo);
        if (at < 0) return false;
        if (state === "body") sink!.end();
        state = "delimiter";
      } else if (state === "delimiter") {
        if (buf.length < 2) return false;
        const next = buf.subarray(0, 2).toString("latin1");
        if (next === "--") return true;
        if (next !== "\r\n") throw invalidBody("a boundary is followed by neither a line break nor '--'");
        buf = buf.subarray(2);
        state = "headers";
      } else if (state === "headers") {
        const end = buf.indexOf(HEADER_END);
        if (end < 0) {
          if (buf.length > MAX_HEADER_BYTES) throw invalidBody("a part's headers are too long");
          return false;
        }
        sink = onPart(parseHeaders(buf.subarray(0, end).toString("utf8")));
        buf = buf.subarray(end + HEADER_END.length);
        state = "body";
      }
    }
  };

  for await (const chunk of body) {
    buf = buf.length === 0 ? Buffer.from(chunk) : Buffer.concat([buf, chunk]);
    if (consume()) return;
  }
  throw invalidBody("it ends before its closing boundary");
}

function parseHeaders(text: string): MultipartPart {
  let disposition = "";
  let contentType: string | undefined;
  for (const line of text.split("\r\n")) {
    const colon = line.indexOf(":");
    const key = line.slice(0, colon).trim().toLowerCase();
    if (key === "content-disposition") disposition = line.slice(colon + 1);
    else if (key === "content-type") contentType = line.slice(colon + 1).trim();
  }
  const name = quoted(disposition, "name");
  if (name === undefined) throw invalidBody("a part has no Content-Disposition name");
  return { name, fileName: quoted(disposition, "filename"), contentType };
}

/** A `key="value"` parameter of a header (browsers escape quotes inside as %22 or \"). */
function quoted(header: string, key: string): string | undefined {
  const m = new RegExp(`(?:^|;)\\s*${key}="((?:[^"\\\\]|\\\\.)*)"`, "i").exec(header);
  return m ? m[1]!.replace(/\\(.)/g, "$1") : undefined;
}
