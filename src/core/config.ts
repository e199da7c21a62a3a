import { existsSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { AppError } from "./errors.ts";

/**
 * The one place that reads configuration. Precedence: command-line flag > VBATCH_* environment variable >
 * JSON config file (`--config FILE` or VBATCH_CONFIG) > default. The result is validated, frozen and
 * passed down; nothing else reads process.env.
 */
export interface Config {
  apiUrl: string;
  apiKey: string | undefined;
  host: string;
  port: number;
  dataDir: string;
  workers: number;
  machineType: "auto" | "cpu" | "gpu";
  sessionThreads: number;
  agentToken: string | undefined;
  retentionDays: number;
  maxImageMb: number;
  maxVideoMb: number;
  maxMultipartMb: number;
  maxModelMb: number;
  referenceTimeoutS: number;
  referenceMaxRedirects: number;
  referenceConcurrency: number;
  sweepIntervalS: number;
  logLevel: "debug" | "info" | "warn" | "error";
  ffmpegPath: string | undefined;
  webhookSecret: string | undefined;
  webhookMaxAttempts: number;
  leaseSeconds: number;
  maxAttempts: number;
  maxStalls: number;
  chunkSize: number;
  archiveMaxMb: number;
  costPerGpuHour: number;
  costPerCpuHour: number;
}

type Kind = "string" | "int" | "number" | "enum";
interface Field {
  kind: Kind;
  default: unknown;
  min?: number;
  max?: number;
  values?: readonly string[];
  description: string;
}

const FIELDS: { [K in keyof Config]: Field } = {
  apiUrl: { kind: "string", default: "http://127.0.0.1:8080", description: "server address the CLI talks to" },
  apiKey: { kind: "string", default: undefined, description: "API key (server: required on requests; CLI: sent)" },
  host: { kind: "string", default: "127.0.0.1", description: "address the server listens on" },
  port: { kind: "int", default: 8080, min: 0, max: 65535, description: "port the server listens on" },
  dataDir: { kind: "string", default: "./vbatch-data", description: "folder for the database and staged files" },
  workers: { kind: "int", default: availableParallelism(), min: 1, max: 256, description: "local workers" },
  machineType: { kind: "enum", default: "auto", values: ["auto", "cpu", "gpu"], description: "machine type" },
  sessionThreads: { kind: "int", default: 0, min: 0, max: 256, description: "onnxruntime threads per inference session (0: its default; workers use 1)" },
  agentToken: { kind: "string", default: undefined, description: "token agents present to the server" },
  retentionDays: { kind: "number", default: 7, min: 0.0001, max: 3650, description: "days before a batch expires" },
  maxImageMb: { kind: "number", default: 50, min: 0.001, max: 4096, description: "largest image file accepted (MiB)" },
  maxVideoMb: { kind: "number", default: 20480, min: 0.001, max: 1048576, description: "largest video file (MiB)" },
  maxMultipartMb: { kind: "number", default: 256, min: 0.001, max: 4096, description: "largest multipart body (MiB), parsed in memory" },
  maxModelMb: { kind: "number", default: 2048, min: 0.001, max: 65536, description: "largest model file accepted (MiB)" },
  referenceTimeoutS: { kind: "number", default: 60, min: 0.1, max: 3600, description: "time limit per URL fetch" },
  referenceMaxRedirects: { kind: "int", default: 5, min: 0, max: 20, description: "redirects followed per URL" },
  referenceConcurrency: { kind: "int", default: 8, min: 1, max: 64, description: "URL fetches at once" },
  sweepIntervalS: { kind: "number", default: 5, min: 0.1, max: 86400, description: "seconds between sweeps" },
  logLevel: { kind: "enum", default: "info", values: ["debug", "info", "warn", "error"], description: "log level" },
  ffmpegPath: { kind: "string", default: undefined, description: "ffmpeg executable to use instead of the bundled one" },
  webhookSecret: { kind: "string", default: undefined, description: "key of the HMAC-SHA256 signature on job notifications" },
  webhookMaxAttempts: { kind: "int", default: 5, min: 1, max: 20, description: "attempts per job notification before giving up" },
  leaseSeconds: { kind: "number", default: 30, min: 1, max: 3600, description: "lease on a task; workers renew it every half lease, an expired one is requeued" },
  maxAttempts: { kind: "int", default: 3, min: 1, max: 100, description: "attempts per task (the first included) before a retryable error fails it for good" },
  maxStalls: { kind: "int", default: 5, min: 0, max: 100, description: "expired leases a task survives; one more fails it for good" },
  chunkSize: { kind: "int", default: 256, min: 1, max: 100000, description: "images per processing task, unless the job sets its own" },
  archiveMaxMb: { kind: "number", default: 1024, min: 1, max: 1048576, description: "largest export archive (MiB); bigger exports are split" },
  costPerGpuHour: { kind: "number", default: 4, min: 0, max: 1e6, description: "credits per machine-hour on GPU machines" },
  costPerCpuHour: { kind: "number", default: 1, min: 0, max: 1e6, description: "credits per machine-hour on CPU machines" },
};

/** VBATCH_DATA_DIR for dataDir, VBATCH_API_KEY for apiKey, ... */
export const envName = (key: string) => "VBATCH_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

export interface ConfigSources {
  flags?: Record<string, unknown>;
  env?: Record<string, string | undefined>;
  /** Path of a JSON config file; when absent, VBATCH_CONFIG from `env` is used. */
  configFile?: string;
}

export function resolveConfig(sources: ConfigSources = {}): Readonly<Config> {
  const env = sources.env ?? {};
  const filePath = sources.configFile ?? env.VBATCH_CONFIG;
  const file = filePath ? readConfigFile(filePath) : {};
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(FIELDS) as [keyof Config, Field][]) {
    const flag = sources.flags?.[key];
    const fromEnv = env[envName(key)];
    let value: unknown = field.default;
    let origin = "default";
    if (flag !== undefined && flag !== null && flag !== "") [value, origin] = [flag, `flag --${kebab(key)}`];
    else if (fromEnv !== undefined && fromEnv !== "") [value, origin] = [fromEnv, `environment ${envName(key)}`];
    else if (file[key] !== undefined) [value, origin] = [file[key], `config file ${filePath} field "${key}"`];
    out[key] = value === undefined ? undefined : coerce(key, field, value, origin);
  }
  return Object.freeze(out as unknown as Config);
}

