import type { WorkflowImage } from "../../image/workflow-image.ts";
import { imagesInput, intInput, typeIds } from "../common.ts";
import type { Block, InputSpec, StepInputs } from "../types.ts";

/**
 * `image_slicer` (SAHI-style tiled inference): cuts each image into overlapping tiles, in rows. v1 lets the
 * tiles at the right and bottom edges be smaller; v2 keeps every tile full-size by shifting edge tiles back
 * inside the image and drops duplicates.
 */
export interface Tile {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

const ratio = (): InputSpec => ({ kinds: ["float_zero_to_one", "float"], static: "number", min: 0, max: 0.99, default: 0.2 });
const inputs: Record<string, InputSpec> = {
  image: { ...imagesInput(), aliases: ["images"] },
  slice_width: intInput(640, 1),
  slice_height: intInput(640, 1),
  overlap_ratio_width: ratio(),
  overlap_ratio_height: ratio(),
};

function starts(size: number, slice: number, overlap: number): number[] {
  const stride = Math.max(1, slice - Math.floor(overlap * slice));
  const out: number[] = [];
  for (let s = 0; s < size; s += stride) out.push(s);
  return out;
}

export function tilesV1(width: number, height: number, sw: number, sh: number, ow: number, oh: number): Tile[] {
  const tiles: Tile[] = [];
  for (const y of starts(height, sh, oh)) for (const x of starts(width, sw, ow)) tiles.push({ x1: x, y1: y, x2: Math.min(x + sw, width), y2: Math.min(y + sh, height) });
  return tiles;
}

export function tilesV2(width: number, height: number, sw: number, sh: number, ow: number, oh: number): Tile[] {
  const w = Math.min(sw, width);
  const h = Math.min(sh, height);
  const seen = new Set<string>();
  const tiles: Tile[] = [];
  for (const y0 of starts(height, h, oh))
    for (const x0 of starts(width, w, ow)) {
      const x = x0 - Math.max(0, x0 + w - width);
      const y = y0 - Math.max(0, y0 + h - height);
      const key = `${x},${y}`;
      if (seen.has(key)) continue;
      seen.add(key);
      tiles.push({ x1: x, y1: y, x2: x + w, y2: y + h });
    }
  return tiles;
}

function slicer(version: "v1" | "v2", layout: typeof tilesV1): Block {
  return {
    manifest: {
      types: typeIds("image_slicer", version),
      description: `Cuts each image into overlapping tiles for tiled (SAHI-style) inference${version === "v2" ? "; all tiles full-size, no duplicates" : ""}.`,
      inputs,
      outputs: { slices: { kinds: ["image"] } },
      dimensionality: { offset: 1 },
    },
    async run(i: StepInputs, ctx) {
      const image = i.image as WorkflowImage;
      const tiles = layout(image.width, image.height, Number(i.slice_width), Number(i.slice_height), Number(i.overlap_ratio_width), Number(i.overlap_ratio_height));
      const slices: WorkflowImage[] = [];
      for (const t of tiles) slices.push(await image.crop(t.x1, t.y1, t.x2, t.y2, `image_slicer.${ctx.newId()}`));
      return { slices };
    },
  };
}

export const imageSlicerV1 = slicer("v1", tilesV1);
export const imageSlicerV2 = slicer("v2", tilesV2);
