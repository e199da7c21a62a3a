import { existsSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { AppError } from "../../core/errors.ts";
import { MODEL_ID_PATTERN } from "../../core/ids.ts";
import { modelFilePath } from "../../storage/model-files.ts";
import type { ModelRecord } from "../../storage/store.ts";
import { parseClassesText } from "./class-names.ts";
import { checkFamily, checkTask, inspectOnnx, type InspectOptions } from "./inspect.ts";
import type { ModelInfo, ModelResolver, ResolvedModel } from "./types.ts";

/**
 * Where a workflow's `model_id` is looked up: a folder of ONNX files (for `infer` and `run` without a
 * server), the registry in the data dir, or several of them in order.
 */

/** Size and mtime of a file, or "-" when it is missing: a change to any of a model's files re-inspects it. */
function fileKey(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}:${s.mtimeMs}`;
  } catch {
    return "-";
  }
}

/**
 * `DIR/<model_id>.onnx`, with class names in `DIR/<model_id>.txt` (one per line) and optional overrides
 * in `DIR/<model_id>.json` (`{family?, task?, classNames?}`). Inspection runs once per version of the files.
 */
export function directoryResolver(dir: string): ModelResolver {
  const root = resolve(dir);
  const cache = new Map<string, { key: string; info: Promise<ModelInfo> }>();
  return {
    async resolve(modelId: string): Promise<ResolvedModel | undefined> {
      // Ids outside the alphabet cannot name a file here (and could otherwise leave the folder).
      if (!MODEL_ID_PATTERN.test(modelId)) return undefined;
      const path = join(root, `${modelId}.onnx`);
      const sidecars = [join(root, `${modelId}.txt`), join(root, `${modelId}.json`)];
      const key = [path, ...sidecars].map(fileKey).join("|");
      if (key.startsWith("-|")) return undefined;
      let entry = cache.get(modelId);
      if (!entry || entry.key !== key) {
        entry = { key, info: inspectFromFolder(root, modelId) };
        cache.set(modelId, entry);
      }
      return { info: await entry.info, path };
    },
    describe: () => `the models folder ${root} (<model_id>.onnx, class names in <model_id>.txt)`,
  };
}

async function inspectFromFolder(root: string, modelId: string): Promise<ModelInfo> {
  const overridesFile = join(root, `${modelId}.json`);
  const namesFile = join(root, `${modelId}.txt`);
  const overrides = readOverrides(overridesFile);
  const opts: InspectOptions = { modelId, family: overrides.family, task: overrides.task };
  if (overrides.classNames) [opts.classNames, opts.classesFrom] = [overrides.classNames, overridesFile];
  else if (existsSync(namesFile))
    [opts.classNames, opts.classesFrom] = [parseClassesText(readFileSync(namesFile, "utf8"), namesFile, opts.family), namesFile];
  return inspectOnnx(join(root, `${modelId}.onnx`), opts);
}

type Overrides = Pick<InspectOptions, "family" | "task" | "classNames">;

function readOverrides(path: string): Overrides {
  if (!existsSync(path)) return {};
  const fail = (why: string) => new AppError("MODEL_OVERRIDES_INVALID", `${path}: ${why}`, 400, { file: path });
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw fail(`not valid JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw fail("expected a JSON object {family?, task?, classNames?}");
  const o = raw as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => !["family", "task", "classNames"].includes(k));
  if (unknown.length) throw fail(`unknown field "${unknown[0]}" (known: family, task, classNames)`);
  if (o.classNames !== undefined && (!Array.isArray(o.classNames) || o.classNames.some((n) => typeof n !== "string")))
    throw fail("classNames must be an array of strings");
  return { family: checkFamily(o.family), task: checkTask(o.task), classNames: o.classNames as string[] | undefined };
}

/** The ModelInfo a registry record keeps. */
export const modelInfoOf = (record: ModelRecord): ModelInfo => JSON.parse(record.infoJson) as ModelInfo;

/** Models registered in the data dir (`vbatch models add`), their files under `modelsDir` by sha256. */
export function registryResolver(lookup: (modelId: string) => ModelRecord | undefined, modelsDir: string): ModelResolver {
  return {
    async resolve(modelId: string): Promise<ResolvedModel | undefined> {
      const record = lookup(modelId);
      if (!record) return undefined;
      const path = modelFilePath(modelsDir, record.sha256);
      if (!existsSync(path))
        throw new AppError("MODEL_FILE_MISSING", `The file of model '${modelId}' (${path}) is missing from the data directory`, 500, {
          modelId,
          sha256: record.sha256,
        });
      return { info: modelInfoOf(record), path };
    },
    describe: () => "the model registry (vbatch models add)",
  };
}

/** The first resolver that knows the id wins. */
export function chainResolvers(...resolvers: ModelResolver[]): ModelResolver {
  return {
    async resolve(modelId: string): Promise<ResolvedModel | undefined> {
      for (const r of resolvers) {
        const found = await r.resolve(modelId);
        if (found) return found;
      }
      return undefined;
    },
    describe: () => resolvers.map((r) => r.describe()).join(", then "),
  };
}