const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());

function readConfigFile(path: string): Record<string, unknown> {
  if (!existsSync(path)) throw new AppError("CONFIG_INVALID", `Config file ${path} does not exist`, 400);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new AppError("CONFIG_INVALID", `Config file ${path} is not valid JSON: ${(e as Error).message}`, 400);
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed))
    throw new AppError("CONFIG_INVALID", `Config file ${path} must hold a JSON object`, 400);
  for (const key of Object.keys(parsed))
    if (!(key in FIELDS))
      throw new AppError("CONFIG_INVALID", `Config file ${path}: unknown field "${key}"`, 400, {
        known: Object.keys(FIELDS),
      });
  return parsed as Record<string, unknown>;
}

function coerce(key: string, field: Field, raw: unknown, origin: string): unknown {
  const fail = (why: string) =>
    new AppError("CONFIG_INVALID", `Invalid ${key} from ${origin}: ${why} (got ${JSON.stringify(raw)})`, 400, {
      field: key,
      origin,
    });
  switch (field.kind) {
    case "string":
      if (typeof raw !== "string" && typeof raw !== "number") throw fail("expected a string");
      return String(raw);
    case "enum": {
      const v = String(raw);
      if (!field.values!.includes(v)) throw fail(`expected one of ${field.values!.join(", ")}`);
      return v;
    }
    case "int":
    case "number": {
      const n = typeof raw === "number" ? raw : Number(String(raw).trim());
      if (String(raw).trim() === "" || !Number.isFinite(n)) throw fail("expected a number");
      if (field.kind === "int" && !Number.isInteger(n)) throw fail("expected a whole number");
      if (field.min !== undefined && n < field.min) throw fail(`must be at least ${field.min}`);
      if (field.max !== undefined && n > field.max) throw fail(`must be at most ${field.max}`);
      return n;
    }
  }
}

/** Describes every setting for `--help`-like listings and docs. */
export const configFields = () =>
  Object.entries(FIELDS).map(([key, f]) => ({ key, env: envName(key), default: f.default, description: f.description }));
