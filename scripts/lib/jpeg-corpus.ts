import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sampleSvg } from "../../src/cli/demo/samples.ts";

/**
 * Writes `count` distinct, valid JPEG files of about `targetBytes` each into `dir`, fast: a few base
 * images are rendered once, and each file gets its index in a JPEG comment segment (so every file's
 * bytes and hash differ while it stays a decodable JPEG).
 */
export async function writeJpegCorpus(dir: string, count: number, targetBytes = 20_000): Promise<string[]> {
  const sharp = (await import("sharp")).default;
  mkdirSync(dir, { recursive: true });
  const bases: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    let quality = 90;
    let jpg = await sharp(Buffer.from(sampleSvg(i, 480, 360))).jpeg({ quality }).toBuffer();
    // Noise makes the size controllable: add grain until the file is about the target size.
    const grain = await sharp(Buffer.from(sampleSvg(i, 480, 360)))
      .composite([{ input: noise(480, 360, i), raw: { width: 480, height: 360, channels: 1 }, blend: "overlay" }])
      .toBuffer();
    for (; quality > 10; quality -= 5) {
      jpg = await sharp(grain).jpeg({ quality }).toBuffer();
      if (jpg.length <= targetBytes) break;
    }
    bases.push(jpg);
  }
  const names: string[] = [];
  for (let i = 0; i < count; i++) {
    const base = bases[i % bases.length]!;
    const name = `img-${String(i).padStart(6, "0")}.jpg`;
    writeFileSync(join(dir, name), withComment(base, `vbatch corpus ${i}`));
    names.push(name);
  }
  return names;
}

function noise(width: number, height: number, seed: number): Buffer {
  const b = Buffer.alloc(width * height);
  let x = seed * 2654435761 + 1;
  for (let i = 0; i < b.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = 96 + (x & 63);
  }
  return b;
}

/** Inserts a COM (0xFFFE) segment right after the SOI marker. */
function withComment(jpeg: Buffer, text: string): Buffer {
  const body = Buffer.from(text, "utf8");
  const seg = Buffer.alloc(4 + body.length);
  seg[0] = 0xff;
  seg[1] = 0xfe;
  seg.writeUInt16BE(body.length + 2, 2);
  body.copy(seg, 4);
  return Buffer.concat([jpeg.subarray(0, 2), seg, jpeg.subarray(2)]);
}
