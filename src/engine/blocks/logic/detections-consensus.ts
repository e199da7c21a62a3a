import type { Detection, Detections } from "../../detections.ts";
import { iou } from "../../geometry.ts";
import { DETECTION_KINDS, enumInput, floatInput, typeIds } from "../common.ts";
import type { Block, StepInputs } from "../types.ts";

/**
 * `detections_consensus@v1`: several models (or runs) vote. A detection is kept when at least
 * `required_votes` sources have a matching box (IoU above the threshold; same class when class-aware); the
 * matching boxes merge into one (class, box and confidence aggregated as asked). Also says whether the
 * required objects are present, and with what confidence.
 */
type Aggregation = "average" | "max" | "min";
const AGG = ["average", "max", "min"] as const;

export const detectionsConsensusV1: Block = {
  manifest: {
    types: typeIds("detections_consensus", "v1", "DetectionsConsensus"),
    description: "Merges the detections several models agree on (voting by IoU).",
    inputs: {
      predictions_batches: { kinds: DETECTION_KINDS, static: "none", required: true, aliases: ["predictions"] },
      required_votes: { kinds: ["integer"], static: "integer", min: 1, required: true },
      class_aware: { kinds: ["boolean"], static: "boolean", default: true },
      iou_threshold: floatInput(0.3),
      confidence: floatInput(0),
      classes_to_consider: { kinds: ["list_of_values"], static: "string[]", default: null },
      required_objects: { kinds: ["integer", "dictionary"], static: "any", default: null },
      presence_confidence_aggregation: { kinds: [], static: "enum", values: AGG, default: "max" },
      detections_merge_confidence_aggregation: enumInput(AGG, "average"),
      detections_merge_coordinates_aggregation: enumInput(AGG, "average"),
      detections_merge_mask_aggregation: enumInput(["union", "intersection", "max", "min"], "union"),
    },
    outputs: {
      predictions: { kinds: ["object_detection_prediction", "instance_segmentation_prediction"] },
      object_present: { kinds: ["boolean", "dictionary"] },
      presence_confidence: { kinds: ["float_zero_to_one", "dictionary"] },
    },
  },
  async run(inputs, ctx) {
    const sources = (Array.isArray(inputs.predictions_batches) ? inputs.predictions_batches : [inputs.predictions_batches]).filter(
      (d): d is Detections => (d as Detections)?.kind === "detections",
    );
    const image = sources[0]?.image;
    if (!image) return { predictions: null, object_present: false, presence_confidence: {} };
    const consider = inputs.classes_to_consider as string[] | null;
    const lists = sources.map((s) => s.items.filter((d) => !consider || consider.includes(d.className)));
    const merged = vote(lists, inputs).map((group) => mergeGroup(group, inputs, ctx.newId(), image.id));
    const kept = merged.filter((d) => d.confidence >= Number(inputs.confidence ?? 0));
    const predictions: Detections = { kind: "detections", image, items: kept };
    return { predictions, ...presence(kept, inputs) };
  },
};

/** Groups of matching detections (one per source at most) with enough votes. */
function vote(lists: Detection[][], inputs: StepInputs): Detection[][] {
  const classAware = inputs.class_aware !== false;
  const threshold = Number(inputs.iou_threshold ?? 0.3);
  const required = Number(inputs.required_votes);
  const used = lists.map(() => new Set<Detection>());
  const groups: Detection[][] = [];
  lists.forEach((list, s) => {
    for (const det of list) {
      if (used[s]!.has(det)) continue;
      const group = [det];
      lists.forEach((other, o) => {
        if (o === s) return;
        let best: Detection | undefined;
        let bestIou = threshold;
        for (const cand of other) {
          if (used[o]!.has(cand) || (classAware && cand.className !== det.className)) continue;
          const v = iou(det, cand);
          if (v > bestIou) [best, bestIou] = [cand, v];
        }
        if (best) group.push(best);
      });
      if (group.length < required) continue;
      group.forEach((g) => used[lists.findIndex((l) => l.includes(g))]!.add(g));
      groups.push(group);
    }
  });
  return groups;
}

const aggregate = (values: number[], how: Aggregation) =>
  how === "max" ? Math.max(...values) : how === "min" ? Math.min(...values) : values.reduce((a, b) => a + b, 0) / values.length;

function mergeGroup(group: Detection[], inputs: StepInputs, id: string, parentId: string): Detection {
  const coords = (inputs.detections_merge_coordinates_aggregation ?? "average") as Aggregation;
  const conf = (inputs.detections_merge_confidence_aggregation ?? "average") as Aggregation;
  const area = (d: Detection) => (d.x2 - d.x1) * (d.y2 - d.y1);
  let box: Detection;
  if (coords === "average") box = { ...group[0]!, x1: avg(group, "x1"), y1: avg(group, "y1"), x2: avg(group, "x2"), y2: avg(group, "y2") };
  else box = group.reduce((a, b) => ((coords === "max" ? area(b) > area(a) : area(b) < area(a)) ? b : a));
  const byClass = conf === "average" ? majorityClass(group) : group.reduce((a, b) => ((conf === "max" ? b.confidence > a.confidence : b.confidence < a.confidence) ? b : a));
  return {
    x1: box.x1,
    y1: box.y1,
    x2: box.x2,
    y2: box.y2,
    ...(box.polygon ? { polygon: box.polygon } : {}),
    className: byClass.className,
    classId: byClass.classId,
    confidence: aggregate(group.map((d) => d.confidence), conf),
    detectionId: id,
    parentId,
  };
}

const avg = (group: Detection[], key: "x1" | "y1" | "x2" | "y2") => group.reduce((s, d) => s + d[key], 0) / group.length;

function majorityClass(group: Detection[]): Detection {
  const counts = new Map<string, number>();
  for (const d of group) counts.set(d.className, (counts.get(d.className) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]![0];
  return group.find((d) => d.className === top)!;
}

/** Whether the required objects are there: any at all, N of them, or N per class. */
function presence(kept: Detection[], inputs: StepInputs) {
  const how = (inputs.presence_confidence_aggregation ?? "max") as Aggregation;
  const classAware = inputs.class_aware !== false;
  const required = inputs.required_objects as number | Record<string, number> | null;
  if (kept.length === 0) return { object_present: false, presence_confidence: {} };
  const byClass = new Map<string, number[]>();
  for (const d of kept) byClass.set(d.className, [...(byClass.get(d.className) ?? []), d.confidence]);
  let present: boolean;
  if (required === null || required === undefined) present = true;
  else if (typeof required === "number") present = kept.length >= required;
  else if (!classAware) present = kept.length >= Object.values(required).reduce((a, b) => a + b, 0);
  else present = Object.entries(required).every(([cls, n]) => (byClass.get(cls)?.length ?? 0) >= n);
  const confidence = classAware
    ? Object.fromEntries([...byClass.entries()].map(([cls, cs]) => [cls, aggregate(cs, how)]))
    : { any_object: aggregate(kept.map((d) => d.confidence), how) };
  return { object_present: present, presence_confidence: confidence };
}
