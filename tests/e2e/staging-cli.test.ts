import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { writeJpegCorpus } from "../../scripts/lib/jpeg-corpus.ts";
import { resolveConfig } from "../../src/core/config.ts";
import { silentLogger } from "../../src/core/log.ts";
import { tarStream } from "../../src/core/tar.ts";
import { startServer, type RunningServer } from "../../src/server/main.ts";
import { BatchWriter } from "../../src/storage/batch-writer.ts";
import { ROOT, shared, tempDir, runCli } from "../helpers.ts";

const KEY = "e2e-key";
let server: RunningServer;

beforeAll(async () => {
  server = await startServer(resolveConfig({ flags: { port: 0, dataDir: tempDir(), apiKey: KEY }, env: {} }), { log: silentLogger, workers: 0 });
});
afterAll(() => server.stop());

/** The real CLI against this file's server. */
const vbatch = (args: string[], env: Record<string, string> = {}) => runCli(args, { VBATCH_API_URL: server.url, VBATCH_API_KEY: KEY, ...env });

function photosDir(): string {
  const dir = tempDir();
  for (const f of ["messi5.jpg", "basketball1.png", "fruits.jpg", "imageTextN.png"]) cpSync(shared(`media/${f}`), join(dir, f));
  mkdirSync(join(dir, "nested"));
  cpSync(shared("media/messi5.jpg"), join(dir, "nested/again.jpg"));
  writeFileSync(join(dir, "notes.txt"), "not an image, and not sent");
  return dir;
}

