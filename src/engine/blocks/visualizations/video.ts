import sharp from "sharp";
import type { WorkflowImage } from "../../image/workflow-image.ts";
import { asDetections, boolInput, enumInput, floatInput, imagesInput, intInput, stringInput, typeIds } from "../common.ts";
import type { Block } from "../types.ts";
import { anchorPoint, POSITIONS, type Position } from "../video/anchors.ts";
import { parseColor } from "./colors.ts";
import { colorInputs, colorPicker, css, drawSvg, escapeXml, inMyPixels, visualizationInputs } from "./draw.ts";

/**
 * The video visualisations: `trace_visualization@v1` (the path of each tracked object over its video's last
 * frames) and `line_counter_visualization@v1` (a counting line with its in/out counts).
 */

/** Per video and step: a frame counter and, per tracker id, its anchor points with the frame they were seen in. */
interface TraceState {
  frame: number;
  points: Map<number, { frame: number; xy: [number, number] }[]>;
}

/**
 * `trace_visualization@v1`: as supervision's TraceAnnotator, each run is one frame; the anchors of the
 * last `trace_length` frames are kept, and each tracker id of the current frame gets a polyline through its
 * kept points. Detections without a tracker id are left out.
 */
export const traceVisualizationV1: Block = {
  manifest: {
    types: typeIds("trace_visualization", "v1"),
    description: "Draws the recent path of each tracked object (needs detections with tracker ids).",
    inputs: {
      ...visualizationInputs(),
      ...colorInputs,
      position: enumInput(POSITIONS, "CENTER"),
      trace_length: intInput(30, 1),
      thickness: intInput(1, 1),
    },
    outputs: { image: { kinds: ["image"] } },
  },
  async run(inputs, ctx) {
    const image = inputs.image as WorkflowImage;
    const d = inMyPixels(asDetections(inputs.predictions), image);
    const position = String(inputs.position ?? "CENTER");
    const traceLength = Math.max(1, Math.trunc(Number(inputs.trace_length ?? 30)));
    const thickness = Number(inputs.thickness ?? 1);

    const state = ctx.videoState<TraceState>(() => ({ frame: 0, points: new Map() }));
    const frame = state.frame++;
    for (const det of d.items) {
      if (det.trackerId === undefined || det.trackerId === null) continue;
      let list = state.points.get(det.trackerId);
      if (!list) state.points.set(det.trackerId, (list = []));
      list.push({ frame, xy: anchorPoint(det, position as Position) });
    }
    const oldest = frame - traceLength + 1;
    for (const [id, list] of state.points) {
      const kept = list.filter((p) => p.frame >= oldest);
      if (kept.length) state.points.set(id, kept);
      else state.points.delete(id);
    }

    const color = colorPicker(inputs);
    const body = d.items
      .map((det, i) => {
        if (det.trackerId === undefined || det.trackerId === null) return "";
        const list = state.points.get(det.trackerId) ?? [];
        if (list.length < 2) return "";
        const points = list.map((p) => p.xy.join(",")).join(" ");
        return `<polyline points="${points}" fill="none" stroke="${css(color(det, i))}" stroke-width="${thickness}" stroke-linecap="round" stroke-linejoin="round"/>`;
      })
      .join("");
    return { image: await drawSvg(image, body) };
  },
};

/** The line `[[x1, y1], [x2, y2]]` of a line zone, checked. */
function lineOf(zone: unknown, step: string): [[number, number], [number, number]] {
  const ok = Array.isArray(zone) && zone.length === 2 && zone.every((p) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === "number" && Number.isFinite(v)));
  if (!ok) throw new Error(`Step '${step}': 'zone' must be a line [[x1, y1], [x2, y2]] of exactly two points, got ${JSON.stringify(zone)}`);
  return zone as [[number, number], [number, number]];
}

/**
 * `line_counter_visualization@v1`: as the reference, the line is added onto the image with weight
 * `opacity` (`image + opacity × line`, saturating), then "in: N, out: M" is written in black on white,
 * centred on the line's first point (kept inside the image).
 */
export const lineCounterVisualizationV1: Block = {
  manifest: {
    types: typeIds("line_counter_visualization", "v1"),
    description: "Draws a counting line and its in/out counts.",
    inputs: {
      image: { ...imagesInput(), aliases: ["images"] },
      copy_image: boolInput(true),
      zone: { kinds: ["list_of_values", "zone"], static: "array", required: true },
      color: stringInput("#5bb573"),
      thickness: intInput(2, 1),
      text_thickness: intInput(1, 0),
      text_scale: { kinds: ["float"], static: "number", default: 1.0, min: 0.01 },
      count_in: intInput(0),
      count_out: intInput(0),
      opacity: floatInput(0.3),
    },
    outputs: { image: { kinds: ["image"] } },
  },
  async run(inputs, ctx) {
    const image = inputs.image as WorkflowImage;
    const [[x1, y1], [x2, y2]] = lineOf(inputs.zone, ctx.step);
    const color = parseColor(inputs.color ?? "#5bb573");
    const thickness = Number(inputs.thickness ?? 2);
    const opacity = Number(inputs.opacity ?? 0.3);
    const raw = await image.rgb();

    // The line alone on black, then added with its weight (cv2.addWeighted(mask, opacity, image, 1, 0)).
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${raw.width}" height="${raw.height}"><rect width="100%" height="100%" fill="black"/><line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${css(color)}" stroke-width="${thickness}" stroke-linecap="round"/></svg>`;
    const mask = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
    const data = new Uint8Array(raw.data.length);
    for (let i = 0; i < data.length; i++) data[i] = Math.min(255, Math.round(raw.data[i]! + opacity * mask[i]!));
    const lined = image.withPixels({ data, width: raw.width, height: raw.height, channels: 3 });

    const text = `in: ${Number(inputs.count_in ?? 0)}, out: ${Number(inputs.count_out ?? 0)}`;
    const fontSize = Math.max(6, 20 * Number(inputs.text_scale ?? 1));
    const weight = Number(inputs.text_thickness ?? 1) > 1 ? "bold" : "normal";
    const w = text.length * fontSize * 0.6;
    const h = fontSize * 1.2;
    const x = Math.max(0, Math.min(raw.width - w, x1 - w / 2));
    const y = Math.max(0, Math.min(raw.height - h, y1 - h / 2));
    const label =
      `<rect x="${x}" y="${y}" width="${w}" height="${h}" fill="white"/>` +
      `<text x="${x}" y="${y + fontSize * 0.95}" font-family="DejaVu Sans, Arial, sans-serif" font-size="${fontSize}" font-weight="${weight}" fill="black">${escapeXml(text)}</text>`;
    return { image: await drawSvg(lined, label) };
  },
};
