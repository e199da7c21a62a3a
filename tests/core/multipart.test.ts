import { describe, expect, test } from "bun:test";
import { readMultipart, type MultipartPart } from "../../src/core/multipart.ts";

/** A real multipart body as the platform encodes a FormData. */
async function encoded(form: FormData): Promise<{ bytes: Uint8Array; type: string }> {
  const response = new Response(form);
  const type = response.headers.get("content-type")!;
  return { bytes: new Uint8Array(await response.arrayBuffer()), type };
}

async function* chunked(bytes: Uint8Array, sizes: number[]): AsyncGenerator<Uint8Array> {
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

async function parse(bytes: Uint8Array, type: string, sizes: number[]) {
  const parts: (MultipartPart & { body: Uint8Array })[] = [];
  await readMultipart(chunked(bytes, sizes), type, (part) => {
    const chunks: Uint8Array[] = [];
    return { write: (c) => void chunks.push(Uint8Array.from(c)), end: () => void parts.push({ ...part, body: Buffer.concat(chunks) }) };
  });
  return parts;
}

describe("readMultipart", () => {
  test("fields and files come out whole however the body is cut into chunks", async () => {
    // Bytes that contain CRLFs and dashes, the delimiter's own characters.
    const payload = new Uint8Array(70_000).map((_, i) => [13, 10, 45, 45, i & 255][i % 5]!);
    const form = new FormData();
    form.append("modelId", "yolov8n-640");
    form.append("classes", new File(["person\r\ncar\n"], "names.txt"));
    form.append("file", new File([payload], "model.onnx"));
    const { bytes, type } = await encoded(form);
    for (const sizes of [[1], [7, 3], [65_536], [bytes.length]]) {
      const parts = await parse(bytes, type, sizes);
      expect(parts.map((p) => [p.name, p.fileName])).toEqual([["modelId", undefined], ["classes", "names.txt"], ["file", "model.onnx"]]);
      expect(new TextDecoder().decode(parts[0]!.body)).toBe("yolov8n-640");
      expect(new TextDecoder().decode(parts[1]!.body)).toBe("person\r\ncar\n");
      expect(Buffer.from(parts[2]!.body).equals(Buffer.from(payload))).toBe(true);
    }
  });

  test("a body cut short, or without a boundary, is refused", async () => {
    const form = new FormData();
    form.append("file", new File(["abc"], "m.onnx"));
    const { bytes, type } = await encoded(form);
    await expect(parse(bytes.subarray(0, bytes.length - 10), type, [100])).rejects.toThrow("it ends before its closing boundary");
    await expect(parse(bytes, "multipart/form-data", [100])).rejects.toThrow("its Content-Type has no boundary");
  });

  test("an error thrown by a sink stops the reading", async () => {
    const form = new FormData();
    form.append("file", new File([new Uint8Array(1000)], "m.onnx"));
    const { bytes, type } = await encoded(form);
    const reading = readMultipart(chunked(bytes, [100]), type, () => ({
      write: () => {
        throw new Error("too large");
      },
      end: () => {},
    }));
    await expect(reading).rejects.toThrow("too large");
  });
});
