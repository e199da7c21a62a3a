/**
 * The program's entry, in a checkout (`bun run vbatch …`) and in the compiled binary. Native libraries
 * are made loadable before anything imports sharp or onnxruntime, so the CLI is imported dynamically.
 */
import { prepareNativeLibraries } from "./native.ts";

await prepareNativeLibraries();
const { runCli } = await import("./cli/main.ts");
process.exit(await runCli(process.argv.slice(2)));
