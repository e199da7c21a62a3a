import type { Detection } from "../../detections.ts";
import { enumInput, intInput, typeIds } from "../common.ts";
import type { InputSpec, StepInputs } from "../types.ts";
import { parseColor } from "./colors.ts";
import { colorInputs, colorPicker, css, escapeXml, overlayBlock } from "./draw.ts";

/** `label_visualization` v1/v2: a text label per detection, on a box of the detection's colour. */
const TEXTS_V1 = ["Class", "Confidence", "Class and Confidence", "Index", "Dimensions", "Area", "Tracker Id", "Time In Zone"];
const TEXTS_V2 = [...TEXTS_V1, "Area (mask)", "Area (converted)"];
const POSITIONS = ["CENTER", "CENTER_LEFT", "CENTER_RIGHT", "TOP_CENTER", "TOP_LEFT", "TOP_RIGHT", "BOTTOM_LEFT", "BOTTOM_CENTER", "BOTTOM_RIGHT", "CENTER_OF_MASS"];

/** Text options are a fixed list, but the reference also takes a detection data key. */
const labelInputs = (texts: string[]): Record<string, InputSpec> => ({
  ...colorInputs,
  text: { kinds: ["string"], static: "string", default: "Class", values: texts },
  text_position: enumInput(POSITIONS, "TOP_LEFT"),
  text_color: { kinds: ["string"], static: "string", default: "WHITE" },
  text_scale: { kinds: ["float"], static: "number", default: 1.0, min: 0.01 },
  text_thickness: intInput(1, 0),
  text_padding: intInput(10, 0),
  border_radius: intInput(0, 0),
});

export function labelText(det: Detection, index: number, text: string): string {
  const conf = det.confidence.toFixed(2);
  const w = det.x2 - det.x1;
  const h = det.y2 - det.y1;
  switch (text) {
    case "Class": return det.className;
    case "Confidence": return conf;
    case "Class and Confidence": return `${det.className} ${conf}`;
    case "Index": return String(index);
    case "Dimensions": return `${Math.trunc(det.x1 + w / 2)}, ${Math.trunc(det.y1 + h / 2)} ${Math.trunc(w)}x${Math.trunc(h)}`;
    case "Area": return String(Math.trunc(w * h));
    case "Tracker Id": return det.trackerId !== undefined ? String(det.trackerId) : "No Tracker ID";
    case "Time In Zone": {
      const t = det.data?.time_in_zone;
      return typeof t === "number" ? `In zone: ${Math.round(t * 100) / 100}s` : "In zone: N/A";
    }
    default: {
      const v = det.data?.[text];
      return v ? String(v) : "";
    }
  }
}

/** Top-left corner of a label of size w×h placed at `position` relative to the box. */
function anchor(det: Detection, position: string, w: number, h: number): [number, number] {
  const cx = (det.x1 + det.x2) / 2;
  const cy = (det.y1 + det.y2) / 2;
  const xs: Record<string, number> = { LEFT: det.x1, CENTER: cx - w / 2, RIGHT: det.x2 - w };
  const [vertical, horizontal = "CENTER"] = position === "CENTER" || position === "CENTER_OF_MASS" ? ["CENTER"] : position.split("_");
  const x = xs[horizontal!] ?? cx - w / 2;
  const y = vertical === "TOP" ? det.y1 - h : vertical === "BOTTOM" ? det.y2 : cy - h / 2;
  return [Math.max(0, x), Math.max(0, y)];
}

function labels(inputs: StepInputs, dets: Detection[]): string {
  const color = colorPicker(inputs);
  const textColor = css(parseColor(inputs.text_color ?? "WHITE"));
  const fontSize = Math.max(6, 20 * Number(inputs.text_scale ?? 1));
  const pad = Number(inputs.text_padding ?? 10);
  const radius = Number(inputs.border_radius ?? 0);
  const weight = Number(inputs.text_thickness ?? 1) > 1 ? "bold" : "normal";
  return dets
    .map((det, i) => {
      const text = labelText(det, i, String(inputs.text ?? "Class"));
      if (!text) return "";
      const w = text.length * fontSize * 0.6 + 2 * pad;
      const h = fontSize + 2 * pad;
      const [x, y] = anchor(det, String(inputs.text_position ?? "TOP_LEFT"), w, h);
      return (
        `<rect x="${x}" y="${y}" width="${w}" height="${h}" rx="${radius}" fill="${css(color(det, i))}"/>` +
        `<text x="${x + pad}" y="${y + pad + fontSize * 0.8}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" font-weight="${weight}" fill="${textColor}">${escapeXml(text)}</text>`
      );
    })
    .join("");
}

export const labelVisualizationV1 = overlayBlock(
  typeIds("label_visualization", "v1", "LabelVisualization"),
  "Writes a label (class, confidence, tracker id, ...) by each detection.",
  labelInputs(TEXTS_V1),
  (d, inputs) => labels(inputs, d.items),
);

export const labelVisualizationV2 = overlayBlock(
  typeIds("label_visualization", "v2"),
  "Writes a label (class, confidence, tracker id, area, ...) by each detection; text size can follow the image size.",
  { ...labelInputs(TEXTS_V2), text_size_mode: enumInput(["Manual", "Automatic"], "Manual") },
  (d, inputs) => {
    const auto = inputs.text_size_mode === "Automatic";
    const scale = auto ? Math.min(5, Math.max(0.3, (Number(inputs.text_scale ?? 1) * Math.min(d.image.width, d.image.height)) / 1080)) : inputs.text_scale;
    return labels({ ...inputs, text_scale: scale }, d.items);
  },
);
