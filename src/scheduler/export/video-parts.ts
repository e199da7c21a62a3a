import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../core/errors.ts";
import { lastError } from "../../engine/video/probe.ts";

type VideoFile = { name: string; path: string };

/**
 * Puts the segments of long videos back together for the export: the annotated MP4 parts of each video
 * and output (`<video>/<output>.part-000600.mp4`, …) are joined in time order into `<video>/<output>.mp4`
 * (ffmpeg's concat demuxer, streams copied, nothing re-encoded), and the parts' summaries into one
 * `<video>/summary.json` listing the segments. Files of unsplit videos pass as they are.
 */
export async function joinVideoParts(files: VideoFile[], ffmpeg: string | undefined, workDir: string): Promise<{ files: VideoFile[]; summaries: unknown[] }> {
  const out: VideoFile[] = [];
  const groups = new Map<string, VideoFile[]>();
  for (const f of files) {
    const m = /^(.*)\.part-\d+(\.mp4|\.json)$/.exec(f.name);
    if (!m) {
      out.push(f);
      continue;
    }
    const key = `${m[1]}${m[2]}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  }
  let n = 0;
  for (const [name, parts] of groups) {
    parts.sort((a, b) => (a.name < b.name ? -1 : 1));
    const target = join(workDir, `joined-${n++}${name.endsWith(".mp4") ? ".mp4" : ".json"}`);
    if (name.endsWith(".json")) writeFileSync(target, JSON.stringify(joinSummaries(parts.map((p) => JSON.parse(readFileSync(p.path, "utf8")))), null, 2) + "\n");
    else await concat(ffmpeg, parts, target);
    out.push({ name, path: target });
  }
  const summaries = out.filter((f) => f.name.endsWith("summary.json")).map((f) => JSON.parse(readFileSync(f.path, "utf8")));
  return { files: out.sort((a, b) => (a.name < b.name ? -1 : 1)), summaries };
}

/** One video's summary from its segments': frames and counts added up, tracks too (each segment tracks afresh). */
function joinSummaries(parts: Record<string, any>[]): Record<string, unknown> {
  const first = parts[0]!;
  const counts: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries(p.counts ?? {})) counts[k] = (counts[k] ?? 0) + (v as number);
  const sum = (k: string) => parts.reduce((n, p) => n + (p[k] ?? 0), 0);
  return {
    ...first,
    frames_total: sum("frames_total"),
    frames_processed: sum("frames_processed"),
    frames_failed: sum("frames_failed"),
    tracks: sum("tracks"),
    counts,
    segment: null,
    segments: parts.map((p) => p.segment),
    note: "processed in segments: trackers, counters and zones started afresh at each segment's start, so tracks and counts are added up over segments",
    warnings: parts.flatMap((p) => p.warnings ?? []),
  };
}

async function concat(ffmpeg: string | undefined, parts: VideoFile[], target: string): Promise<void> {
  if (!ffmpeg) throw new AppError("FFMPEG_NOT_FOUND", "No ffmpeg to join the segments of a video", 500);
  const list = `${target}.txt`;
  writeFileSync(list, parts.map((p) => `file '${p.path.replace(/'/g, "'\\''")}'`).join("\n") + "\n");
  const proc = Bun.spawn([ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", "-movflags", "+faststart", "-y", target], { stderr: "pipe" });
  const log = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new AppError("VIDEO_ENCODE_FAILED", `ffmpeg could not join the segments into ${target}: ${lastError(log)}`, 500);
}
