/**
 * A video longer than the segment length runs as several tasks, one per time segment, named by the item
 * `<video>#t=<start>,<end>` (seconds, the media-fragment form). Tracker state starts fresh in each segment.
 */
export interface VideoItem {
  name: string;
  segment?: { start: number; end: number };
}

export function segmentItems(name: string, durationSeconds: number, segmentSeconds: number): string[] {
  if (!(segmentSeconds > 0) || !(durationSeconds > segmentSeconds)) return [name];
  const items: string[] = [];
  for (let start = 0; start < durationSeconds; start += segmentSeconds) items.push(`${name}#t=${start},${Math.min(durationSeconds, start + segmentSeconds)}`);
  return items;
}

export function parseVideoItem(item: string): VideoItem {
  const at = item.lastIndexOf("#t=");
  if (at < 0) return { name: item };
  const m = /^#t=(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(item.slice(at));
  if (!m) return { name: item };
  return { name: item.slice(0, at), segment: { start: Number(m[1]), end: Number(m[2]) } };
}

/** The suffix of a segment's output files: `.part-000600` for the segment starting at 600 s. */
export const partSuffix = (segment: { start: number } | undefined) => (segment ? `.part-${String(Math.round(segment.start)).padStart(6, "0")}` : "");
