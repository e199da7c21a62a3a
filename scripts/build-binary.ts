/**
 * `bun run build`: compiles vbatch into one executable, dist/vbatch, that runs with no Bun, no
 * node_modules and no network. Migrations and web assets are embedded by their own imports; this script
 * adds what the native packages need:
 *  - onnxruntime-node picks its addon with a computed `require`; it is pinned to the linux/x64 path, so
 *    embedding the addon does not depend on the bundler folding `process.platform` and `process.arch`;
 *  - sharp's ES build loads its addon through `createRequire`, which the bundler cannot follow, so `sharp`
 *    resolves to its CommonJS build instead;
 *  - the addons' shared libraries (libvips-cpp, libonnxruntime) are not found beside the unpacked addons,
 *    so src/native.ts is replaced by a module that embeds them and preloads them (src/native-embedded.ts).
 * Linux x64 only.
 */
import type { BunPlugin } from "bun";
import { statSync } from "node:fs";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const OUTFILE = join(ROOT, "dist/vbatch");
const NODE_MODULES = join(ROOT, "node_modules");

/** A shared library to embed, under the soname its addon asks for. */
interface NativeLibrary {
  path: string;
  soname: string;
  symbol: string;
}

const ONNX_BINDING_REQUIRE = "`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`";
const ONNX_BINDING_LINUX_X64 = JSON.stringify("../bin/napi-v6/linux/x64/onnxruntime_binding.node");

function assertLinuxX64(): void {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new Error(`The vbatch binary is built on and for linux-x64 only; this machine is ${process.platform}-${process.arch}.`);
  }
}

/** The libraries from node_modules; the libvips file name carries its version, so it is looked up. */
function findNativeLibraries(): NativeLibrary[] {
  const vipsDir = join(NODE_MODULES, "@img/sharp-libvips-linux-x64/lib");
  const vips = [...new Bun.Glob("libvips-cpp.so.*").scanSync(vipsDir)];
  if (vips.length !== 1) throw new Error(`Expected one libvips-cpp.so.* in ${vipsDir}, found ${vips.length}: run \`bun install\`.`);
  const libs = [
    { path: join(vipsDir, vips[0]!), soname: vips[0]!, symbol: "vips_version" },
    { path: join(NODE_MODULES, "onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"), soname: "libonnxruntime.so.1", symbol: "OrtGetApiBase" },
  ];
  for (const lib of libs) if (!statSync(lib.path, { throwIfNoEntry: false })?.isFile()) throw new Error(`Missing ${lib.path}: run \`bun install\`.`);
  return libs;
}

/** Names the cache folder the binary unpacks into: a new library version gets a new folder. */
async function contentKey(libs: readonly NativeLibrary[]): Promise<string> {
  const hash = new Bun.CryptoHasher("sha256");
  for (const lib of libs) hash.update(await Bun.file(lib.path).arrayBuffer());
  return hash.digest("hex").slice(0, 16);
}

/** The ffmpeg of the npm package, embedded whole: its path is fixed at build time, so it is carried along. */
const FFMPEG = join(NODE_MODULES, "@ffmpeg-installer/linux-x64/ffmpeg");

/** Source of the module that stands in for src/native.ts in the binary. */
function embeddedNativeModule(libs: readonly NativeLibrary[], key: string): string {
  const imports = libs.map((lib, i) => `import lib${i} from ${JSON.stringify(lib.path)} with { type: "file" };`);
  const entries = libs.map((lib, i) => `{ file: lib${i}, soname: ${JSON.stringify(lib.soname)}, symbol: ${JSON.stringify(lib.symbol)} }`);
  return [
    `import { embeddedExecutable, loadEmbeddedLibraries } from ${JSON.stringify(join(ROOT, "src/native-embedded.ts"))};`,
    `import { setEmbeddedFfmpeg } from ${JSON.stringify(join(ROOT, "src/engine/ffmpeg.ts"))};`,
    `import ffmpegFile from ${JSON.stringify(FFMPEG)} with { type: "file" };`,
    ...imports,
    `setEmbeddedFfmpeg(embeddedExecutable(ffmpegFile, "ffmpeg", ${JSON.stringify(key)}));`,
    `export function prepareNativeLibraries(): Promise<void> {`,
    `  return loadEmbeddedLibraries([${entries.join(", ")}], ${JSON.stringify(key)});`,
    `}`,
  ].join("\n");
}

/** onnxruntime-node's binding.js with its addon path made literal, so the bundler embeds the addon. */
function pinOnnxBinding(source: string): string {
  if (!source.includes(ONNX_BINDING_REQUIRE)) {
    throw new Error(`onnxruntime-node's dist/binding.js no longer contains ${ONNX_BINDING_REQUIRE}: update scripts/build-binary.ts.`);
  }
  return source.replace(ONNX_BINDING_REQUIRE, ONNX_BINDING_LINUX_X64);
}

function exactPath(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`);
}

function binaryPlugin(nativeModule: string): BunPlugin {
  return {
    name: "vbatch-binary",
    setup(build) {
      build.onResolve({ filter: /^sharp$/ }, () => ({ path: join(NODE_MODULES, "sharp/dist/index.cjs") }));
      build.onLoad({ filter: /[\\/]onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async (args) => ({
        contents: pinOnnxBinding(await Bun.file(args.path).text()),
        loader: "js",
      }));
      build.onLoad({ filter: exactPath(join(ROOT, "src/native.ts")) }, () => ({ contents: nativeModule, loader: "ts" }));
    },
  };
}

async function build(): Promise<void> {
  assertLinuxX64();
  const started = performance.now();
  const libs = findNativeLibraries();
  const result = await Bun.build({
    // Engine workers run in threads of their own; their entry is compiled in beside the main one.
    entrypoints: [join(ROOT, "src/main.ts"), join(ROOT, "src/engine/parallel/worker.ts")],
    target: "bun",
    // A .env or bunfig.toml in whatever folder the appliance is started from must not change how it runs.
    compile: { target: "bun-linux-x64", outfile: OUTFILE, autoloadDotenv: false, autoloadBunfig: false },
    plugins: [binaryPlugin(embeddedNativeModule(libs, await contentKey(libs)))],
    throw: false,
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error("bun build failed");
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const megabytes = (statSync(OUTFILE).size / 1e6).toFixed(0);
  console.log(`Built ${OUTFILE} (${megabytes} MB) in ${seconds} s`);
}

try {
  await build();
} catch (e) {
  console.error(`Build failed: ${(e as Error).message}`);
  process.exit(1);
}
