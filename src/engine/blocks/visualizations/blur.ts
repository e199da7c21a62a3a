import sharp, { type OverlayOptions } from "sharp";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { asDetections, intInput, typeIds } from "../common.ts";
import type { Block } from "../types.ts";
import { drawSvg, inMyPixels, visualizationInputs } from "./draw.ts";

/**
 * `blur_visualization@v1` (privacy): each detection's box is replaced by its average-pooled (box-blurred)
 * self with a `kernel_size` × `kernel_size` kernel.
 */
export const blurVisualizationV1: Block = {
  manifest: {
    types: typeIds("blur_visualization", "v1", "BlurVisualization"),
    description: "Blurs the inside of each detection box (faces, plates).",
    inputs: { ...visualizationInputs(), kernel_size: intInput(15, 1, 255) },
    outputs: { image: { kinds: ["image"] } },
  },
  async run(inputs) {
    const image = inputs.image as WorkflowImage;
    const d = inMyPixels(asDetections(inputs.predictions), image);
    const raw = await image.rgb();
    const k = Number(inputs.kernel_size ?? 15);
    const layers: OverlayOptions[] = [];
    for (const det of d.items) {
      const left = Math.max(0, Math.floor(det.x1));
      const top = Math.max(0, Math.floor(det.y1));
      const width = Math.min(raw.width, Math.ceil(det.x2)) - left;
      const height = Math.min(raw.height, Math.ceil(det.y2)) - top;
      if (width < 1 || height < 1) continue;
      const region = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } })
        .extract({ left, top, width, height })
        .convolve({ width: k, height: k, kernel: new Array(k * k).fill(1) })
        .png()
        .toBuffer();
      layers.push({ input: region, left, top });
    }
    if (layers.length === 0) return { image: await drawSvg(image, "") };
    const { data } = await sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } })
      .composite(layers)
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { image: image.withPixels({ data, width: raw.width, height: raw.height, channels: 3 }) };
  },
};
