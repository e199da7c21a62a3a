import { basename } from "node:path";
import type { InferenceSession } from "onnxruntime-node";
import { AppError, invalid } from "../../core/errors.ts";
import { parseImgsz, parseUltralyticsNames } from "./class-names.ts";
import { classCountFor, describeTensors, expectedLayout, fits, formatShape, inferFamily, INFERABLE_FAMILIES, isFixed, type InputSize } from "./model-layout.ts";
import { readOnnxMetadata } from "./onnx-metadata.ts";
import { MODEL_FAMILIES, MODEL_TASKS, type ModelFamily, type ModelInfo, type ModelTask, type TensorInfo } from "./types.ts";

export interface InspectOptions {
  modelId: string;
  /** Class names given with the model; they take precedence over names in its metadata. */
  classNames?: string[];
  family?: ModelFamily;
  task?: ModelTask;
  /** Where `classNames` came from, for messages (e.g. "names.txt"). */
  classesFrom?: string;
  /** The model's name in messages, when `path` is a temp file. */
  fileName?: string;
}

/** Tasks each family can serve, the default first (a segmentation model can also serve as a detector). */
const FAMILY_TASKS: Record<ModelFamily, readonly ModelTask[]> = {
  yolov8: ["detection"],
  "yolov8-seg": ["segmentation", "detection"],
  yolox: ["detection"],
  classifier: ["classification"],
  "ppocr-det": ["ocr"],
  "ppocr-rec": ["ocr"],
};

/** Ultralytics `task` metadata values and the family each exports. */
const ULTRALYTICS_FAMILIES: Record<string, ModelFamily> = { detect: "yolov8", segment: "yolov8-seg", classify: "classifier" };

const OCR_FAMILIES: readonly ModelFamily[] = ["ppocr-det", "ppocr-rec"];

/**
 * Everything the engine needs to run a model, read from the ONNX file (signature, metadata, sha256) and
 * checked against what was given with it. A file onnxruntime cannot load, a layout no decoder reads, or
 * class names that do not fit fail here, with the shapes found, rather than later in a job.
 */
export async function inspectOnnx(path: string, opts: InspectOptions): Promise<ModelInfo> {
  const file = opts.fileName ?? basename(path);
  const { inputs, outputs } = await readSignature(path, file);
  const metadata = readOnnxMetadata(path, file);
  const hint = familyHint(opts.family, metadata, file);
  const input = imageInput(inputs, metadata, file, hint?.family);
  const { family, classCount } = layoutOf(hint, input, outputs, file);
  const task = taskOf(family, opts.task);
  const classNames = classNamesOf({ family, classCount, outputs, metadata, file, opts });
  const { sha256, sizeBytes } = await digest(path);
  return { modelId: opts.modelId, sha256, sizeBytes, family, task, classNames, input, outputs, metadata };
}

/** A family name from user input (HTTP field, JSON override), checked. */
export function checkFamily(value: unknown, field = "family"): ModelFamily | undefined {
  if (value === undefined || value === "") return undefined;
  if (!MODEL_FAMILIES.includes(value as ModelFamily))
    throw invalid(`Invalid ${field} ${JSON.stringify(value)}: use one of ${MODEL_FAMILIES.join(", ")}`, { field, allowed: MODEL_FAMILIES });
  return value as ModelFamily;
}

export function checkTask(value: unknown, field = "task"): ModelTask | undefined {
  if (value === undefined || value === "") return undefined;
  if (!MODEL_TASKS.includes(value as ModelTask))
    throw invalid(`Invalid ${field} ${JSON.stringify(value)}: use one of ${MODEL_TASKS.join(", ")}`, { field, allowed: MODEL_TASKS });
  return value as ModelTask;
}

async function readSignature(path: string, file: string): Promise<{ inputs: TensorInfo[]; outputs: TensorInfo[] }> {
  // Imported when first needed, so that commands which never inspect a model do not load the runtime.
  const ort = await import("onnxruntime-node");
  let session: InferenceSession;
  try {
    // Loading is all inspection needs; skipping graph optimisation makes it quick for large models.
    session = await ort.InferenceSession.create(path, { graphOptimizationLevel: "disabled" });
  } catch (e) {
    const reason = String((e as Error).message ?? e).replace(/^Load model from .*? failed:\s*/, "");
    throw new AppError("MODEL_INVALID", `${file} is not a valid ONNX model: ${reason}`, 400, { file });
  }
  try {
    return { inputs: tensors(session.inputMetadata, "input", file), outputs: tensors(session.outputMetadata, "output", file) };
  } finally {
    await session.release();
  }
}

function tensors(values: readonly InferenceSession.ValueMetadata[], kind: string, file: string): TensorInfo[] {
  return values.map((v) => {
    if (!v.isTensor) throw layoutError(`${file}: ${kind} '${v.name}' is not a tensor (a sequence or map); vbatch reads tensor outputs only`, file);
    return { name: v.name, shape: [...v.shape], type: v.type };
  });
}

/** The family to check the outputs against: the one named, else the one Ultralytics metadata declares. */
function familyHint(family: ModelFamily | undefined, metadata: Record<string, string>, file: string) {
  if (family) return { family, why: `(named as ${family})` };
  const task = metadata.task;
  if (task === undefined) return undefined;
  const fromTask = ULTRALYTICS_FAMILIES[task];
  if (!fromTask)
    throw layoutError(
      `${file} is an Ultralytics '${task}' model; supported Ultralytics tasks are ${Object.keys(ULTRALYTICS_FAMILIES).join(", ")}`,
      file,
    );
  return { family: fromTask, why: `(its metadata says task '${task}')` };
}

