import { floatInput, intInput, typeIds } from "../common.ts";
import { colorInputs, colorPicker, css, overlayBlock } from "./draw.ts";

/** `bounding_box_visualization@v1`, `polygon_visualization@v1` and `mask_visualization@v1`. */
export const boundingBoxVisualizationV1 = overlayBlock(
  typeIds("bounding_box_visualization", "v1", "BoundingBoxVisualization"),
  "Draws the detection boxes.",
  { ...colorInputs, thickness: intInput(2, 1), roundness: floatInput(0) },
  (d, inputs) => {
    const color = colorPicker(inputs);
    const thickness = Number(inputs.thickness ?? 2);
    const roundness = Number(inputs.roundness ?? 0);
    return d.items
      .map((det, i) => {
        const w = det.x2 - det.x1;
        const h = det.y2 - det.y1;
        const r = (roundness * Math.min(w, h)) / 2;
        return `<rect x="${det.x1}" y="${det.y1}" width="${w}" height="${h}" rx="${r}" fill="none" stroke="${css(color(det, i))}" stroke-width="${thickness}"/>`;
      })
      .join("");
  },
);

const SEGMENTATION = ["instance_segmentation_prediction"] as const;

export const polygonVisualizationV1 = overlayBlock(
  typeIds("polygon_visualization", "v1", "PolygonVisualization"),
  "Draws the outline of each instance.",
  { ...colorInputs, thickness: intInput(2, 1) },
  (d, inputs) => {
    const color = colorPicker(inputs);
    return d.items
      .filter((det) => det.polygon)
      .map((det, i) => `<polygon points="${det.polygon!.map((p) => p.join(",")).join(" ")}" fill="none" stroke="${css(color(det, i))}" stroke-width="${Number(inputs.thickness ?? 2)}"/>`)
      .join("");
  },
  SEGMENTATION,
);

export const maskVisualizationV1 = overlayBlock(
  typeIds("mask_visualization", "v1", "MaskVisualization"),
  "Fills each instance with its colour, half transparent.",
  { ...colorInputs, opacity: floatInput(0.5) },
  (d, inputs) => {
    const color = colorPicker(inputs);
    return d.items
      .filter((det) => det.polygon)
      .map((det, i) => `<polygon points="${det.polygon!.map((p) => p.join(",")).join(" ")}" fill="${css(color(det, i))}" fill-opacity="${Number(inputs.opacity ?? 0.5)}"/>`)
      .join("");
  },
  SEGMENTATION,
);
