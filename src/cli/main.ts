import { cac } from "cac";
import { toAppError } from "../core/errors.ts";
import { VERSION } from "../core/version.ts";
import { registerBatchProcessing } from "./commands/batch-processing.ts";
import { registerDataStaging } from "./commands/data-staging.ts";
import { registerDemo } from "./commands/demo.ts";
import { registerDoctor } from "./commands/doctor.ts";
import { registerInfer } from "./commands/infer.ts";
import { registerModels } from "./commands/models.ts";
import { registerRun } from "./commands/run.ts";
import { registerServe } from "./commands/serve.ts";
import { registerWorkflows } from "./commands/workflows.ts";
import { makeCliContext, usageError } from "./context.ts";

/** Command groups whose sub-command is the next word: `vbatch data-staging list-batches`. */
const GROUPS = new Set(["data-staging", "models", "workflows", "batch-processing"]);

/**
 * `rf-cloud` is accepted in front of any group so that commands written for the reference work after
 * replacing the program name; a group and its sub-command are joined into one command name for cac.
 */
export function normaliseArgv(args: string[]): string[] {
  const out = args[0] === "rf-cloud" ? args.slice(1) : [...args];
  if (out.length >= 2 && GROUPS.has(out[0]!) && !out[1]!.startsWith("-")) out.splice(0, 2, `${out[0]} ${out[1]}`);
  return out;
}

/** Runs the CLI; returns the exit code: 0 ok, 1 command failed, 2 usage error. */
export async function runCli(args: string[], env: Record<string, string | undefined> = process.env): Promise<number> {
  const ctx = makeCliContext(env);
  const cli = cac("vbatch");
  cli.option("--api-url <url>", "Server address (default http://127.0.0.1:8080, or VBATCH_API_URL)");
  cli.option("--api-key <key>", "API key (or VBATCH_API_KEY)");
  cli.option("--config <file>", "JSON config file (or VBATCH_CONFIG)");
  registerServe(cli, ctx);
  registerDemo(cli, ctx);
  registerDoctor(cli, ctx);
  registerDataStaging(cli, ctx);
  registerModels(cli, ctx);
  registerWorkflows(cli, ctx);
  registerInfer(cli, ctx);
  registerBatchProcessing(cli, ctx);
  registerRun(cli, ctx);
  cli.help();
  cli.option("-v, --version", "Print the version");

  const argv = normaliseArgv(args);
  try {
    cli.parse(["vbatch", "vbatch", ...argv], { run: false });
    if (!cli.matchedCommand) {
      if (cli.options.version) {
        process.stdout.write(`vbatch ${VERSION} (Bun ${Bun.version}, ${process.platform}-${process.arch})\n`);
        return 0;
      }
      if (cli.options.help) return 0;
      if (argv.length === 0) {
        cli.outputHelp();
        return 2;
      }
      const known = cli.commands.map((c) => c.name).filter(Boolean);
      throw usageError(`Unknown command '${argv[0]}'. Commands: ${known.join(", ")}`);
    }
    await cli.runMatchedCommand();
    return 0;
  } catch (e) {
    const err = e instanceof Error && e.name === "CACError" ? usageError(e.message) : toAppError(e);
    if (err.code === "USAGE") {
      process.stderr.write(`Usage error: ${err.message}\nRun 'vbatch --help' for the commands and their options.\n`);
      return 2;
    }
    process.stderr.write(`Command failed: ${err.message}\n`);
    const issues = err.details?.errors;
    if (Array.isArray(issues) && issues.length > 1)
      for (const i of issues as { path: string; message: string }[]) process.stderr.write(`  ${i.path}: ${i.message}\n`);
    return 1;
  }
}
