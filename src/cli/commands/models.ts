import { randomBytes } from "node:crypto";
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import type { BunFile } from "bun";
import type { CAC } from "cac";
import { AppError } from "../../core/errors.ts";
import { humanBytes, printFields, printJson, printTable } from "../output.ts";
import { limitOf, requireOption, type CliContext } from "../context.ts";

interface ModelView {
  modelId: string;
  family: string;
  task: string;
  sha256: string;
  sizeBytes: number;
  classNames: string[];
  input: { name: string; shape: (number | string)[]; type: string; width: number; height: number; dynamicBatch: boolean };
  outputs: { name: string; shape: (number | string)[]; type: string }[];
  metadata: Record<string, string>;
  createdAt: string;
}

/** `vbatch models …` (also answered as `vbatch rf-cloud models …`). */
export function registerModels(cli: CAC, ctx: CliContext): void {
  cli
    .command("models add", "Register an ONNX model: family, task, input size and class names are read from it where possible")
    .option("--model-id <id>", "Model id: 1-100 lower-case letters, digits, '-', '_' or '.'", { type: [String] })
    .option("--file <model.onnx>", "The ONNX file")
    .option("--classes <names.txt>", "Class names, one per line in class-id order (needed unless the model's metadata has them)")
    .option("--family <family>", "yolov8, yolov8-seg, yolox, classifier, ppocr-det or ppocr-rec (read from the output shapes when absent)")
    .option("--task <task>", "detection, segmentation or classification (follows from the family when absent)")
    .option("--overwrite", "Replace a model of the same id")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const modelId = requireOption(o, "modelId", "--model-id");
      const file = readableFile(requireOption(o, "file", "--file"));
      const parts: FormPart[] = [{ name: "modelId", data: modelId }];
      if (o.overwrite) parts.push({ name: "overwrite", data: "true" });
      if (o.family !== undefined) parts.push({ name: "family", data: String(o.family) });
      if (o.task !== undefined) parts.push({ name: "task", data: String(o.task) });
      if (o.classes !== undefined) {
        const classes = readableFile(String(o.classes));
        parts.push({ name: "classes", fileName: basename(classes.name!), data: classes });
      }
      // The file goes last, so that the server refuses a bad or taken id before the upload.
      parts.push({ name: "file", fileName: basename(file.name!), data: file });
      const form = formBody(parts);
      const m = await ctx.client(o).json<ModelView>("POST", "api/v1/models", {
        body: form.body,
        headers: { "content-type": form.contentType, "content-length": String(form.length) },
      });
      if (o.json) return printJson(m);
      process.stdout.write(
        `Added model ${m.modelId}: ${m.family} (${m.task}), input ${m.input.width}x${m.input.height}, ${m.classNames.length} classes, ${humanBytes(m.sizeBytes)}, sha256 ${m.sha256}\n`,
      );
    });

  cli
    .command("models list", "List models by id")
    .option("--limit <n>", "At most this many")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const models: ModelView[] = [];
      for await (const m of ctx.client(o).pages<ModelView>("api/v1/models", "models", {}, limitOf(o))) models.push(m);
      if (o.json) return printJson(models);
      printTable(
        models.map((m) => ({ ...m, input: `${m.input.width}x${m.input.height}`, classes: m.classNames.length, size: humanBytes(m.sizeBytes), created: m.createdAt })),
        ["modelId", "family", "task", "input", "classes", "size", "created"],
      );
    });

  cli
    .command("models show", "Show a model: family, task, input, outputs, class names")
    .option("--model-id <id>", "Model id", { type: [String] })
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const modelId = requireOption(o, "modelId", "--model-id");
      const m = await ctx.client(o).json<ModelView>("GET", `api/v1/models/${encodeURIComponent(modelId)}`);
      if (o.json) return printJson(m);
      const shape = (s: (number | string)[]) => `[${s.join(",")}]`;
      const names = m.classNames.slice(0, 10).join(", ") + (m.classNames.length > 10 ? `, … (${m.classNames.length - 10} more)` : "");
      printFields([
        ["Model", m.modelId],
        ["Family", m.family],
        ["Task", m.task],
        ["Input", `${m.input.name} ${shape(m.input.shape)} ${m.input.type}, ${m.input.width}x${m.input.height}${m.input.dynamicBatch ? ", dynamic batch" : ""}`],
        ["Outputs", m.outputs.map((t) => `${t.name} ${shape(t.shape)}`).join(", ")],
        ["Classes", `${m.classNames.length}${names ? `: ${names}` : ""}`],
        ["Size", `${humanBytes(m.sizeBytes)} (${m.sizeBytes} bytes)`],
        ["sha256", m.sha256],
        ["Created", m.createdAt],
      ]);
    });

  cli
    .command("models delete", "Delete a model")
    .option("--model-id <id>", "Model id", { type: [String] })
    .action(async (o) => {
      const modelId = requireOption(o, "modelId", "--model-id");
      await ctx.client(o).json("DELETE", `api/v1/models/${encodeURIComponent(modelId)}`);
      process.stdout.write(`Deleted model ${modelId}\n`);
    });
}

function readableFile(path: string): BunFile {
  if (!existsSync(path) || !statSync(path).isFile()) throw new AppError("FILE_NOT_FOUND", `File ${path} does not exist`, 400, { path });
  return Bun.file(path);
}


interface FormPart {
  name: string;
  fileName?: string;
  data: string | BunFile;
}

/** multipart/form-data streamed from disk, so a large model is never held in memory; its length is known. */
function formBody(parts: FormPart[]): { body: ReadableStream<Uint8Array>; contentType: string; length: number } {
  const boundary = `vbatch-${randomBytes(12).toString("hex")}`;
  const text = (s: string) => new TextEncoder().encode(s);
  const pieces: (Uint8Array | BunFile)[] = [];
  for (const p of parts) {
    const fileName = p.fileName === undefined ? "" : `; filename="${p.fileName.replace(/["\\\r\n]/g, "_")}"`;
    const type = p.fileName === undefined ? "" : "Content-Type: application/octet-stream\r\n";
    pieces.push(text(`--${boundary}\r\nContent-Disposition: form-data; name="${p.name}"${fileName}\r\n${type}\r\n`));
    pieces.push(typeof p.data === "string" ? text(p.data) : p.data, text("\r\n"));
  }
  pieces.push(text(`--${boundary}--\r\n`));
  const length = pieces.reduce((n, p) => n + (p instanceof Uint8Array ? p.length : p.size), 0);
  const chunks = (async function* () {
    for (const p of pieces) {
      if (p instanceof Uint8Array) yield p;
      else yield* p.stream();
    }
  })();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  });
  return { body, contentType: `multipart/form-data; boundary=${boundary}`, length };
}
