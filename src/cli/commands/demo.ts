import type { CAC } from "cac";
import { join } from "node:path";
import { startServer } from "../../server/main.ts";
import { ApiClient } from "../client.ts";
import type { CliContext } from "../context.ts";
import { writeSampleImages } from "../demo/samples.ts";
import { humanBytes } from "../output.ts";
import { ensureBatch, scanMediaFiles, uploadFiles } from "../staging/upload.ts";
import { serverOptions, untilSignal } from "./serve.ts";

export const DEMO_BATCH = "demo-images";

/** `vbatch demo`: the embedded defaults in one command — a server with a demo batch of sample images. */
export function registerDemo(cli: CAC, ctx: CliContext): void {
  serverOptions(cli.command("demo", "Start a server on the defaults and stage a demo batch of generated sample images"))
    .option("--images <n>", "How many sample images (default 24)")
    .option("--no-wait", "Stop after staging instead of serving until Ctrl-C")
    .action(async (o) => {
      const config = ctx.config(o);
      const server = await startServer(config);
      try {
        const samples = await writeSampleImages(join(server.ctx.staging.root, "demo-samples"), Number(o.images ?? 24));
        const client = new ApiClient(server.url, config.apiKey);
        await ensureBatch(client, DEMO_BATCH, "images", "Demo: generated sample images");
        const report = await uploadFiles(client, scanMediaFiles(samples, "images", false), { batchId: DEMO_BATCH, overwrite: false });
        const cli = "npm run vbatch --";
        process.stdout.write(
          [
            ``,
            `vbatch is serving on ${server.url}  (web UI: ${server.url}/   API docs: ${server.url}/docs)`,
            `Data dir: ${server.ctx.staging.root}`,
            `Demo batch '${DEMO_BATCH}': ${report.found} sample images (${report.uploaded} uploaded now, ${humanBytes(report.bytes)}; ${report.alreadyPresent} already there)`,
            ``,
            `Try, in another terminal:`,
            `  ${cli} data-staging show-batch-details --batch-id ${DEMO_BATCH}`,
            `  ${cli} data-staging list-batch-content --batch-id ${DEMO_BATCH}`,
            `  ${cli} data-staging export-batch --batch-id ${DEMO_BATCH} --target-dir ./demo-export`,
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
