/**
 * The compiled binary's side of src/native.ts: scripts/build-binary.ts swaps that module for a small one
 * that embeds the native libraries and calls `loadEmbeddedLibraries` with them.
 *
 * sharp's and onnxruntime-node's addons are linked against libvips-cpp and libonnxruntime, which the
 * dynamic loader looks for beside the addon. In the binary Bun unpacks each addon alone to a temp file, so
 * nothing is beside it. Instead each library is copied once to a cache folder under its soname and loaded
 * before the addons are: the loader then finds it already in the process and does not search the disk.
 */
import { dlopen } from "bun:ffi";
import { randomUUID } from "node:crypto";
import { chmodSync, mkdirSync, renameSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

export interface EmbeddedLibrary {
  /** Path of the embedded copy, as given by `import … with { type: "file" }`. */
  file: string;
  /** The library's soname, which the addons name as a dependency; the cached copy gets this file name. */
  soname: string;
  /** A symbol the library exports: bun:ffi opens a library only through at least one symbol. */
  symbol: string;
}

/** Open handles: a handle that is garbage-collected might unload its library before the addons load. */
const handles: unknown[] = [];

/**
 * Makes the libraries loadable; `key` changes whenever their contents do (a hash taken at build time), so
 * two versions of the binary on one machine never share a folder. Without the libraries no command can
 * work, so a failure ends the process with one line that says what to change.
 */
export async function loadEmbeddedLibraries(libs: readonly EmbeddedLibrary[], key: string): Promise<void> {
  const dir = join(cacheRoot(), "vbatch", `native-${key}`);
  try {
    for (const lib of libs) {
      const target = join(dir, lib.soname);
      await extractOnce(lib.file, target);
      handles.push(dlopen(target, { [lib.symbol]: { args: [], returns: "ptr" } }));
    }
  } catch (e) {
    process.stderr.write(
      `Command failed: cannot load the native libraries from ${dir} (${(e as Error).message}). ` +
        `Set XDG_CACHE_HOME to a writable folder on a file system that allows executables.\n`,
    );
    process.exit(1);
  }
}

/**
 * The embedded ffmpeg, copied (executable) to the cache folder the first time a video needs it: 68 MB
 * that commands without videos never unpack.
 */
export function embeddedExecutable(file: string, name: string, key: string): () => Promise<string> {
  let ready: Promise<string> | undefined;
  return () =>
    (ready ??= (async () => {
      const target = join(cacheRoot(), "vbatch", `native-${key}`, name);
      await extractOnce(file, target, 0o755);
      return target;
    })());
}

function cacheRoot(): string {
  return process.env.XDG_CACHE_HOME || join(homedir(), ".cache");
}

/**
 * Copies an embedded file to `target` unless a complete copy is there. The copy is written under a name of
 * its own and renamed into place, so processes starting together never load a half-written library.
 */
export async function extractOnce(file: string, target: string, mode?: number): Promise<void> {
  const source = Bun.file(file);
  if (statSync(target, { throwIfNoEntry: false })?.size === source.size) return;
  mkdirSync(dirname(target), { recursive: true });
  const temp = `${target}.${process.pid}-${randomUUID()}.tmp`;
  try {
    await Bun.write(temp, source);
    if (mode !== undefined) chmodSync(temp, mode);
    renameSync(temp, target);
  } finally {
    rmSync(temp, { force: true });
  }
}
