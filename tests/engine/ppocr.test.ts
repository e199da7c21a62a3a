import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import sharp from "sharp";
import { isAppError } from "../../src/core/errors.ts";
import { createOcrEngine, readingOrder, type OcrEngine, type OcrImage, type OcrLine } from "../../src/engine/models/ppocr.ts";
import { shared, tempDir } from "../helpers.ts";

const PAGE = shared("media/imageTextN.png");

let engine: OcrEngine;
beforeAll(async () => {
  engine = await createOcrEngine({});
});
afterAll(() => engine.release());

async function rgb(input: string | Buffer): Promise<OcrImage> {
  const { data, info } = await sharp(input).removeAlpha().toColourspace("srgb").raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

/** Black text on white, rendered by librsvg; `tilt` turns it clockwise about the image centre. */
function textImage(text: string, width: number, height: number, tilt = 0): Promise<OcrImage> {
  const [cx, cy] = [width / 2, height / 2];
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="white"/>
    <text x="${cx}" y="${cy}" text-anchor="middle" dominant-baseline="central" font-family="DejaVu Sans, sans-serif"
      font-size="72" fill="black" transform="rotate(${tilt} ${cx} ${cy})">${text}</text></svg>`;
  return rgb(Buffer.from(svg));
}

async function errorCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (e) {
    return isAppError(e) ? e.code : `not an AppError: ${e}`;
  }
  return "no error";
}

const centreY = (l: OcrLine) => (l.box[1] + l.box[3]) / 2;

describe.skipIf(!existsSync(PAGE))("OCR on a scanned page", () => {
  let image: OcrImage;
  let lines: OcrLine[];
  beforeAll(async () => {
    image = await rgb(PAGE);
    lines = await engine.recognize(image);
  });

  test("reads the first line exactly", () => {
    expect(lines[0]?.text).toBe("technical details are too complex to cover in the book itself.");
    expect(lines[0]!.confidence).toBeGreaterThan(0.9);
  });

  test("finds every line, inside the image, in reading order", () => {
    expect(lines.length).toBeGreaterThanOrEqual(8);
    for (const { box, polygon } of lines) {
      const [x1, y1, x2, y2] = box;
      expect(0 <= x1 && x1 < x2 && x2 <= image.width && 0 <= y1 && y1 < y2 && y2 <= image.height).toBe(true);
      expect(polygon).toHaveLength(4);
    }
    for (let i = 1; i < lines.length; i++) expect(centreY(lines[i]!)).toBeGreaterThan(centreY(lines[i - 1]!));
    expect(lines.at(-1)?.text).toBe("inspiration from three high-level approaches:");
  });

  test("reuses its sessions: a second call reads the same", async () => {
    const again = await engine.recognize(image);
    expect(again.map((l) => l.text)).toEqual(lines.map((l) => l.text));
  });
});

describe("OCR on generated images", () => {
  test("reads large black text on white exactly", async () => {
    const lines = await engine.recognize(await textImage("VBATCH 2026", 640, 200));
    expect(lines.map((l) => l.text)).toEqual(["VBATCH 2026"]);
    const [x1, y1, x2, y2] = lines[0]!.box;
    expect(x1 > 60 && x2 < 580 && y1 > 40 && y2 < 160).toBe(true);
  });

  test("reads text cropped tight to its letters (a plate crop), with boxes inside the crop", async () => {
    const page = await textImage("AB 1234", 640, 200);
    const { data, info } = await sharp(page.data, { raw: { width: page.width, height: page.height, channels: 3 } })
      .trim({ threshold: 40 })
      .raw()
      .toBuffer({ resolveWithObject: true });
    const lines = await engine.recognize({ data, width: info.width, height: info.height, channels: 3 });
    expect(lines.map((l) => l.text)).toEqual(["AB 1234"]);
    const [x1, y1, x2, y2] = lines[0]!.box;
    expect(x1 >= 0 && y1 >= 0 && x2 <= info.width && y2 <= info.height).toBe(true);
  });

  test("reads a tilted line, with a tilted polygon", async () => {
    const lines = await engine.recognize(await textImage("TILTED2026", 720, 400, 12));
    expect(lines.map((l) => l.text)).toEqual(["TILTED2026"]);
    const [topLeft, topRight] = lines[0]!.polygon;
    const angle = (Math.atan2(topRight![1] - topLeft![1], topRight![0] - topLeft![0]) * 180) / Math.PI;
    expect(Math.abs(angle - 12)).toBeLessThan(2);
  });

  test("finds no lines on a blank image", async () => {
    const blank = { data: new Uint8Array(320 * 240 * 3).fill(255), width: 320, height: 240, channels: 3 as const };
    expect(await engine.recognize(blank)).toEqual([]);
  });
});

describe("OCR errors", () => {
  test("an image too small to hold text", async () => {
    const tiny = { data: new Uint8Array(4 * 4 * 3), width: 4, height: 4, channels: 3 as const };
    expect(await errorCode(engine.recognize(tiny))).toBe("OCR_IMAGE_TOO_SMALL");
  });

  test("pixels that do not match the size", async () => {
    const wrong = { data: new Uint8Array(10), width: 64, height: 64, channels: 3 as const };
    expect(await errorCode(engine.recognize(wrong))).toBe("OCR_IMAGE_INVALID");
  });

  test("a missing model file", async () => {
    const missing = `${tempDir()}/det.onnx`;
    expect(await errorCode(createOcrEngine({ modelFiles: { detection: missing } }))).toBe("OCR_MODEL_MISSING");
  });

  test("a dictionary that does not fit the recognition model", async () => {
    const dictionary = `${tempDir()}/keys.txt`;
    await Bun.write(dictionary, "a\nb\nc\n");
    expect(await errorCode(createOcrEngine({ modelFiles: { dictionary } }))).toBe("OCR_DICTIONARY_MISMATCH");
  });
});

test("reading order: rows top to bottom, each row left to right", () => {
  const line = (x1: number, y1: number): OcrLine => ({ text: `${x1},${y1}`, confidence: 1, box: [x1, y1, x1 + 50, y1 + 20], polygon: [] });
  const order = readingOrder([line(200, 52), line(0, 0), line(100, 48), line(300, 4), line(0, 50)]);
  expect(order.map((l) => l.text)).toEqual(["0,0", "300,4", "0,50", "100,48", "200,52"]);
});
