/**
 * Benchmarks, reported as ratios against a baseline measured in the same run.
 *
 *   bun run bench staging [--files 10000] [--rounds 3]   CLI upload of small JPEGs vs `cp -r`; server RSS
 *   bun run bench listing [--files 100000]  paging through a large batch's content over HTTP
 *   bun run bench engine [--images 120]     engine throughput vs the CPU bound (see scripts/bench-engine.ts)
 *   bun run bench jobs [--images 1000] [--big 100000]  jobs vs the engine alone, start, overhead, a huge batch
 *   bun run bench video [--hours 1]          decode vs ffmpeg, sub-sampling cost, memory on a long video
 *
 * Add --binary to drive dist/vbatch instead of the checkout.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { writeJpegCorpus } from "./lib/jpeg-corpus.ts";
import { SqliteStore } from "../src/storage/sqlite/sqlite-store.ts";
import { Staging } from "../src/storage/staging.ts";
import { benchEngine } from "./bench-engine.ts";
import { benchJobs } from "./bench-jobs.ts";
import { benchVideo } from "./bench-video.ts";

const ROOT = resolve(import.meta.dir, "..");
const args = process.argv.slice(2);
const which = args[0];
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const useBinary = args.includes("--binary");
const program = useBinary ? [join(ROOT, "dist/vbatch")] : ["bun", join(ROOT, "src/main.ts")];

async function freePort(): Promise<number> {
  const s = Bun.serve({ port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

/** Starts `vbatch serve` as its own process so that its memory can be read from /proc. */
async function startServer(dataDir: string) {
  const port = await freePort();
  const proc = Bun.spawn([...program, "serve", "--port", String(port), "--data-dir", dataDir, "--log-level", "warn"], {
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    if (await fetch(`${url}/healthz`).then((r) => r.ok, () => false)) break;
    await Bun.sleep(50);
  }
  let peakRss = 0;
  const timer = setInterval(() => (peakRss = Math.max(peakRss, rssOf(proc.pid))), 20);
  return {
    url,
    peakRss: () => Math.max(peakRss, rssOf(proc.pid)),
    async stop() {
      clearInterval(timer);
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

function rssOf(pid: number): number {
  try {
    const status = require("node:fs").readFileSync(`/proc/${pid}/status`, "utf8") as string;
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

async function timed(cmd: string[], env: Record<string, string> = {}): Promise<number> {
  const t0 = performance.now();
  const proc = Bun.spawn(cmd, { stdout: "ignore", stderr: "inherit", env: { ...process.env, ...env } });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${cmd.join(" ")} exited with ${code}`);
  return (performance.now() - t0) / 1000;
}

const mb = (n: number) => `${(n / 1048576).toFixed(0)} MB`;

/**
 * The file system's speed drifts a lot on shared machines (writeback, journal, discards after deletes), so
 * the copy and the upload alternate for `rounds` rounds, each after a `sync`, and medians are compared.
 */
async function benchStaging() {
  const count = flag("files", 10_000);
  const rounds = flag("rounds", 3);
  const work = mkdtempSync(join(tmpdir(), "vbatch-bench-"));
  try {
    const corpus = join(work, "corpus");
    process.stderr.write(`Generating ${count} JPEGs (~20 KB each) ...\n`);
    await writeJpegCorpus(corpus, count, 20_000);
    const dataDir = join(work, "data");
    mkdirSync(dataDir);
    const server = await startServer(dataDir);
    const cp: number[] = [];
    const upload: number[] = [];
    let bytes = 0;
    for (let r = 0; r < rounds; r++) {
      await timed(["sync"]);
      cp.push(await timed(["cp", "-r", corpus, join(dataDir, `cp-copy-${r}`)]));
      await timed(["sync"]);
      upload.push(await timed([...program, "data-staging", "create-batch-of-images", "--images-dir", corpus, "--batch-id", `bench-${r}`], { VBATCH_API_URL: server.url }));
      const details = (await (await fetch(`${server.url}/api/v1/batches/bench-${r}`)).json()) as { fileCount: number; totalBytes: number };
      if (details.fileCount !== count) throw new Error(`expected ${count} files in the batch, found ${details.fileCount}`);
      bytes = details.totalBytes;
      process.stderr.write(`  round ${r + 1}: cp ${cp[r]!.toFixed(2)} s, upload ${upload[r]!.toFixed(2)} s\n`);
    }
    const peak = server.peakRss();
    await server.stop();
    const cpMedian = median(cp);
    const upMedian = median(upload);
    const ratio = upMedian / cpMedian;
    console.log(`staging ${count} files (${mb(bytes)}) with ${useBinary ? "dist/vbatch" : "the checkout"}, median of ${rounds} rounds`);
    console.log(`  cp -r baseline:       ${cpMedian.toFixed(2)} s  (rounds: ${cp.map((x) => x.toFixed(2)).join(", ")})`);
    console.log(`  CLI upload (HTTP):    ${upMedian.toFixed(2)} s  (rounds: ${upload.map((x) => x.toFixed(2)).join(", ")}; ${(count / upMedian).toFixed(0)} files/s)`);
    console.log(`  ratio upload / cp:    ${ratio.toFixed(2)}  (limit 3.0) ${ratio <= 3 ? "OK" : "OVER"}`);
    console.log(`  server peak RSS:      ${mb(peak)}  (limit 300 MB) ${peak < 300 * 1048576 ? "OK" : "OVER"}`);
    return ratio <= 3 && peak < 300 * 1048576;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function benchListing() {
  const count = flag("files", 100_000);
  const work = mkdtempSync(join(tmpdir(), "vbatch-bench-"));
  try {
    const staging = new Staging(join(work, "data"));
    staging.init();
    const store = new SqliteStore(staging.dbPath);
    const now = Date.now();
    store.createBatch({ id: "big", name: "big", type: "images", kind: "input", createdAtMs: now, expiresAtMs: now + 86_400_000 });
    const rows = [];
    for (let i = 0; i < count; i++)
      rows.push({ batchId: "big", part: "default", name: `dir-${i % 100}/img-${String(i).padStart(7, "0")}.jpg`, sizeBytes: 20_000, sha256: "0".repeat(64), contentType: "image/jpeg", createdAtMs: now });
    store.putBatchFiles(rows);
    store.close();
    const server = await startServer(staging.root);
    const times: number[] = [];
    let token: string | undefined;
    let seen = 0;
    do {
      const t0 = performance.now();
      const res = await fetch(`${server.url}/api/v1/batches/big/content?pageSize=1000${token ? `&pageToken=${token}` : ""}`);
      const page = (await res.json()) as { files: unknown[]; nextPageToken?: string };
      times.push(performance.now() - t0);
      seen += page.files.length;
      token = page.nextPageToken;
    } while (token);
    await server.stop();
    if (seen !== count) throw new Error(`listed ${seen} files, expected ${count}`);
    const slowest = times.indexOf(Math.max(...times));
    times.sort((a, b) => a - b);
    const max = times[times.length - 1]!;
    console.log(`listing a ${count}-file batch over HTTP, ${times.length} pages of 1000`);
    console.log(`  per page: median ${times[times.length >> 1]!.toFixed(1)} ms, p95 ${times[Math.floor(times.length * 0.95)]!.toFixed(1)} ms, max ${max.toFixed(1)} ms  (limit 50 ms) ${max < 50 ? "OK" : "OVER"}`);
    console.log(`  slowest: page ${slowest + 1}`);
    return max < 50;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const benches: Record<string, () => Promise<boolean>> = {
  staging: benchStaging,
  listing: benchListing,
  engine: () => benchEngine(flag("images", 120)),
  jobs: () => benchJobs(flag("images", 1000), flag("big", 100_000)),
  video: () => benchVideo(flag("hours", 1)),
};
const selected = which && which in benches ? [which] : Object.keys(benches);
let ok = true;
for (const name of selected) ok = (await benches[name]!()) && ok;
process.exit(ok ? 0 : 1);
