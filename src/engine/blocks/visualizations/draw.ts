import sharp from "sharp";
import type { Detection, Detections } from "../../detections.ts";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { asDetections, boolInput, DETECTION_KINDS, enumInput, imagesInput, intInput } from "../common.ts";
import type { Block, InputSpec, Kind, StepInputs } from "../types.ts";
import { css, palette, PALETTE_NAMES, type Rgb } from "./colors.ts";

/**
 * Shared by the visualisation blocks: inputs (image, predictions, copy_image, colour palette fields), the
 * colour of each detection, and drawing an SVG overlay onto the image with libvips. The result keeps the
 * input image's place (id, parent, root), as the reference does.
 */
export const visualizationInputs = (kinds: readonly Kind[] = DETECTION_KINDS): Record<string, InputSpec> => ({
  image: { ...imagesInput(), aliases: ["images"] },
  predictions: { kinds, static: "none", required: true, batch: true },
  copy_image: boolInput(true),
});

export const colorInputs: Record<string, InputSpec> = {
  color_palette: enumInput(PALETTE_NAMES, "DEFAULT"),
  palette_size: intInput(10, 1),
  custom_colors: { kinds: ["list_of_values"], static: "string[]", default: [] },
  color_axis: enumInput(["INDEX", "CLASS", "TRACK"], "CLASS"),
};

/** Picks each detection's colour the way the block's settings say. */
export function colorPicker(inputs: StepInputs): (det: Detection, index: number) => Rgb {
  const colors = palette(inputs.color_palette ?? "DEFAULT", inputs.custom_colors);
  const axis = inputs.color_axis ?? "CLASS";
  return (det, index) => {
    const key = axis === "INDEX" ? index : axis === "TRACK" ? (det.trackerId ?? 0) : det.classId;
    return colors[Math.abs(key) % colors.length]!;
  };
}

/** Composites an SVG drawing (in image pixels) over the image. */
export async function drawSvg(image: WorkflowImage, body: string): Promise<WorkflowImage> {
  const raw = await image.rgb();
  if (!body) return image.withPixels(raw);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${raw.width}" height="${raw.height}">${body}</svg>`;
  const { data } = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return image.withPixels({ data, width: raw.width, height: raw.height, channels: 3 });
}

export const escapeXml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A visualisation block: draws `svgFor`'s shapes for the detections onto the image. */
export function overlayBlock(
  types: readonly string[],
  description: string,
  extraInputs: Record<string, InputSpec>,
  svgFor: (d: Detections, inputs: StepInputs) => string | Promise<string>,
  kinds: readonly Kind[] = DETECTION_KINDS,
): Block {
  return {
    manifest: { types, description, inputs: { ...visualizationInputs(kinds), ...extraInputs }, outputs: { image: { kinds: ["image"] } } },
    async run(inputs) {
      const image = inputs.image as WorkflowImage;
      const d = asDetections(inputs.predictions);
      return { image: await drawSvg(image, d.items.length ? await svgFor(inMyPixels(d, image), inputs) : "") };
    },
  };
}

/** Detections made on another image of the same root (e.g. on crops) moved into this image's pixels. */
export function inMyPixels(d: Detections, image: WorkflowImage): Detections {
  const dx = d.image.root.offsetX - image.root.offsetX;
  const dy = d.image.root.offsetY - image.root.offsetY;
  if (dx === 0 && dy === 0) return d;
  return {
    ...d,
    image,
    items: d.items.map((det) => ({
      ...det,
      x1: det.x1 + dx,
      y1: det.y1 + dy,
      x2: det.x2 + dx,
      y2: det.y2 + dy,
      ...(det.polygon ? { polygon: det.polygon.map(([x, y]) => [x + dx, y + dy] as [number, number]) } : {}),
    })),
  };
}

export { css };
