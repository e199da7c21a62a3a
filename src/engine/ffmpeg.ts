import { existsSync } from "node:fs";

/** In the compiled binary: unpacks the ffmpeg embedded in it (once) and says where. */
let embedded: (() => Promise<string>) | undefined;

export function setEmbeddedFfmpeg(unpack: () => Promise<string>): void {
  embedded = unpack;
}

/**
 * The ffmpeg to run: a configured path wins, then the one embedded in the binary (unpacked to the cache
 * folder on first use), then the one shipped in the npm package, then `ffmpeg` on PATH. Says where it came
 * from, for `doctor`.
 */
export async function resolveFfmpeg(configured?: string): Promise<{ path: string | undefined; source: string }> {
  if (configured) return { path: configured, source: "configured (ffmpegPath)" };
  if (embedded) return { path: await embedded(), source: "embedded in the binary" };
  try {
    const mod = (await import("@ffmpeg-installer/ffmpeg")) as { path?: string; default?: { path?: string } };
    const path = mod.path ?? mod.default?.path;
    if (path && existsSync(path)) return { path, source: "bundled (@ffmpeg-installer/ffmpeg)" };
  } catch {}
  const onPath = Bun.which("ffmpeg");
  if (onPath) return { path: onPath, source: "system PATH" };
  return { path: undefined, source: "not found: install ffmpeg or set VBATCH_FFMPEG_PATH" };
}

export async function ffmpegVersion(path: string): Promise<string> {
  const proc = Bun.spawn([path, "-hide_banner", "-version"], { stdout: "pipe", stderr: "pipe" });
  const text = await new Response(proc.stdout).text();
  await proc.exited;
  return text.split("\n")[0]?.trim() ?? "";
}
