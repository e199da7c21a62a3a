import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll } from "bun:test";
import { manualClock } from "../src/core/clock.ts";
import { resolveConfig, type Config } from "../src/core/config.ts";
import { silentLogger } from "../src/core/log.ts";
import { createApp } from "../src/server/app.ts";
import { createServerContext } from "../src/server/main.ts";

export const ROOT = resolve(import.meta.dir, "..");

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp folder, removed after the test file. */
export function tempDir(prefix = "vbatch-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/**
 * A file from ../shared (real models and media). Missing in CI is a failure; elsewhere the caller may skip.
 */
export function shared(rel: string): string {
  const p = resolve(ROOT, "..", "shared", rel);
  if (!existsSync(p) && process.env.CI) throw new Error(`Test data ${p} is missing: the tests need ../shared beside the project`);
  return p;
}

export function testConfig(overrides: Partial<Record<keyof Config, unknown>> = {}): Readonly<Config> {
  return resolveConfig({ flags: { dataDir: tempDir(), port: 0, ...overrides }, env: {} });
}

/** A server context on a real SQLite file in a temp data dir, with a clock the test sets. */
export function testContext(overrides: Partial<Record<keyof Config, unknown>> = {}) {
  const config = testConfig(overrides);
  const clock = manualClock();
  const ctx = createServerContext(config, { clock, log: silentLogger });
  const { store, staging } = ctx;
  afterAll(() => store.close());
  return { ...ctx, clock, ctx, app: createApp(ctx) };
}

export type TestApp = ReturnType<typeof testContext>["app"];

/** Calls the app in-process (no port), with JSON handling. */
export async function call(app: TestApp, method: string, path: string, init: { json?: unknown; body?: RequestInit["body"]; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...init.headers };
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  }
  const res = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }));
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, json, text, headers: res.headers };
}

/** Small but real images: real JPEG/PNG bytes from sharp. */
export async function makeJpeg(seed: number, width = 64, height = 48): Promise<Uint8Array> {
  const sharp = (await import("sharp")).default;
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 7 + seed * 31) & 255;
  return new Uint8Array(await sharp(pixels, { raw: { width, height, channels: 3 } }).jpeg().toBuffer());
}

/**
 * A models folder as `--models-dir` expects it, pointing at the real models in ../shared (links, not
 * copies): yolov8n-640, yolov8n-320, yolov8n-seg-320 and yolox-nano, each with the COCO class names.
 */
export function sharedModelsDir(): string {
  const dir = tempDir("vbatch-models-");
  const files: Record<string, string> = {
    "yolov8n-640": "yolov8n-640-int8.onnx",
    "yolov8n-320": "yolov8n-320-int8.onnx",
    "yolov8n-seg-320": "yolov8n-seg-320-int8.onnx",
    "yolox-nano": "yolox-nano-416.onnx",
  };
  const classes = readFileSync(shared("models/coco80.txt"), "utf8");
  for (const [id, file] of Object.entries(files)) {
    symlinkSync(shared(`models/${file}`), join(dir, `${id}.onnx`));
    writeFileSync(join(dir, `${id}.txt`), classes);
  }
  return dir;
}

/** Runs the real CLI (`bun src/main.ts …`) in a child process with a bare environment plus `env`. */
export async function runCli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), ...args], {
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { stdout, stderr, code };
}
