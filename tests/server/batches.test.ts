import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { TAR_END, tarHeader, tarPaddingSize, tarStream, TarReader } from "../../src/core/tar.ts";
import { call, makeJpeg, shared, testContext } from "../helpers.ts";

/** Builds a tar in memory from entries, any of which may be crafted (bad names, links). */
function tarOf(entries: { name: string; data?: Uint8Array; type?: "file" | "symlink" | "hardlink"; link?: string }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = e.data ?? new Uint8Array(0);
    parts.push(tarHeader(e.name, data.length, 0, e.type ?? "file", e.link ?? ""), data, new Uint8Array(tarPaddingSize(data.length)));
  }
  parts.push(TAR_END);
  return new Uint8Array(Buffer.concat(parts));
}

const TAR = { "content-type": "application/x-tar" };

async function setup(overrides: { apiKey?: string; maxImageMb?: number; maxMultipartMb?: number } = {}) {
  const t = testContext(overrides);
  const headers: Record<string, string> = overrides.apiKey ? { authorization: `Bearer ${overrides.apiKey}` } : {};
  const created = await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "b1", type: "images" }, headers });
  expect(created.status).toBe(201);
  return t;
}

/** Every file under the data dir, relative to it: proof of what was and was not written. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).filter((f) => statSync(join(dir, f)).isFile());
}

describe("batches API", () => {
  test("create, details, list, content, download, delete", async () => {
    const t = await setup();
    const jpg = await makeJpeg(1);
    const up = await call(t.app, "POST", "/api/v1/batches/b1/files?name=sub/one.jpg", { body: jpg });
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ name: "sub/one.jpg", status: "stored", sizeBytes: jpg.length });
    const form = new FormData();
    form.append("file", new File([await makeJpeg(2)], "two.jpg"));
    form.append("file", new File([readFileSync(shared("media/basketball1.png"))], "three.png"));
    const multi = await call(t.app, "POST", "/api/v1/batches/b1/files", { body: form });
    expect(multi.json).toMatchObject({ stored: 2, rejected: [] });

    const details = await call(t.app, "GET", "/api/v1/batches/b1");
    expect(details.json).toMatchObject({ batchId: "b1", type: "images", kind: "input", fileCount: 3, parts: [{ name: "default", fileCount: 3 }] });
    expect(new Date(details.json.expiresAt).getTime() - new Date(details.json.createdAt).getTime()).toBe(7 * 86_400_000);

    const list = await call(t.app, "GET", "/api/v1/batches");
    expect(list.json.batches.map((b: { batchId: string }) => b.batchId)).toEqual(["b1"]);

    const page1 = await call(t.app, "GET", "/api/v1/batches/b1/content?pageSize=2");
    expect(page1.json.files.map((f: { name: string }) => f.name)).toEqual(["sub/one.jpg", "three.png"]);
    const page2 = await call(t.app, "GET", `/api/v1/batches/b1/content?pageSize=2&pageToken=${page1.json.nextPageToken}`);
    expect(page2.json.files.map((f: { name: string }) => f.name)).toEqual(["two.jpg"]);
    expect(page2.json.nextPageToken).toBeUndefined();
    expect(page1.json.files[1].contentType).toBe("image/png");

    const dl = await t.app.handle(new Request("http://localhost/api/v1/batches/b1/file?name=sub/one.jpg"));
    expect(dl.status).toBe(200);
    expect(Buffer.from(await dl.arrayBuffer()).equals(Buffer.from(jpg))).toBe(true);

    const del = await call(t.app, "DELETE", "/api/v1/batches/b1");
    expect(del.status).toBe(200);
    expect((await call(t.app, "GET", "/api/v1/batches/b1")).status).toBe(404);
    expect(existsSync(t.staging.batchDir({ id: "b1", kind: "input" }))).toBe(false);
  });

  test("a part downloads as tar, tar.gz and zip with the same bytes", async () => {
    const t = await setup();
    const a = await makeJpeg(3);
    const b = await makeJpeg(4);
    await call(t.app, "POST", "/api/v1/batches/b1/files?name=a.jpg", { body: a });
    await call(t.app, "POST", "/api/v1/batches/b1/files?name=d/b.jpg", { body: b });
    for (const format of ["tar", "tar.gz"]) {
      const res = await t.app.handle(new Request(`http://localhost/api/v1/batches/b1/archive?format=${format}`));
      expect(res.status).toBe(200);
      let body = res.body!;
      if (format === "tar.gz") body = body.pipeThrough(new DecompressionStream("gzip"));
      const got: Record<string, Uint8Array[]> = {};
      const reader = new TarReader((h) => ((got[h.name] = []), { write: (c) => got[h.name]!.push(c.slice()), end() {}, abort() {} }));
      for await (const c of body) reader.push(c);
      reader.finish();
      expect(Buffer.concat(got["a.jpg"]!).equals(Buffer.from(a))).toBe(true);
      expect(Buffer.concat(got["d/b.jpg"]!).equals(Buffer.from(b))).toBe(true);
    }
    const zip = await t.app.handle(new Request("http://localhost/api/v1/batches/b1/archive?format=zip"));
    const { unzipSync } = await import("fflate");
    const unzipped = unzipSync(new Uint8Array(await zip.arrayBuffer()));
    expect(Buffer.from(unzipped["d/b.jpg"]!).equals(Buffer.from(b))).toBe(true);
    const named = await t.app.handle(new Request("http://localhost/api/v1/batches/b1/archive", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ names: ["nope.jpg"] }) }));
    expect(named.status).toBe(404);
  });

  test("tar upload stores regular files and refuses traversal, absolute paths, NUL and links", async () => {
    const t = await setup();
    const ok = await makeJpeg(5);
    const tar = tarOf([
      { name: "good.jpg", data: ok },
      { name: "../escape.jpg", data: ok },
      { name: "a/../../escape2.jpg", data: ok },
      { name: "/etc/abs.jpg", data: ok },
      { name: "nul\u0000.jpg", data: ok },
      { name: "link.jpg", type: "symlink", link: "/etc/passwd" },
      { name: "hard.jpg", type: "hardlink", link: "good.jpg" },
      { name: "./also-good.jpg", data: ok },
    ]);
    const res = await call(t.app, "POST", "/api/v1/batches/b1/files", { body: tar, headers: TAR });
    expect(res.status).toBe(200);
    expect(res.json.stored).toBe(2);
    const codes = Object.fromEntries(res.json.rejected.map((r: { name: string; code: string }) => [r.name, r.code]));
    expect(codes).toEqual({
      "../escape.jpg": "INVALID_FILE_NAME",
      "a/../../escape2.jpg": "INVALID_FILE_NAME",
      "/etc/abs.jpg": "INVALID_FILE_NAME",
      "nul\u0000.jpg": "INVALID_FILE_NAME",
      "link.jpg": "UNSUPPORTED_ENTRY",
      "hard.jpg": "UNSUPPORTED_ENTRY",
    });
    // Nothing was written anywhere but the batch's own part, and no temp file is left.
    expect(filesUnder(t.staging.root).filter((f) => f !== "vbatch.db" && !f.startsWith("vbatch.db-")).sort()).toEqual([
      "staging/b1/default/also-good.jpg",
      "staging/b1/default/good.jpg",
    ]);
  });

  test("content decides: a non-image is refused by name whatever its extension; a PNG named .dat is an image", async () => {
    const t = await setup();
    const fake = await call(t.app, "POST", "/api/v1/batches/b1/files?name=photo.jpg", { body: new TextEncoder().encode("just some text, not a JPEG") });
    expect(fake.status).toBe(415);
    expect(fake.json.error.code).toBe("UNSUPPORTED_CONTENT");
    expect(fake.json.error.message).toContain("'photo.jpg'");
    const png = await call(t.app, "POST", "/api/v1/batches/b1/files?name=weird.dat", { body: readFileSync(shared("media/basketball1.png")) });
    expect(png.json.status).toBe("stored");
    const video = await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "v1", type: "videos" } });
    expect(video.status).toBe(201);
    const vid = await call(t.app, "POST", "/api/v1/batches/v1/files?name=clip.avi", { body: readFileSync(shared("media/vtest.avi")) });
    expect(vid.json).toMatchObject({ status: "stored" });
    const imgInVideo = await call(t.app, "POST", "/api/v1/batches/v1/files?name=x.mp4", { body: await makeJpeg(1) });
    expect(imgInVideo.json.error).toMatchObject({ code: "UNSUPPORTED_CONTENT", details: { detected: "image/jpeg" } });
  });

  test("zero-byte and oversized files are refused (limit configurable)", async () => {
    const t = await setup({ maxImageMb: 0.01 });
    const empty = await call(t.app, "POST", "/api/v1/batches/b1/files?name=empty.jpg", { body: new Uint8Array(0) });
    expect(empty.json.error.code).toBe("EMPTY_FILE");
    const big = new Uint8Array(20_000);
    big.set(await makeJpeg(1));
    const over = await call(t.app, "POST", "/api/v1/batches/b1/files?name=big.jpg", { body: big });
    expect(over.status).toBe(413);
    expect(over.json.error).toMatchObject({ code: "FILE_TOO_LARGE", details: { name: "big.jpg", limitBytes: 10485 } });
    const inTar = await call(t.app, "POST", "/api/v1/batches/b1/files", { body: tarOf([{ name: "big.jpg", data: big }, { name: "e.jpg" }]), headers: TAR });
    expect(inTar.json.rejected.map((r: { code: string }) => r.code)).toEqual(["FILE_TOO_LARGE", "EMPTY_FILE"]);
    expect(readdirSync(t.staging.tmpDir)).toEqual([]);
  });

  test("a truncated tar keeps the complete files and drops the partial one", async () => {
    const t = await setup();
    const imgs = await Promise.all([1, 2, 3].map((i) => makeJpeg(i, 200, 150)));
    const tar = tarOf(imgs.map((d, i) => ({ name: `f${i}.jpg`, data: d })));
    const cut = 512 + imgs[0]!.length + tarPaddingSize(imgs[0]!.length) + 512 + imgs[1]!.length + tarPaddingSize(imgs[1]!.length) + 512 + 300;
    const res = await call(t.app, "POST", "/api/v1/batches/b1/files", { body: tar.subarray(0, cut), headers: TAR });
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: "TRUNCATED_ARCHIVE", details: { name: "f2.jpg", stored: 2 } });
    const content = await call(t.app, "GET", "/api/v1/batches/b1/content");
    expect(content.json.files.map((f: { name: string }) => f.name)).toEqual(["f0.jpg", "f1.jpg"]);
    expect(existsSync(join(t.staging.batchDir({ id: "b1", kind: "input" }), "default/f2.jpg"))).toBe(false);
    expect(readdirSync(t.staging.tmpDir)).toEqual([]);
  });

  test("duplicate names: same content is unchanged, different content is refused unless overwrite", async () => {
    const t = await setup();
    const a = await makeJpeg(1);
    const b = await makeJpeg(2);
    await call(t.app, "POST", "/api/v1/batches/b1/files?name=x.jpg", { body: a });
    const same = await call(t.app, "POST", "/api/v1/batches/b1/files?name=x.jpg", { body: a });
    expect(same.json.status).toBe("unchanged");
    const diff = await call(t.app, "POST", "/api/v1/batches/b1/files?name=x.jpg", { body: b });
    expect(diff.status).toBe(409);
    expect(diff.json.error.code).toBe("DUPLICATE_FILE");
    const replaced = await call(t.app, "POST", "/api/v1/batches/b1/files?name=x.jpg&overwrite=true", { body: b });
    expect(replaced.json.status).toBe("replaced");
    const details = await call(t.app, "GET", "/api/v1/batches/b1");
    expect(details.json).toMatchObject({ fileCount: 1, totalBytes: b.length });
    const twiceInTar = await call(t.app, "POST", "/api/v1/batches/b1/files", { body: tarOf([{ name: "y.jpg", data: a }, { name: "y.jpg", data: b }]), headers: TAR });
    expect(twiceInTar.json).toMatchObject({ stored: 1, rejected: [{ name: "y.jpg", code: "DUPLICATE_FILE" }] });
  });

  test("bad ids, bad names, bad bodies and unknown routes answer JSON errors", async () => {
    const t = await setup({ maxMultipartMb: 1 });
    for (const id of ["UPPER", "has space", "x".repeat(65), "dot.dot", ""]) {
      const res = await call(t.app, "POST", "/api/v1/batches", { json: { batchId: id, type: "images" } });
      expect(res.status).toBe(400);
      expect(res.json.error.code).toBe("INVALID_BATCH_ID");
    }
    expect((await call(t.app, "GET", "/api/v1/batches/Bad%20Id")).json.error.code).toBe("INVALID_BATCH_ID");
    expect((await call(t.app, "GET", "/api/v1/batches/missing")).json.error.code).toBe("BATCH_NOT_FOUND");
    expect((await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "b1", type: "images" } })).status).toBe(409);
    expect((await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "b2", type: "audio" } })).json.error.code).toBe("VALIDATION_FAILED");
    expect((await call(t.app, "POST", "/api/v1/batches/b1/files?name=..%2Fx.jpg", { body: await makeJpeg(1) })).json.error.code).toBe("INVALID_FILE_NAME");
    expect((await call(t.app, "GET", "/api/v1/batches/b1/file?name=..%2F..%2Fvbatch.db")).json.error.code).toBe("INVALID_FILE_NAME");
    expect((await call(t.app, "POST", "/api/v1/batches/b1/files", { body: new Uint8Array(1024).fill(7), headers: TAR })).json.error.code).toBe("INVALID_ARCHIVE");
    const streamedForm = new Request("http://localhost/api/v1/batches/b1/files", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=x" },
      body: new Blob([new Uint8Array(2 << 20)]).stream(),
      duplex: "half",
    } as RequestInit);
    expect((await t.app.handle(streamedForm)).status).toBe(413);
    const unknown = await call(t.app, "GET", "/api/v1/nothing-here");
    expect(unknown.status).toBe(404);
    expect(unknown.json.error.code).toBe("NOT_FOUND");
    expect((await call(t.app, "GET", "/api/v1/batches?pageSize=0")).json.error.code).toBe("VALIDATION_FAILED");
  });

  test("with an API key, every route but /healthz and the UI needs it; errors reveal no data", async () => {
    const t = await setup({ apiKey: "s3cret" });
    for (const path of ["/api/v1/batches", "/api/v1/batches/b1", "/api/v1/batches/b1/content", "/api/v1/openapi.json", "/api/v1/nothing"]) {
      const none = await call(t.app, "GET", path);
      expect(none.status).toBe(401);
      expect(none.json.error.code).toBe("UNAUTHORIZED");
      expect(none.text).not.toContain("b1");
      expect((await call(t.app, "GET", path, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    }
    expect((await call(t.app, "GET", "/api/v1/batches", { headers: { authorization: "Bearer s3cret" } })).status).toBe(200);
    expect((await call(t.app, "GET", "/api/v1/batches?api_key=s3cret")).status).toBe(200);
    expect((await call(t.app, "GET", "/healthz")).json.status).toBe("ok");
    expect((await call(t.app, "GET", "/")).status).toBe(200);
    expect((await call(t.app, "GET", "/docs")).status).toBe(200);
  });

  test("the OpenAPI document describes the batch routes", async () => {
    const t = await setup();
    const doc = (await call(t.app, "GET", "/api/v1/openapi.json")).json as any;
    expect(doc.openapi).toMatch(/^3\./);
    for (const p of ["/api/v1/batches", "/api/v1/batches/{batchId}", "/api/v1/batches/{batchId}/files", "/api/v1/batches/{batchId}/content", "/api/v1/batches/{batchId}/archive"])
      expect(Object.keys(doc.paths)).toContain(p);
    expect(doc.paths["/api/v1/batches/{batchId}/files"].post.requestBody.content).toHaveProperty("application/x-tar");
  });

  test("uploads stream: a 30 MB tar goes through without buffering the body", async () => {
    const t = await setup({ maxImageMb: 40 });
    const big = new Uint8Array(30 << 20);
    big.set(await makeJpeg(9));
    const body = tarStream([{ name: "big.jpg", size: big.length, body: () => new Blob([big]).stream() }]);
    const res = await t.app.handle(new Request("http://localhost/api/v1/batches/b1/files", { method: "POST", headers: TAR, body, duplex: "half" } as RequestInit));
    expect(((await res.json()) as { stored: number }).stored).toBe(1);
  });
});
