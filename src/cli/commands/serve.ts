import type { CAC } from "cac";
import { startServer } from "../../server/main.ts";
import type { CliContext } from "../context.ts";

/** Resolves when the process is asked to stop (Ctrl-C, SIGTERM). */
export const untilSignal = () =>
  new Promise<string>((resolve) => {
    for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => resolve(sig));
  });

export function serverOptions(command: ReturnType<CAC["command"]>) {
  return command
    .option("--host <host>", "Address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    .option("--port <port>", "Port (default 8080)")
    .option("--data-dir <dir>", "Data folder (default ./vbatch-data)")
    .option("--workers <n>", "Local workers (default: one per core)")
    .option("--machine-type <type>", "auto, cpu or gpu (default auto)")
    .option("--api-key <key>", "Require this key on every API request")
    .option("--agent-token <token>", "Token agents must present")
    .option("--retention-days <days>", "Days before a batch expires (default 7)")
    .option("--log-level <level>", "debug, info, warn or error");
}

export function registerServe(cli: CAC, ctx: CliContext): void {
  serverOptions(cli.command("serve", "Run the server: HTTP API, web UI, scheduler and local workers")).action(async (o) => {
    const server = await startServer(ctx.config(o));
    process.stdout.write(`vbatch is serving on ${server.url} (UI at ${server.url}/, API docs at ${server.url}/docs)\n`);
    const sig = await untilSignal();
    server.ctx.log.info(`stopping on ${sig}`);
    await server.stop();
  });
}
