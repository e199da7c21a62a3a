/**
 * The compiled binary (`bun run build` → dist/vbatch) as a user without Bun or node_modules runs it: from an
 * empty folder under /tmp, with a bare environment and fresh home and cache folders, so that the native
 * libraries, migrations and web assets can only come from the binary itself.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { VERSION } from "../../src/core/version.ts";
import { resolveFfmpeg } from "../../src/engine/ffmpeg.ts";
import { ROOT, shared, sharedModelsDir } from "../helpers.ts";

const BINARY = join(ROOT, "dist/vbatch");
const built = existsSync(BINARY);

if (!built && process.env.CI) {
  test("the binary is built", () => {
    throw new Error(`${BINARY} is missing: run \`bun run build\` first`);
  });
}

// Under /tmp rather than os.tmpdir(): TMPDIR may point inside the project, where node_modules is reachable.
const root = mkdtempSync("/tmp/vbatch-binary-");
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

const cwd = folder("work");
const cache = folder("cache");
const env = { PATH: "/usr/bin:/bin", HOME: folder("home"), XDG_CACHE_HOME: cache };

async function vbatch(args: string[], extraEnv: Record<string, string> = {}) {
  const proc = Bun.spawn([BINARY, ...args], { cwd, env: { ...env, ...extraEnv }, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}

function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = probe.port!;
  probe.stop(true);
  return port;
}

async function waitForHealth(url: string, server: Bun.Subprocess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) throw new Error(`vbatch serve exited with ${server.exitCode} before answering /healthz`);
    const res = await fetch(`${url}/healthz`).catch(() => undefined);
    if (res?.ok) return;
    await Bun.sleep(100);
  }
  throw new Error(`vbatch serve did not answer ${url}/healthz within 20 s`);
}

function nodeModulesAbove(dir: string): string[] {
  const found: string[] = [];
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, "node_modules"))) found.push(d);
    if (d === dirname(d)) return found;
  }
}

describe.skipIf(!built)("the compiled binary, alone", () => {
  test("starts twice at once on an empty cache: both unpack the native libraries safely", async () => {
    expect(nodeModulesAbove(cwd)).toEqual([]);
    const runs = await Promise.all([vbatch(["--version"]), vbatch(["--version"])]);
    for (const run of runs) {
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(VERSION);
    }
    const dirs = readdirSync(join(cache, "vbatch"));
    expect(dirs.length).toBe(1);
    const files = readdirSync(join(cache, "vbatch", dirs[0]!)).sort();
    expect(files.length).toBe(2);
    expect(files[0]).toBe("libonnxruntime.so.1");
    expect(files[1]).toMatch(/^libvips-cpp\.so\.\d/);
  });

  test("serves, stages a batch through its own CLI, passes doctor, and stops cleanly on SIGTERM", async () => {
    const images = folder("media-copy");
    for (const f of ["messi5.jpg", "basketball1.png"]) cpSync(shared(`media/${f}`), join(images, f));
    const port = freePort();
    const url = `http://127.0.0.1:${port}`;
    const server = Bun.spawn([BINARY, "serve", "--port", String(port), "--data-dir", folder("data")], { cwd, env, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    try {
      await waitForHealth(url, server);
      const page = await fetch(`${url}/`);
      expect(page.headers.get("content-type")).toContain("text/html");

      const api = { VBATCH_API_URL: url };
      const created = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", images, "--batch-id", "smoke"], api);
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      const listed = await vbatch(["data-staging", "list-batches", "--json"], api);
      expect(listed.code).toBe(0);
      expect(JSON.parse(listed.stdout)).toContainEqual(expect.objectContaining({ batchId: "smoke", fileCount: 2 }));
      const details = await vbatch(["data-staging", "show-batch-details", "--batch-id", "smoke", "--json"], api);
      expect(JSON.parse(details.stdout)).toMatchObject({ type: "images", fileCount: 2 });
      const content = await vbatch(["data-staging", "list-batch-content", "--batch-id", "smoke", "--json"], api);
      expect(JSON.parse(content.stdout).map((f: { name: string }) => f.name)).toEqual(["basketball1.png", "messi5.jpg"]);
      const target = folder("export");
      const exported = await vbatch(["data-staging", "export-batch", "--batch-id", "smoke", "--target-dir", target], api);
      expect(exported.code).toBe(0);
      for (const f of ["messi5.jpg", "basketball1.png"]) expect(readFileSync(join(target, f)).equals(readFileSync(join(images, f)))).toBe(true);

      const doctor = await vbatch(["doctor", "--json"], api);
      expect(doctor.code).toBe(0);
      const checks: { name: string; ok: boolean; detail: string }[] = JSON.parse(doctor.stdout);
      const check = (name: string) => checks.find((c) => c.name === name);
      expect(check("sharp")).toMatchObject({ ok: true, detail: expect.stringContaining("libvips") });
      expect(check("onnxruntime")).toMatchObject({ ok: true, detail: expect.stringContaining("1.30.0") });
      expect(check("server")?.ok).toBe(true);
      expect(check("ffmpeg")).toMatchObject({ ok: true, detail: expect.stringContaining("embedded in the binary") });
    } finally {
      // Awaited even when the test failed: a server still running would write into a removed data dir.
      server.kill("SIGTERM");
      await server.exited;
    }
    expect(server.exitCode).toBe(0);
  });

  test("runs workflows in-process: a detector from a models folder, and the built-in OCR", async () => {
    const models = sharedModelsDir();
    const out = folder("infer-out");
    const detect = await vbatch(["infer", "--workflow", join(ROOT, "examples/workflows/boxes-and-labels.json"), "--image", shared("media/messi5.jpg"), "--models-dir", models, "--output-dir", out]);
    expect(detect.stderr).toBe("");
    expect(detect.code).toBe(0);
    const result = JSON.parse(detect.stdout);
    expect(result.predictions.predictions.map((p: { class: string }) => p.class)).toContain("sports ball");
    expect(result.annotated).toMatchObject({ type: "image", width: 548, height: 342 });
    expect(readFileSync(result.annotated.file).subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
    const ocr = await vbatch(["infer", "--workflow", join(ROOT, "examples/workflows/ocr.json"), "--image", shared("media/imageTextN.png")]);
    expect(ocr.code).toBe(0);
    expect(JSON.parse(ocr.stdout).text.split("\n")[0]).toBe("technical details are too complex to cover in the book itself.");
  });

  test("runs a whole job on its worker threads with `run`, and the demo job", async () => {
    const photos = folder("run-photos");
    for (const f of ["messi5.jpg", "basketball1.png"]) cpSync(shared(`media/${f}`), join(photos, f));
    const out = folder("run-out");
    const run = await vbatch(["run", "--workflow", join(ROOT, "examples/workflows/detect.json"), "--input", photos, "--output", out, "--models-dir", sharedModelsDir(), "--workers", "2"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("2 images processed, 0 failed");
    const rows = readFileSync(join(out, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(rows.map((r: { image: string }) => r.image)).toEqual(["basketball1.png", "messi5.jpg"]);
    // A video through the ffmpeg embedded in the binary: 2 s at 10 fps, 5 frames a second kept.
    const clips = folder("run-clips");
    const make = Bun.spawn([(await resolveFfmpeg()).path!, "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc=size=160x120:rate=10", "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", join(clips, "clip.mp4")]);
    expect(await make.exited).toBe(0);
    const videoOut = folder("run-video-out");
    const video = await vbatch(["run", "--type", "videos", "--max-video-fps", "5", "--workflow", join(ROOT, "examples/workflows/detect.json"), "--input", clips, "--output", videoOut, "--models-dir", sharedModelsDir(), "--workers", "1"]);
    expect(video.code).toBe(0);
    const frames = readFileSync(join(videoOut, "results.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).frame_number);
    expect(frames).toEqual([1, 3, 5, 7, 9, 11, 13, 15, 17, 19]);
    const demo = await vbatch(["demo", "--data-dir", folder("demo-data"), "--port", "0", "--images", "3", "--no-wait", "--log-level", "error"]);
    expect(demo.code).toBe(0);
    expect(demo.stdout).toMatch(/Demo job demo-\w+ succeeded: 3 images read, 0 failed/);
  }, 120_000);
});
