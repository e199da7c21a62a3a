/**
 * Compatibility report: how many workflow definitions written for the reference the engine accepts, and
 * how many of those it can run.
 *
 *   bun scripts/compat-check.ts --definitions DIR --models-dir DIR [--image FILE]... [--param NAME=JSON]... [--json FILE]
 *
 * `--param model_id="yolov8n-640"` gives a value to every definition that declares that parameter (as a
 * caller does at run time; definitions that leave it without a default need it).
 *
 * For every `*.json` file in DIR (sorted by name) it
 *   1. compiles the definition with `compileDefinition` against a models folder (`directoryResolver`:
 *      DIR/<model_id>.onnx, class names in DIR/<model_id>.txt) - "validated";
 *   2. if that worked, runs it through an `Engine` on each given image, with the parameters the definition
 *      declares defaults for - "ran" (every image ran without an error).
 * The image is handed to the engine, which binds it to the definition's own image input (WorkflowImage /
 * InferenceImage, whatever its name); a definition without one fails to compile.
 *
 * One line per definition (validated? ran? first error), then `validated N/M, ran K/M`. Other JSON in
 * DIR (a list, or an object with none of inputs/steps/outputs, such as an index) is named but not
 * counted. With `--json FILE` the per-definition results are also written there, for grouping the
 * failures. It is a report, not a test: the exit code is 0 whatever the results (and on bad arguments,
 * after printing the usage).
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { compileDefinition, Engine } from "../src/engine/engine.ts";
import { directoryResolver } from "../src/engine/models/resolvers.ts";

const USAGE = "usage: bun scripts/compat-check.ts --definitions DIR --models-dir DIR [--image FILE]... [--param NAME=JSON]... [--json FILE]";
/** A run that takes longer than this is reported as failed (a hung model load should not stall the report). */
const RUN_TIMEOUT_MS = 120_000;
/** Characters of an error message shown on a report line. */
const MAX_MESSAGE = 200;

interface Args {
  definitions: string;
  modelsDir: string;
  images: string[];
  params: Record<string, unknown>;
  json?: string;
}

interface Result {
  file: string;
  /** Name of the definition's image input, when it compiled. */
  imageInput?: string;
  validated: boolean;
  /** undefined: not attempted (did not compile, or no images given). */
  ran?: boolean;
  /** Which stage failed first: read (not JSON), compile, parameters (defaults rejected), run. */
  stage?: "read" | "compile" | "parameters" | "run";
  error?: string;
}

function parseArgs(argv: string[]): Args | string {
  const args: Partial<Args> & { images: string[]; params: Record<string, unknown> } = { images: [], params: {} };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? "";
    const value = argv[i + 1];
    if (!["--definitions", "--models-dir", "--image", "--param", "--json"].includes(flag)) return `unknown argument '${flag}'`;
    if (value === undefined || value.startsWith("--")) return `${flag} needs a value`;
    i++;
    if (flag === "--definitions") args.definitions = value;
    else if (flag === "--models-dir") args.modelsDir = value;
    else if (flag === "--image") args.images.push(value);
    else if (flag === "--param") {
      const eq = value.indexOf("=");
      if (eq < 1) return `--param needs NAME=JSON, got '${value}'`;
      try {
        args.params[value.slice(0, eq)] = JSON.parse(value.slice(eq + 1));
      } catch {
        return `--param ${value.slice(0, eq)}: the value is not JSON`;
      }
    }
    else args.json = value;
  }
  if (!args.definitions) return "--definitions is required";
  if (!args.modelsDir) return "--models-dir is required";
  return args as Args;
}

/**
 * The first thing worth reading in an error. Compile errors (WORKFLOW_INVALID) carry the list of every
 * fault in `details.errors` as {path, message}; the first one is reported with its JSON path.
 */
