import { readFileSync } from "node:fs";

/** Resident memory of a process in bytes, from /proc (0 once it is gone). */
export function rssOf(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/** A TCP port free right now, for a server started in its own process. */
export function freePort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const s = Bun.serve({ port: 0, fetch: () => new Response() });
    resolve(s.port!);
    s.stop(true);
  });
}
