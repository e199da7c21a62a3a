import type { CAC } from "cac";
import { join } from "node:path";
import demoWorkflow from "../../../examples/workflows/demo-captions.json" with { type: "json" };
import { startServer } from "../../server/main.ts";
import type { CliContext } from "../context.ts";
import { writeSampleImages } from "../demo/samples.ts";
import { runOneShot } from "../one-shot.ts";
import { serverOptions, untilSignal } from "./serve.ts";

export const DEMO_BATCH = "demo-images";

/**
 * `vbatch demo`: the embedded defaults in one command — a server (data dir, SQLite, local workers), a demo
 * workflow using the built-in OCR model (reads the caption of each image, draws the text boxes), generated
 * sample images staged as a batch, a real job over them, and its results exported to a folder.
 */
export function registerDemo(cli: CAC, ctx: CliContext): void {
  serverOptions(cli.command("demo", "Start a server on the defaults and run a demo job (built-in OCR over generated sample images)"))
    .option("--images <n>", "How many sample images (default 12)")
    .option("--no-wait", "Stop after the demo job instead of serving until Ctrl-C")
    .action(async (o) => {
      const config = ctx.config(o);
      const server = await startServer(config);
      try {
        const root = server.ctx.staging.root;
        const samples = await writeSampleImages(join(root, "demo-samples"), Number(o.images ?? 12));
        const output = join(root, "demo-results");
        process.stdout.write(`vbatch is serving on ${server.url}; running the demo job (built-in OCR over ${Number(o.images ?? 12)} sample images) ...\n`);
        const { job, exported } = await runOneShot({
          server,
          definition: demoWorkflow,
          inputDir: samples,
          type: "images",
          batchId: DEMO_BATCH,
          workflowId: "demo-captions",
          jobId: `demo-${Date.now().toString(36)}`,
          options: { saveImageOutputs: true, chunkSize: 4 },
          outputDir: output,
        });
        const p = job.progress.stages.find((s) => s.stage === "processing");
        const cli = "npm run vbatch --";
        process.stdout.write(
          [
            ``,
            `Demo job ${job.jobId} ${job.state}: ${p?.itemsDone ?? 0} images read, ${p?.itemsFailed ?? 0} failed, ${job.progress.itemsPerSecond.toFixed(1)} images/s.`,
            exported ? `Results: ${output}  (results.jsonl: the text of each image; images/: annotated copies; manifest.json)` : `No results: ${job.error ?? "the job did not succeed"}`,
            ``,
            `vbatch is serving on ${server.url}  (web UI: ${server.url}/   API docs: ${server.url}/docs)   data: ${root}`,
            `Try, in another terminal:`,
            `  ${cli} batch-processing show-job-details --job-id ${job.jobId}`,
            `  ${cli} data-staging list-batch-content --batch-id ${DEMO_BATCH}`,
            `  ${cli} batch-processing process-images-with-workflow --workflow-id demo-captions --batch-id ${DEMO_BATCH}`,
            ``,
          ].join("\n") + "\n",
        );
        if (o.wait === false) return;
        process.stdout.write("Press Ctrl-C to stop.\n");
        await untilSignal();
      } finally {
        await server.stop();
      }
    });
}
