import type { EntryCost } from "./archive-size.ts";
import { DetectionExport, safeFileName, type DetectionFiles, type DetectionValue } from "./detection-export.ts";
import type { ResultRow } from "./merge.ts";

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** `{image:{width,height}, predictions:[…]}` whose predictions all have boxes; classifications are not. */
export function isDetectionValue(v: unknown): v is DetectionValue {
  if (!isObject(v) || !isObject(v.image) || !Array.isArray(v.predictions)) return false;
  if ("top" in v || v.prediction_type === "classification") return false;
  if (!isNumber(v.image.width) || !isNumber(v.image.height) || v.image.width <= 0 || v.image.height <= 0) return false;
  return v.predictions.every((p) => isObject(p) && isNumber(p.x) && isNumber(p.y) && isNumber(p.width) && isNumber(p.height));
}

/** A list per image of prediction objects (detections or classifications on crops). */
export function isCropLevel(v: unknown): boolean {
  return Array.isArray(v) && v.some((item) => item !== null) && v.every((item) => item === null || (isObject(item) && Array.isArray(item.predictions)));
}

type OutputState =
  | { kind: "unknown" }
  | { kind: "detection"; exporter: DetectionExport }
  | { kind: "crop-level" }
  | { kind: "mixed" }
  | { kind: "other" };

export interface NotExported {
  output: string;
  reason: string;
}

const REASONS = {
  "crop-level": "crop-level predictions (a list per image) are not exported as COCO/YOLO",
  mixed: "values are detections in some rows and something else in others",
} as const;

/**
 * Decides, as rows stream by, which outputs are detection outputs: an output's first values (nulls and
 * empty lists say nothing) settle it, and a detection output whose later value is something else is
 * dropped. Detection outputs are exported as they go, so nothing is read twice.
 */
export class DetectionOutputs {
  /** In the order the outputs were first met: the first detection output gets the plain names. */
  private readonly states = new Map<string, OutputState>();
  private opened = 0;

  constructor(
    private readonly dir: string,
    private readonly cost: EntryCost,
  ) {}

  add(row: ResultRow): void {
    for (const output of row.outputs) {
      const state = this.states.get(output) ?? { kind: "unknown" };
      if (!this.states.has(output)) this.states.set(output, state);
      if (state.kind !== "unknown" && state.kind !== "detection") continue;
      const value = row.value(output);
      if (value === null || value === undefined) continue;
      if (isDetectionValue(value)) {
        const exporter = state.kind === "detection" ? state.exporter : this.open(output);
        exporter.add(row.image, row.frame, value);
      } else if (state.kind === "detection") {
        state.exporter.discard();
        this.states.set(output, { kind: "mixed" });
      } else if (!(Array.isArray(value) && value.length === 0)) {
        this.states.set(output, { kind: isCropLevel(value) ? "crop-level" : "other" });
      }
    }
  }

  /** Writes the COCO and classes files of every detection output; names them by rank. */
  async finish(jobId: string): Promise<{ detection: DetectionFiles[]; notExported: NotExported[] }> {
    const detection: DetectionFiles[] = [];
    const notExported: NotExported[] = [];
    for (const [output, state] of this.states) {
      if (state.kind === "detection") {
        const suffix = detection.length === 0 ? "" : `-${safeFileName(output)}`;
        const names = { coco: `coco${suffix}.json`, labels: `labels${suffix}/`, classes: `classes${suffix}.txt` };
        detection.push(await state.exporter.finish(this.dir, names, `vbatch job ${jobId}, output '${output}'`));
      } else if (state.kind === "crop-level" || state.kind === "mixed") {
        notExported.push({ output, reason: REASONS[state.kind] });
      }
    }
    return { detection, notExported };
  }

  /** Closes the files of every export in progress (the export failed). */
  abandon(): void {
    for (const state of this.states.values()) if (state.kind === "detection") state.exporter.discard();
  }

  private open(output: string): DetectionExport {
    const exporter = DetectionExport.open(this.dir, this.opened++, output, this.cost);
    this.states.set(output, { kind: "detection", exporter });
    return exporter;
  }
}
