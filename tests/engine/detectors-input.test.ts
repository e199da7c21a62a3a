import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import sharp, { type Metadata } from "sharp";
import type { Detection } from "../../src/engine/detections.ts";
import { ModelRuntime } from "../../src/engine/models/runtime.ts";
import type { ResolvedModel } from "../../src/engine/models/types.ts";
import { tempDir } from "../helpers.ts";
import { boxOf, DEFAULT_DETECT, haveShared, imageOf, iou, media, sharedModel } from "./detectors-fixtures.ts";

describe.skipIf(!haveShared)("detector input: encodings, orientation and bad files", () => {
  const runtime = new ModelRuntime({ intraOpNumThreads: 1, machineType: "cpu" });
  afterAll(() => runtime.release());
  let model: ResolvedModel;
  let original: Uint8Array;
  let reference: Detection[];
  const detect = async (bytes: Uint8Array, id: string, confidence = 0.25) =>
    (await runtime.detect(model, [await imageOf(bytes, id)], { ...DEFAULT_DETECT, confidence }))[0]!;

  beforeAll(async () => {
    model = sharedModel("yolov8n-640-int8.onnx", "yolov8", 640);
    original = media("messi5.jpg");
    reference = (await detect(original, "original", 0.5)).items;
    expect(reference.map((d) => d.className)).toContain("sports ball");
  });

  /** Every reference detection at or above `min` is found again: same class, box within IoU 0.85. */
  function expectSameDetections(items: Detection[], min = 0.5) {
    for (const ref of reference.filter((d) => d.confidence >= min)) {
      const best = Math.max(0, ...items.filter((d) => d.className === ref.className).map((d) => iou(boxOf(d), boxOf(ref))));
      expect(best).toBeGreaterThan(0.85);
    }
  }

  const variants: { name: string; make: () => Promise<Buffer>; layout: Partial<Metadata>; min: number }[] = [
    // Without ICC profiles the trip through CMYK shifts colours: the small background players come and go.
    { name: "CMYK JPEG", make: () => sharp(original).toColourspace("cmyk").jpeg({ quality: 95 }).toBuffer(), layout: { space: "cmyk", channels: 4 }, min: 0.8 },
    { name: "16-bit PNG", make: () => sharp(original).toColourspace("rgb16").png().toBuffer(), layout: { depth: "ushort" }, min: 0.5 },
    { name: "PNG with alpha", make: () => sharp(original).ensureAlpha(0.6).png().toBuffer(), layout: { channels: 4, hasAlpha: true }, min: 0.5 },
  ];
  for (const { name, make, layout, min } of variants) {
    test(`${name} gives the same detections`, async () => {
      const bytes = new Uint8Array(await make());
      expect(await sharp(bytes).metadata()).toMatchObject(layout);
      const result = await detect(bytes, name);
      expect(result.image).toMatchObject({ width: 548, height: 342 });
      expectSameDetections(result.items, min);
    });
  }

  test("a greyscale 1-channel PNG is read as the same grey picture in RGB", async () => {
    const grey = new Uint8Array(await sharp(original).toColourspace("b-w").png().toBuffer());
    expect(await sharp(grey).metadata()).toMatchObject({ channels: 1 });
    const greyRgb = new Uint8Array(await sharp(grey).toColourspace("srgb").png().toBuffer());
    expect(await sharp(greyRgb).metadata()).toMatchObject({ channels: 3 });
    const [fromGrey, fromRgb] = [await detect(grey, "grey"), await detect(greyRgb, "grey-rgb")];
    expect(fromGrey.items.map((d) => [d.className, ...boxOf(d).map(Math.round)])).toEqual(fromRgb.items.map((d) => [d.className, ...boxOf(d).map(Math.round)]));
    // Colour matters to the ball's score, not to the player's.
    const player = reference.find((d) => d.className === "person" && d.confidence > 0.8)!;
    expect(Math.max(...fromGrey.items.filter((d) => d.className === "person").map((d) => iou(boxOf(d), boxOf(player))))).toBeGreaterThan(0.85);
  });

  test("an EXIF-rotated photo gives boxes in the upright image's coordinates", async () => {
    // Pixels stored turned 90° clockwise; orientation 8 tells viewers to turn them back.
    const rotated = new Uint8Array(await sharp(original).rotate(90).withMetadata({ orientation: 8 }).jpeg({ quality: 95 }).toBuffer());
    expect(await sharp(rotated).metadata()).toMatchObject({ width: 342, height: 548, orientation: 8 });
    const result = await detect(rotated, "rotated");
    expect(result.image).toMatchObject({ width: 548, height: 342 });
    expectSameDetections(result.items);
  });

  test("zero-byte, corrupt and truncated images and a decompression bomb give clear errors", async () => {
    await expect(imageOf(new Uint8Array(0), "empty.jpg")).rejects.toMatchObject({ code: "IMAGE_EMPTY" });
    const garbage = new TextEncoder().encode("this is not an image, just text with a .jpg name");
    await expect(imageOf(garbage, "garbage.jpg")).rejects.toMatchObject({ code: "IMAGE_DECODE_FAILED" });
    const corruptHeader = original.slice();
    corruptHeader.fill(0xff, 2, 400);
    await expect(imageOf(corruptHeader, "corrupt.jpg")).rejects.toMatchObject({ code: "IMAGE_DECODE_FAILED" });
    await expect(imageOf(pngDeclaring(100_000, 100_000), "bomb.png")).rejects.toMatchObject({ code: "IMAGE_TOO_LARGE" });

    // A truncated file has a readable header: it fails when its pixels are decoded, naming the image.
    for (const [id, bytes] of [["half.jpg", original], ["half.png", media("basketball1.png")]] as const) {
      const image = await imageOf(bytes.subarray(0, bytes.length >> 1), id);
      const err = await runtime.detect(model, [image], DEFAULT_DETECT).catch((e) => e);
      expect(err).toMatchObject({ code: "IMAGE_DECODE_FAILED" });
      expect(err.message).toContain(id);
    }
    // The runtime still works afterwards.
    expectSameDetections((await detect(original, "again")).items);
  });

  test("a model file that is not ONNX fails clearly when its session is created", async () => {
    const path = join(tempDir(), "broken.onnx");
    writeFileSync(path, "this is not an ONNX model");
    const broken: ResolvedModel = { path, info: { ...model.info, modelId: "broken-model", sha256: "0".repeat(64) } };
    const image = await imageOf(original, "m");
    const err = await runtime.detect(broken, [image], DEFAULT_DETECT).catch((e) => e);
    expect(err).toMatchObject({ code: "MODEL_LOAD_FAILED" });
    expect(err.message).toContain("broken-model");
    expect(err.message).toContain(path);
  });
});

/** A 1×1 PNG whose header claims `width` × `height` (CRC fixed, so decoders trust it). */
function pngDeclaring(width: number, height: number): Uint8Array {
  const png = new Uint8Array(
    Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC", "base64"),
  );
  const view = new DataView(png.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, Bun.hash.crc32(png.subarray(12, 29)));
  return png;
}