describe("data staging through the CLI against a real server", () => {
  test("stage real photos, show, list, export byte-identical; the rf-cloud alias works the same", async () => {
    const photos = photosDir();
    const created = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", photos, "--batch-id", "photos", "--recursive"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    expect(created.stdout).toContain("5 uploaded");

    const details = await vbatch(["rf-cloud", "data-staging", "show-batch-details", "--batch-id", "photos", "--json"]);
    expect(JSON.parse(details.stdout)).toMatchObject({ batchId: "photos", type: "images", fileCount: 5 });
    const table = await vbatch(["data-staging", "show-batch-details", "--batch-id", "photos"]);
    expect(table.stdout).toMatch(/Files\s+5/);

    const content = JSON.parse((await vbatch(["data-staging", "list-batch-content", "--batch-id", "photos", "--json"])).stdout);
    expect(content.map((f: { name: string }) => f.name)).toEqual(["basketball1.png", "fruits.jpg", "imageTextN.png", "messi5.jpg", "nested/again.jpg"]);
    const limited = JSON.parse((await vbatch(["data-staging", "list-batch-content", "--batch-id", "photos", "--limit", "2", "--json"])).stdout);
    expect(limited.length).toBe(2);

    const listed = JSON.parse((await vbatch(["data-staging", "list-batches", "--json"])).stdout);
    expect(listed.map((b: { batchId: string }) => b.batchId)).toContain("photos");

    const out = tempDir();
    const exported = await vbatch(["data-staging", "export-batch", "--batch-id", "photos", "--target-dir", out]);
    expect(exported.code).toBe(0);
    for (const f of content) expect(readFileSync(join(out, f.name)).equals(readFileSync(join(photos, f.name)))).toBe(true);

    // Resumable export: only what is missing is fetched again.
    rmSync(join(out, "fruits.jpg"));
    rmSync(join(out, "nested/again.jpg"));
    const again = JSON.parse((await vbatch(["data-staging", "export-batch", "--batch-id", "photos", "--target-dir", out, "--json"])).stdout);
    expect(again).toMatchObject({ downloaded: 2, skipped: 3 });
    expect(readFileSync(join(out, "fruits.jpg")).equals(readFileSync(join(photos, "fruits.jpg")))).toBe(true);

    const deleted = await vbatch(["data-staging", "delete-batch", "--batch-id", "photos"]);
    expect(deleted.code).toBe(0);
    expect((await vbatch(["data-staging", "show-batch-details", "--batch-id", "photos"])).stderr).toContain("Command failed: Batch 'photos' was not found");
  });

  test("an interrupted upload resumes: the re-run sends only what is missing", async () => {
    const dir = tempDir();
    const names = await writeJpegCorpus(dir, 3000, 8_000);
    const proc = Bun.spawn(["bun", join(ROOT, "src/main.ts"), "data-staging", "create-batch-of-images", "--images-dir", dir, "--batch-id", "resume"], {
      env: { PATH: process.env.PATH!, VBATCH_API_URL: server.url, VBATCH_API_KEY: KEY },
      stdout: "ignore",
      stderr: "ignore",
    });
    // Kill the CLI (SIGKILL, no clean-up) as soon as the server has stored some of the files.
    let atKill = 0;
    for (let i = 0; i < 3000 && atKill === 0; i++) {
      atKill = server.ctx.store.getBatch("resume")?.fileCount ?? 0;
      if (atKill === 0) await Bun.sleep(2);
    }
    proc.kill(9);
    await proc.exited;
    await Bun.sleep(100);
    const kept = server.ctx.store.getBatch("resume")!.fileCount;
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(names.length);

    const rerun = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", dir, "--batch-id", "resume", "--json"]);
    expect(rerun.code).toBe(0);
    const report = JSON.parse(rerun.stdout);
    expect(report.alreadyPresent).toBe(kept);
    expect(report.uploaded).toBe(names.length - kept);
    expect(server.ctx.store.getBatch("resume")!.fileCount).toBe(names.length);
    expect(readdirSync(server.ctx.staging.tmpDir)).toEqual([]);
    const sample = names[names.length - 1]!;
    const stored = readFileSync(server.ctx.staging.filePath({ id: "resume", kind: "input" }, "default", sample));
    expect(stored.equals(readFileSync(join(dir, sample)))).toBe(true);
  });

  test("export of an output batch unpacks its archives into a folder per part, once", async () => {
    const now = Date.now();
    const batch = server.ctx.store.createBatch({ id: "job1-export", name: "job1-export", type: "images", kind: "output", createdAtMs: now, expiresAtMs: now + 86_400_000 });
    const results = new TextEncoder().encode('{"image":"a.jpg"}\n');
    const tar = new Uint8Array(await new Response(tarStream([{ name: "labels/a.txt", size: 12, body: () => new TextEncoder().encode("0 .5 .5 1 1\n") }, { name: "results.jsonl", size: results.length, body: () => results }])).arrayBuffer());
    const writer = new BatchWriter(server.ctx, batch, { part: "archive", overwrite: false, maxBytes: 1 << 30, expect: undefined, contentType: "application/gzip" });
    const f = writer.begin("results-000.tar.gz");
    f.write(gzipSync(tar));
    f.end();
    const manifest = writer.begin("manifest.json");
    manifest.write(new TextEncoder().encode('{"job":"job1"}'));
    manifest.end();
    writer.flush();
    // A second part: an output batch of several parts is exported with a folder per part.
    const notes = new BatchWriter(server.ctx, batch, { part: "notes", overwrite: false, maxBytes: 1 << 20, expect: undefined, contentType: "text/plain" });
    const note = notes.begin("readme.txt");
    note.write(new TextEncoder().encode("hello"));
    note.end();
    notes.flush();

    const out = tempDir();
    const first = JSON.parse((await vbatch(["data-staging", "export-batch", "--batch-id", "job1-export", "--target-dir", out, "--json"])).stdout);
    expect(first).toMatchObject({ archivesUnpacked: 1, downloaded: 2 });
    expect(readFileSync(join(out, "archive/labels/a.txt"), "utf8")).toBe("0 .5 .5 1 1\n");
    expect(readFileSync(join(out, "archive/results.jsonl"), "utf8")).toBe('{"image":"a.jpg"}\n');
    expect(existsSync(join(out, "archive/manifest.json"))).toBe(true);
    expect(readFileSync(join(out, "notes/readme.txt"), "utf8")).toBe("hello");
    const second = JSON.parse((await vbatch(["data-staging", "export-batch", "--batch-id", "job1-export", "--target-dir", out, "--json"])).stdout);
    expect(second).toMatchObject({ archivesUnpacked: 0, downloaded: 0, skipped: 3 });
  });

  test("--references: the server fetches the listed URLs; a re-run fetches only what is missing; bad lines are named", async () => {
    const photo = readFileSync(shared("media/fruits.jpg"));
    let hits = 0;
    const origin = Bun.serve({
      port: 0,
      fetch: (req) => {
        hits++;
        return new URL(req.url).pathname === "/gone" ? new Response("gone", { status: 410 }) : new Response(photo);
      },
    });
    try {
      const dir = tempDir();
      const list = join(dir, "refs.jsonl");
      const base = `http://127.0.0.1:${origin.port}`;
      writeFileSync(list, [`{"name":"a.jpg","url":"${base}/a"}`, `{"name":"sub/b.jpg","url":"${base}/b"}`, ""].join("\n"));
      const first = await vbatch(["data-staging", "create-batch-of-images", "--batch-id", "refs", "--references", list, "--json"]);
      expect(first.code).toBe(0);
      expect(JSON.parse(first.stdout)).toMatchObject({ uploaded: 2, rejected: [] });
      writeFileSync(list, [`{"name":"a.jpg","url":"${base}/a"}`, `{"name":"sub/b.jpg","url":"${base}/b"}`, `{"name":"c.jpg","url":"${base}/gone"}`].join("\n"));
      hits = 0;
      const second = await vbatch(["data-staging", "create-batch-of-images", "--batch-id", "refs", "--references", list]);
      expect(second.code).toBe(1);
      expect(second.stdout).toContain("2 already present, 1 rejected");
      expect(second.stdout).toContain("answered HTTP 410");
      expect(hits).toBe(1);
      writeFileSync(list, `{"name":"a.jpg","url":"${base}/a"}\n{"name":"x.jpg"}\n`);
      const bad = await vbatch(["data-staging", "create-batch-of-images", "--batch-id", "refs", "--references", list]);
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain(`${list}:2: field "url" must be an http(s) URL`);
    } finally {
      origin.stop(true);
    }
  });

  test("exit codes: 1 with 'Command failed' for a refused key or a bad batch id, 2 for usage errors", async () => {
    const wrongKey = await vbatch(["data-staging", "list-batches"], { VBATCH_API_KEY: "nope" });
    expect(wrongKey.code).toBe(1);
    expect(wrongKey.stderr).toBe("Command failed: The API key is wrong\n");
    const badId = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", photosDir(), "--batch-id", "Bad Id"]);
    expect(badId.code).toBe(1);
    expect(badId.stderr).toContain("Invalid batchId");
    expect((await vbatch(["data-staging", "show-batch-details"])).code).toBe(2);
    expect((await vbatch(["data-staging", "no-such-thing"])).code).toBe(2);
    expect((await vbatch(["data-staging", "list-batches", "--bogus-flag"])).code).toBe(2);
    const down = await vbatch(["data-staging", "list-batches"], { VBATCH_API_URL: "http://127.0.0.1:9" });
    expect(down.code).toBe(1);
    expect(down.stderr).toContain("Cannot reach the vbatch server at http://127.0.0.1:9");
  });

  test("files the server refuses are named, and the command fails", async () => {
    const dir = tempDir();
    cpSync(shared("media/messi5.jpg"), join(dir, "ok.jpg"));
    writeFileSync(join(dir, "fake.jpg"), "this is text wearing a .jpg name");
    writeFileSync(join(dir, "empty.png"), "");
    const res = await vbatch(["data-staging", "create-batch-of-images", "--images-dir", dir, "--batch-id", "mixed"]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain("1 uploaded");
    expect(res.stdout).toContain("rejected fake.jpg: File 'fake.jpg' is not an image");
    expect(res.stdout).toContain("rejected empty.png: File 'empty.png' is empty");
  });
});
