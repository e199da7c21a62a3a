import type { WorkflowImage } from "../../image/workflow-image.ts";
import { floatInput, imagesInput, intInput, typeIds } from "../common.ts";
import type { Block, BlockContext, InputSpec, StepInputs } from "../types.ts";

/**
 * `absolute_static_crop@v1` (pixels) and `relative_static_crop@v1` (fractions of the image): the same
 * rectangle, given by its centre and size, cut out of every image. A rectangle outside the image gives
 * no crop.
 */
async function staticCrop(image: WorkflowImage, cx: number, cy: number, w: number, h: number, id: string): Promise<WorkflowImage | null> {
  const x1 = Math.max(0, Math.round(cx - w / 2));
  const y1 = Math.max(0, Math.round(cy - h / 2));
  const x2 = Math.min(image.width, Math.round(cx - w / 2) + w);
  const y2 = Math.min(image.height, Math.round(cy - h / 2) + h);
  if (x2 - x1 < 1 || y2 - y1 < 1) return null;
  return image.crop(x1, y1, x2, y2, id);
}

const box = (make: () => InputSpec) => ({ x_center: make(), y_center: make(), width: make(), height: make() });
const required = (spec: InputSpec): InputSpec => ({ ...spec, required: true, default: undefined });

export const absoluteStaticCropV1: Block = {
  manifest: {
    types: typeIds("absolute_static_crop", "v1", "AbsoluteStaticCrop"),
    description: "Crops a fixed rectangle (centre and size in pixels) out of each image.",
    inputs: { images: imagesInput(), ...box(() => required(intInput(null, 1))) },
    outputs: { crops: { kinds: ["image"] } },
  },
  run: async (i: StepInputs, ctx: BlockContext) => ({
    crops: await staticCrop(i.images as WorkflowImage, num(i.x_center), num(i.y_center), num(i.width), num(i.height), `absolute_static_crop.${ctx.newId()}`),
  }),
};

export const relativeStaticCropV1: Block = {
  manifest: {
    // The reference's id carries a typo; both spellings are accepted.
    types: ["relative_statoic_crop@v1", "relative_static_crop@v1", "RelativeStaticCrop"],
    description: "Crops a fixed rectangle (centre and size as fractions of the image) out of each image.",
    inputs: { images: imagesInput(), ...box(() => required(floatInput(null))) },
    outputs: { crops: { kinds: ["image"] } },
  },
  run: async (i: StepInputs, ctx: BlockContext) => {
    const image = i.images as WorkflowImage;
    const [W, H] = [image.width, image.height];
    return {
      crops: await staticCrop(image, Math.round(W * num(i.x_center)), Math.round(H * num(i.y_center)), Math.round(W * num(i.width)), Math.round(H * num(i.height)), `relative_static_crop.${ctx.newId()}`),
    };
  },
};

const num = (v: unknown) => Number(v);
