import sharp, { type Metadata, type Sharp } from "sharp";
import { AppError } from "../../core/errors.ts";
import type { ImageRef, Origin } from "../detections.ts";
import type { FrameMetadata } from "../uql/types.ts";

/** 8-bit sRGB pixels, 3 channels, row-major. */
export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3;
}

export interface DecodeOptions {
  /** Largest width × height accepted: a guard against decompression bombs. */
  maxPixels: number;
}

export const DEFAULT_MAX_PIXELS = 100_000_000;

/**
 * An image flowing through a workflow: the input image (kept encoded until a block needs its pixels, so a
 * detector can resize straight from the file with shrink-on-load) or a crop of one. Width and height are
 * always after EXIF orientation; the pixels are decoded once, upright, to 8-bit sRGB.
 */
export class WorkflowImage implements ImageRef {
  private decoded: Promise<RawImage> | undefined;
  /** Set on a frame decoded from a video (and on its crops and visualisations). */
  videoMetadata: FrameMetadata | undefined;

  private constructor(
    readonly id: string,
    readonly width: number,
    readonly height: number,
    readonly origin: Origin | undefined,
    readonly root: ImageRef["root"],
    private readonly encoded: Uint8Array | undefined,
    raw: RawImage | undefined,
  ) {
    if (raw) this.decoded = Promise.resolve(raw);
  }

  /**
   * Checks an encoded image (format, size, pixel limit) without decoding its pixels. Errors name the
   * image: IMAGE_EMPTY, IMAGE_DECODE_FAILED (not an image, corrupt, truncated), IMAGE_TOO_LARGE.
   */
  static async fromEncoded(bytes: Uint8Array, id: string, opts: DecodeOptions): Promise<WorkflowImage> {
    if (bytes.length === 0) throw new AppError("IMAGE_EMPTY", `Image '${id}' is empty (0 bytes)`, 422, { image: id });
    let meta: Metadata;
    try {
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch (e) {
      throw decodeError(id, e);
    }
    const { width, height } = meta.autoOrient ?? meta;
    if (!width || !height) throw new AppError("IMAGE_DECODE_FAILED", `Image '${id}' has no size`, 422, { image: id });
    if (width * height > opts.maxPixels)
      throw new AppError("IMAGE_TOO_LARGE", `Image '${id}' is ${width}x${height} pixels, over the limit of ${opts.maxPixels} pixels`, 422, {
        image: id,
        width,
        height,
        maxPixels: opts.maxPixels,
      });
    const root = { id, offsetX: 0, offsetY: 0, width, height };
    return new WorkflowImage(id, width, height, undefined, root, bytes, undefined);
  }

  static fromRaw(raw: RawImage, id: string, videoMetadata?: FrameMetadata): WorkflowImage {
    const image = new WorkflowImage(id, raw.width, raw.height, undefined, { id, offsetX: 0, offsetY: 0, width: raw.width, height: raw.height }, undefined, raw);
    image.videoMetadata = videoMetadata;
    return image;
  }

  /** The upright 8-bit RGB pixels, decoded on first use. */
  rgb(): Promise<RawImage> {
    this.decoded ??= this.decode();
    return this.decoded;
  }

  /**
   * A sharp pipeline over the upright image: from the file when its pixels are not decoded yet (lets
   * libvips shrink JPEGs while decoding), else from the pixels.
   */
  async pipeline(): Promise<Sharp> {
    if (!this.decoded && this.encoded) return sharp(this.encoded, { limitInputPixels: false, failOn: "error" }).autoOrient();
    const raw = await this.rgb();
    return sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });
  }

  /** A crop (clamped to the image, whole pixels); the crop knows where it sits in this image and the root. */
  async crop(x1: number, y1: number, x2: number, y2: number, id: string): Promise<WorkflowImage> {
    const left = clamp(Math.floor(x1), 0, this.width - 1);
    const top = clamp(Math.floor(y1), 0, this.height - 1);
    const right = clamp(Math.ceil(x2), left + 1, this.width);
    const bottom = clamp(Math.ceil(y2), top + 1, this.height);
    const src = await this.rgb();
    const w = right - left;
    const h = bottom - top;
    const data = new Uint8Array(w * h * 3);
    for (let row = 0; row < h; row++) {
      const from = ((top + row) * src.width + left) * 3;
      data.set(src.data.subarray(from, from + w * 3), row * w * 3);
    }
    const origin: Origin = { parentId: this.id, offsetX: left, offsetY: top, parentWidth: this.width, parentHeight: this.height };
    const root = { ...this.root, offsetX: this.root.offsetX + left, offsetY: this.root.offsetY + top };
    const crop = new WorkflowImage(id, w, h, origin, root, undefined, { data, width: w, height: h, channels: 3 });
    crop.videoMetadata = this.videoMetadata;
    return crop;
  }

  /** A new image with other pixels at the same place (visualisations keep the lineage of their input). */
  withPixels(raw: RawImage): WorkflowImage {
    const image = new WorkflowImage(this.id, raw.width, raw.height, this.origin, this.root, undefined, raw);
    image.videoMetadata = this.videoMetadata;
    return image;
  }

  async toJpeg(quality = 90): Promise<Buffer> {
    return (await this.pipeline()).jpeg({ quality }).toBuffer();
  }

  private async decode(): Promise<RawImage> {
    try {
      const { data, info } = await sharp(this.encoded!, { limitInputPixels: false, failOn: "error" })
        .autoOrient()
        .toColourspace("srgb")
        .removeAlpha()
        .raw({ depth: "uchar" })
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
      return { data, width: info.width, height: info.height, channels: 3 };
    } catch (e) {
      throw decodeError(this.id, e);
    }
  }
}

export function decodeError(id: string, e: unknown): AppError {
  return new AppError("IMAGE_DECODE_FAILED", `Image '${id}' cannot be decoded: ${(e as Error).message}`, 422, { image: id });
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