function firstMessage(e: unknown): string {
  const details = (e as { details?: { errors?: { path?: string; message?: string }[] } })?.details;
  const first = details?.errors?.[0];
  if (first?.message) return first.path ? `${first.path}: ${first.message}` : first.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A JSON object with at least one of the keys a workflow definition has (anything else is left out). */
function isDefinitionLike(value: unknown): boolean {
  if (!value || typeof value !== "object" || Array.isArray(value)) return false;
  return ["inputs", "steps", "outputs"].some((key) => key in value);
}

/** Rejects after `ms` so that one stuck run does not stop the whole report. */
function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One line: file name, then yes/no columns, then the first error (if any). */
function formatLine(r: Result, width: number): string {
  const ran = r.ran === undefined ? "-  " : r.ran ? "yes" : "no ";
  const input = r.imageInput ? `  [image input '${r.imageInput}']` : "";
  // Long messages (an unknown block type lists every supported one) are cut here; --json keeps them whole.
  const message = r.error?.replace(/\s+/g, " ");
  const error = message ? `  ${r.stage}: ${message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE)}...` : message}` : "";
  return `${r.file.padEnd(width)}  validated ${r.validated ? "yes" : "no "}  ran ${ran}${input}${error}`;
}

/**
 * Compiles the definition in the engine, resolves its parameters from the declared defaults and runs it on
 * every image; stops at the first failure and says at which stage it happened.
 */
async function runOnImages(engine: Engine, definition: unknown, images: { name: string; bytes: Uint8Array }[], given: Record<string, unknown>): Promise<Partial<Result>> {
  let wf: Awaited<ReturnType<Engine["compile"]>>;
  let params: Record<string, unknown>;
  try {
    wf = await engine.compile(definition);
  } catch (e) {
    return { ran: false, stage: "compile", error: firstMessage(e) };
  }
  try {
    params = engine.parameters(wf, Object.fromEntries(Object.entries(given).filter(([name]) => name in wf.parameters)));
  } catch (e) {
    return { ran: false, stage: "parameters", error: firstMessage(e) };
  }
  for (const img of images) {
    try {
      const image = await engine.image(img.bytes, img.name);
      await withTimeout(engine.run(wf, image, params), RUN_TIMEOUT_MS, `the run on ${img.name}`);
    } catch (e) {
      return { ran: false, stage: "run", error: `${img.name}: ${firstMessage(e)}` };
    }
  }
  return { ran: true };
}

async function main(): Promise<void> {
  const parsed = parseArgs(process.argv.slice(2));
  if (typeof parsed === "string") {
    console.error(`${parsed}\n${USAGE}`);
    return;
  }
  const definitionsDir = resolve(parsed.definitions);
  let files: string[];
  try {
    files = readdirSync(definitionsDir)
      .filter((f) => f.endsWith(".json") && statSync(join(definitionsDir, f)).isFile())
      .sort();
  } catch (e) {
    console.error(`cannot read ${definitionsDir}: ${(e as Error).message}`);
    return;
  }

  // The images are read once; a missing image is reported and the runs are skipped (validation still runs).
  const images: { name: string; bytes: Uint8Array }[] = [];
  for (const path of parsed.images) {
    try {
      images.push({ name: basename(path), bytes: new Uint8Array(readFileSync(path)) });
    } catch (e) {
      console.error(`cannot read image ${path}: ${(e as Error).message}; runs are skipped`);
      images.length = 0;
      break;
    }
  }

  // One resolver for validation and one Engine (one set of inference sessions) for every run.
  const resolver = directoryResolver(parsed.modelsDir);
  const engine = new Engine(resolver);
  const results: Result[] = [];
  const notDefinitions: string[] = [];
  const width = Math.min(90, Math.max(0, ...files.map((f) => f.length)));

  for (const file of files) {
    const result: Result = { file, validated: false };
    let definition: unknown;
    try {
      definition = JSON.parse(readFileSync(join(definitionsDir, file), "utf8"));
    } catch (e) {
      results.push(Object.assign(result, { stage: "read" as const, error: `not valid JSON: ${(e as Error).message}` }));
      console.log(formatLine(result, width));
      continue;
    }

    // Other JSON kept beside the definitions (an index, notes: a list, or an object without any of
    // inputs/steps/outputs) is not counted.
    if (!isDefinitionLike(definition)) {
      notDefinitions.push(file);
      continue;
    }
    results.push(result);

    // 1. Validation: the definition compiles, its block types are known and its model ids resolve.
    try {
      const compiled = await compileDefinition(definition, resolver);
      result.validated = true;
      result.imageInput = compiled.imageInput;
    } catch (e) {
      Object.assign(result, { stage: "compile", error: firstMessage(e) });
      console.log(formatLine(result, width));
      continue;
    }

    // 2. Runs on each image, with the definition's defaults and the --param values as parameters.
    if (images.length > 0) Object.assign(result, await runOnImages(engine, definition, images, parsed.params));
    console.log(formatLine(result, width));
  }

  try {
    await engine.release();
  } catch {
    // Releasing sessions is best effort; the report is already printed.
  }

  const validated = results.filter((r) => r.validated).length;
  const ran = results.filter((r) => r.ran).length;
  const runNote = images.length ? "" : " (no images given: nothing was run)";
  if (notDefinitions.length) console.log(`\nnot workflow definitions, not counted: ${notDefinitions.join(", ")}`);
  console.log(`\nvalidated ${validated}/${results.length}, ran ${ran}/${results.length}${runNote}`);
  if (parsed.json) {
    try {
      writeFileSync(parsed.json, JSON.stringify({ images: images.map((i) => i.name), validated, ran, total: results.length, results }, null, 1));
    } catch (e) {
      console.error(`cannot write ${parsed.json}: ${(e as Error).message}`);
    }
  }
}

try {
  await main();
} catch (e) {
  console.error(`compat-check stopped early: ${firstMessage(e)}`);
}
process.exit(0);
