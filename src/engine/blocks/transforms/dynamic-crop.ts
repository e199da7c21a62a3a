import sharp from "sharp";
import type { Detection, Detections } from "../../detections.ts";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { asDetections, DETECTION_KINDS, floatInput, imagesInput, predictionsInput, typeIds } from "../common.ts";
import { parseColor } from "../visualizations/colors.ts";
import type { Block } from "../types.ts";

/**
 * `dynamic_crop@v1`: one crop per detection (the crop's id is the detection's id, so results on crops point
 * back to it). With `mask_opacity` > 0 and instance outlines, pixels outside the outline are blended
 * towards `background_color` (1 = background only).
 */
export const dynamicCropV1: Block = {
  manifest: {
    types: typeIds("dynamic_crop", "v1", "DynamicCrop", "Crop"),
    description: "Crops each detected object out of the image.",
    inputs: {
      images: imagesInput(),
      predictions: { ...predictionsInput(DETECTION_KINDS), aliases: ["detections"] },
      mask_opacity: floatInput(0),
      background_color: { kinds: ["string", "rgb_color"], static: "any", default: [0, 0, 0] },
    },
    outputs: { crops: { kinds: ["image"] }, predictions: { kinds: DETECTION_KINDS, sameKindAs: "predictions" } },
    dimensionality: { offset: 1 },
  },
  async run(inputs) {
    const image = inputs.images as WorkflowImage;
    const detections = asDetections(inputs.predictions);
    const opacity = (inputs.mask_opacity as number | null) ?? 0;
    const background = parseColor(inputs.background_color ?? [0, 0, 0]);
    const crops: (WorkflowImage | null)[] = [];
    const predictions: (Detections | null)[] = [];
    for (const det of detections.items) {
      if (det.x2 - det.x1 < 1 || det.y2 - det.y1 < 1) {
        crops.push(null);
        predictions.push(null);
        continue;
      }
      let crop = await image.crop(det.x1, det.y1, det.x2, det.y2, det.detectionId);
      if (opacity > 0 && det.polygon) crop = await maskOutside(crop, det, opacity, background);
      crops.push(crop);
      predictions.push({ kind: "detections", image: crop, items: [shiftInto(det, crop)] });
    }
    return { crops, predictions };
  },
};

function shiftInto(det: Detection, crop: WorkflowImage): Detection {
  const dx = crop.origin!.offsetX;
  const dy = crop.origin!.offsetY;
  return {
    ...det,
    x1: det.x1 - dx,
    y1: det.y1 - dy,
    x2: det.x2 - dx,
    y2: det.y2 - dy,
    ...(det.polygon ? { polygon: det.polygon.map(([x, y]) => [x - dx, y - dy] as [number, number]) } : {}),
  };
}

/** Blends the pixels outside the detection's outline towards the background colour. */
async function maskOutside(crop: WorkflowImage, det: Detection, opacity: number, [r, g, b]: [number, number, number]): Promise<WorkflowImage> {
  const raw = await crop.rgb();
  const dx = crop.origin!.offsetX;
  const dy = crop.origin!.offsetY;
  const points = det.polygon!.map(([x, y]) => `${x - dx},${y - dy}`).join(" ");
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${raw.width}" height="${raw.height}"><rect width="100%" height="100%" fill="black"/><polygon points="${points}" fill="white"/></svg>`;
  const mask = await sharp(Buffer.from(svg)).flatten().greyscale().raw().toBuffer();
  const data = new Uint8Array(raw.data);
  const bg = [r, g, b];
  for (let i = 0, p = 0; i < raw.width * raw.height; i++, p += 3) {
    if (mask[i]! >= 128) continue;
    for (let c = 0; c < 3; c++) data[p + c] = Math.round(data[p + c]! * (1 - opacity) + bg[c]! * opacity);
  }
  return crop.withPixels({ ...raw, data });
}
