import type { CAC } from "cac";
import { mkdirSync, readFileSync, renameSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { AppError } from "../../core/errors.ts";
import { Engine } from "../../engine/engine.ts";
import { serializeOutputs } from "../../engine/workflow/serialize.ts";
import { requireOption, type CliContext } from "../context.ts";
import { localModels, readJsonFile } from "../local-engine.ts";
import { printJson } from "../output.ts";

/**
 * `vbatch infer`: one image through a workflow, in this process (no server). Prints the outputs as JSON;
 * image outputs are written as JPEG files (`<output>.jpg`, or `<output>/<index>.jpg` per crop) into
 * --output-dir and shown in the JSON by their paths.
 */
export function registerInfer(cli: CAC, ctx: CliContext): void {
  cli
    .command("infer", "Run a workflow on one image here (no server) and print its outputs as JSON")
    .option("--workflow <wf.json>", "The workflow definition")
    .option("--image <file>", "The image")
    .option("--models-dir <dir>", "Folder of models: <id>.onnx, <id>.txt class names, optional <id>.json")
    .option("--data-dir <dir>", "Data dir whose model registry resolves model ids (default ./vbatch-data)")
    .option("--params <file.json>", "Workflow parameters as a JSON object")
    .option("--output-dir <dir>", "Where image outputs are written (default: the current folder)")
    .option("--machine-type <type>", "auto, cpu or gpu")
    .action(async (o) => {
      const config = ctx.config(o);
      const definition = readJsonFile(requireOption(o, "workflow", "--workflow"), "workflow file");
      const imagePath = requireOption(o, "image", "--image");
      const params = o.params ? readJsonFile(String(o.params), "parameters file") : {};
      if (typeof params !== "object" || params === null || Array.isArray(params))
        throw new AppError("VALIDATION_FAILED", `Parameters file '${o.params}' must hold a JSON object`, 400);
      let bytes: Uint8Array;
      try {
        bytes = readFileSync(imagePath);
      } catch (e) {
        throw new AppError("NOT_FOUND", `Cannot read image '${imagePath}': ${(e as Error).message}`, 404);
      }
      const outputDir = resolve(o.outputDir ? String(o.outputDir) : ".");
      const models = localModels({ modelsDir: o.modelsDir, dataDir: config.dataDir });
      const engine = new Engine(models.resolver, { machineType: config.machineType, ...(config.sessionThreads ? { intraOpNumThreads: config.sessionThreads } : {}) });
      try {
        const wf = await engine.compile(definition);
        const image = await engine.image(bytes, basename(imagePath));
        const outputs = await engine.run(wf, image, engine.parameters(wf, params as Record<string, unknown>));
        const json = await serializeOutputs(wf, outputs, {
          image: async (img, output, path) => {
            const file = join(outputDir, path.length ? join(output, `${path.join("-")}.jpg`) : `${output}.jpg`);
            mkdirSync(join(file, ".."), { recursive: true });
            await Bun.write(`${file}.part`, await img.toJpeg(90));
            renameSync(`${file}.part`, file);
            return { type: "image", file, width: img.width, height: img.height };
          },
        });
        for (const w of wf.warnings) process.stderr.write(`warning: ${w.path}: ${w.message}\n`);
        printJson(json);
      } finally {
        await engine.release();
        models.close();
      }
    });
}
