import type { Sharp } from "sharp";
import { decodeError, type WorkflowImage } from "./workflow-image.ts";

/** Where the image sits inside the model input, to map boxes back: original = (model - pad) / scale. */
export interface LetterboxGeometry {
  scale: number;
  padX: number;
  padY: number;
}

export interface Letterboxed extends LetterboxGeometry {
  /** width × height × 3 RGB bytes. */
  pixels: Uint8Array;
  width: number;
  height: number;
}

/**
 * Resizes keeping the aspect ratio and pads to `width` × `height` with grey 114 — centred for the
 * Ultralytics family, at the top-left for YOLOX. Resizing runs in libvips (from the file when the image
 * is not decoded yet, which lets JPEG decoding shrink on load).
 */
export async function letterbox(image: WorkflowImage, width: number, height: number, align: "center" | "top-left"): Promise<Letterboxed> {
  const scale = Math.min(width / image.width, height / image.height);
  const w = Math.max(1, Math.min(width, Math.round(image.width * scale)));
  const h = Math.max(1, Math.min(height, Math.round(image.height * scale)));
  const padX = align === "center" ? Math.floor((width - w) / 2) : 0;
  const padY = align === "center" ? Math.floor((height - h) / 2) : 0;
  const pixels = await rgbBytes(image, (p) =>
    p
      .resize(w, h, { fit: "fill", kernel: "linear" })
      .extend({ left: padX, top: padY, right: width - w - padX, bottom: height - h - padY, background: { r: 114, g: 114, b: 114 } }),
  );
  return { pixels, width, height, scale, padX, padY };
}

/** Resizes to cover `width` × `height` and crops the centre (the input of single-label classifiers). */
export function coverCrop(image: WorkflowImage, width: number, height: number): Promise<Uint8Array> {
  return rgbBytes(image, (p) => p.resize(width, height, { fit: "cover", position: "centre", kernel: "linear" }));
}

/** Runs a resize pipeline to 8-bit sRGB bytes; a file that fails to decode here (truncated) names the image. */
async function rgbBytes(image: WorkflowImage, resize: (p: Sharp) => Sharp): Promise<Uint8Array> {
  try {
    const { data } = await resize(await image.pipeline())
      .toColourspace("srgb")
      .removeAlpha()
      .raw({ depth: "uchar" })
      .toBuffer({ resolveWithObject: true });
    return data;
  } catch (e) {
    throw decodeError(image.id, e);
  }
}

/**
 * HWC bytes to a CHW float tensor: RGB or BGR channel order, multiplied by `factor` (1/255 for the
 * Ultralytics family, 1 for YOLOX which takes raw 0..255). Writes into `out` at `offset` so a batch can
 * share one buffer.
 */
export function toChw(pixels: Uint8Array, width: number, height: number, order: "rgb" | "bgr", factor: number, out: Float32Array, offset = 0): void {
  const plane = width * height;
  // Plane starts computed once: indexing through a per-pixel `channel * plane` runs ~6x slower under Bun.
  const first = offset + (order === "rgb" ? 0 : 2) * plane;
  const second = offset + plane;
  const third = offset + (order === "rgb" ? 2 : 0) * plane;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    out[first + i] = pixels[p]! * factor;
    out[second + i] = pixels[p + 1]! * factor;
    out[third + i] = pixels[p + 2]! * factor;
  }
}