type ImageInput = ModelInfo["input"];

/** The one NCHW float32 image input, with its spatial size from the shape or, when dynamic, from `imgsz`. */
function imageInput(inputs: TensorInfo[], metadata: Record<string, string>, file: string, family: ModelFamily | undefined): ImageInput {
  if (inputs.length !== 1)
    throw layoutError(`${file} has ${inputs.length} inputs (${describeTensors(inputs)}); vbatch feeds a model one image input`, file);
  const tensor = inputs[0]!;
  const [batch, channels, h, w] = tensor.shape;
  if (tensor.shape.length !== 4 || !fits(channels, 3))
    throw layoutError(`${file}: input ${tensor.name} ${formatShape(tensor.shape)} is not an image tensor [N,3,H,W]`, file);
  if (tensor.type !== "float32") throw layoutError(`${file}: input ${tensor.name} is ${tensor.type}; vbatch feeds float32 images`, file);
  const imgsz = metadata.imgsz === undefined ? undefined : parseImgsz(metadata.imgsz);
  const height = isFixed(h) ? h : imgsz?.height;
  const width = isFixed(w) ? w : imgsz?.width;
  if (height === undefined || width === undefined) {
    // PP-OCR networks take any size: their pipeline sizes each image (or text line) itself; 0 says so.
    if (family && OCR_FAMILIES.includes(family)) return { ...tensor, width: width ?? 0, height: height ?? 0, dynamicBatch: !isFixed(batch) };
    throw new AppError(
      "MODEL_INPUT_SIZE_UNKNOWN",
      `${file}: input ${tensor.name} ${formatShape(tensor.shape)} has a dynamic size and the model's metadata has no 'imgsz'; export it with a fixed input size`,
      400,
      { file, input: tensor.shape },
    );
  }
  return { ...tensor, width, height, dynamicBatch: !isFixed(batch) };
}

function layoutOf(hint: { family: ModelFamily; why: string } | undefined, input: ImageInput, outputs: TensorInfo[], file: string) {
  const found = `input ${input.name} ${formatShape(input.shape)}, outputs ${describeTensors(outputs)}`;
  if (hint) {
    const classCount = classCountFor(hint.family, outputs, input);
    if (classCount === undefined)
      throw layoutError(`${file} does not have the ${hint.family} layout ${hint.why}: expected ${expectedLayout(hint.family, input)}; found ${found}`, file, input, outputs);
    return { family: hint.family, classCount };
  }
  const inferred = inferFamily(outputs, input);
  if (!inferred) {
    const layouts = INFERABLE_FAMILIES.map((f) => `${f}: ${expectedLayout(f, input)}`).join("; ");
    throw layoutError(
      `Cannot tell which kind of model ${file} is from its shapes (${found}). Layouts read at ${sizeText(input)}: ${layouts}. PP-OCR models must be named with their family`,
      file,
      input,
      outputs,
    );
  }
  return inferred;
}

function taskOf(family: ModelFamily, task: ModelTask | undefined): ModelTask {
  const tasks = FAMILY_TASKS[family];
  if (task === undefined) return tasks[0]!;
  if (!tasks.includes(task))
    throw new AppError("MODEL_TASK_MISMATCH", `Task '${task}' does not fit a ${family} model; it can do: ${tasks.join(", ")}`, 400, { family, task });
  return task;
}

interface NamesContext {
  family: ModelFamily;
  classCount: number;
  outputs: TensorInfo[];
  metadata: Record<string, string>;
  file: string;
  opts: InspectOptions;
}

function classNamesOf({ family, classCount, outputs, metadata, file, opts }: NamesContext): string[] {
  if (classCount === 0) return [];
  let names: string[];
  let from: string;
  if (opts.classNames) {
    // A PP-OCR dictionary lists the characters; the model adds a CTC blank before them and a space after.
    const dictionary = family === "ppocr-rec" && opts.classNames.length === classCount - 2;
    names = dictionary ? ["", ...opts.classNames, " "] : opts.classNames;
    from = opts.classesFrom ?? "the class names given";
  } else if (metadata.names !== undefined) {
    names = parseUltralyticsNames(metadata.names);
    from = "its metadata 'names'";
  } else
    throw new AppError(
      "MODEL_CLASSES_MISSING",
      `${file} is a ${family} model with ${classCount} classes, but its ONNX metadata has no 'names' and no class names were given (a text file with one name per line, in class-id order)`,
      400,
      { file, classCount },
    );
  if (names.length !== classCount)
    throw new AppError(
      "MODEL_CLASSES_MISMATCH",
      `${file} has ${classCount} classes (outputs ${describeTensors(outputs)}) but ${from} lists ${names.length}`,
      400,
      { file, classCount, classNames: names.length },
    );
  return names;
}

const sizeText = (size: InputSize) => `${size.width}x${size.height}`;

function layoutError(message: string, file: string, input?: TensorInfo, outputs?: TensorInfo[]): AppError {
  const shapes = input && outputs ? { input: { name: input.name, shape: input.shape }, outputs: outputs.map((o) => ({ name: o.name, shape: o.shape })) } : {};
  return new AppError("MODEL_LAYOUT_UNSUPPORTED", message, 400, { file, ...shapes });
}

async function digest(path: string): Promise<{ sha256: string; sizeBytes: number }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let sizeBytes = 0;
  for await (const chunk of Bun.file(path).stream()) {
    hasher.update(chunk);
    sizeBytes += chunk.length;
  }
  return { sha256: hasher.digest("hex"), sizeBytes };
}
