import type { Config } from "../core/config.ts";
import { invalid } from "../core/errors.ts";
import type { JobOptions } from "./types.ts";

/** A job's options when the caller sets none: the server's chunk size, everything else the product's default. */
export function defaultJobOptions(config: Pick<Config, "chunkSize">): JobOptions {
  return {
    machineType: "auto",
    workersPerMachine: null,
    maxRuntimeSeconds: null,
    maxParallelTasks: null,
    maxImageFailureRate: 0.5,
    aggregationFormat: "jsonl",
    archiveFormat: "tar.gz",
    saveImageOutputs: false,
    imageOutputsToSave: [],
    workflowParams: {},
    imageInputName: null,
    notificationsUrl: null,
    notifyTasks: false,
    chunkSize: config.chunkSize,
    maxVideoFps: null,
    saveVideoOutputs: false,
    videoSegmentSeconds: 600,
  };
}

const oneOf = (field: string, value: unknown, values: readonly string[]) => {
  if (!values.includes(value as string)) throw invalid(`Invalid ${field} ${JSON.stringify(value)}: use one of ${values.join(", ")}`, { field });
};

function number(field: string, value: unknown, min: number, max: number, opts: { int?: boolean; nullable?: boolean } = {}): void {
  if (value === null && opts.nullable) return;
  const ok = typeof value === "number" && Number.isFinite(value) && (!opts.int || Number.isInteger(value)) && value >= min && value <= max;
  if (!ok) throw invalid(`Invalid ${field} ${JSON.stringify(value)}: use ${opts.int ? "a whole number" : "a number"} from ${min} to ${max}${opts.nullable ? " (or null: no limit)" : ""}`, { field, min, max });
}

/**
 * The options a job runs with: the caller's over the defaults, checked where the scheduler depends on them
 * (the rest are checked by whoever reads them: the HTTP schema, the engine, the exporter).
 */
export function resolveJobOptions(config: Pick<Config, "chunkSize">, given: Partial<JobOptions> = {}): JobOptions {
  const defined = Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) as Partial<JobOptions>;
  const o: JobOptions = { ...defaultJobOptions(config), ...defined };
  oneOf("machineType", o.machineType, ["auto", "cpu", "gpu"]);
  oneOf("aggregationFormat", o.aggregationFormat, ["jsonl", "csv"]);
  oneOf("archiveFormat", o.archiveFormat, ["tar.gz", "zip"]);
  number("chunkSize", o.chunkSize, 1, 100_000, { int: true });
  number("maxParallelTasks", o.maxParallelTasks, 1, 100_000, { int: true, nullable: true });
  number("workersPerMachine", o.workersPerMachine, 1, 256, { int: true, nullable: true });
  number("maxRuntimeSeconds", o.maxRuntimeSeconds, 1, 1e9, { nullable: true });
  number("maxImageFailureRate", o.maxImageFailureRate, 0, 1);
  number("maxVideoFps", o.maxVideoFps, 0.001, 1000, { nullable: true });
  number("videoSegmentSeconds", o.videoSegmentSeconds, 1, 1e7, { nullable: true });
  return o;
}
