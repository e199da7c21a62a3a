import { afterAll, describe, expect, test } from "bun:test";
import { call, makeJpeg, testContext } from "../helpers.ts";

describe("references: files the server fetches by URL", () => {
  test("fetches, follows redirects within the limit, and refuses what breaks a limit, each with its cause", async () => {
    const jpg = await makeJpeg(7);
    const origin = Bun.serve({
      port: 0,
      async fetch(req) {
        const path = new URL(req.url).pathname;
        if (path === "/img.jpg") return new Response(jpg);
        if (path === "/hop1") return Response.redirect("/hop2", 302);
        if (path === "/hop2") return Response.redirect("/img.jpg", 301);
        if (path === "/loop") return Response.redirect("/loop", 302);
        if (path === "/big") return new Response(new Uint8Array(50_000).fill(0xff));
        if (path === "/stream-big")
          return new Response(
            new ReadableStream({
              start(c) {
                c.enqueue(jpg);
                for (let i = 0; i < 10; i++) c.enqueue(new Uint8Array(5_000));
                c.close();
              },
            }),
          );
        if (path === "/slow") {
          await Bun.sleep(1500);
          return new Response(jpg);
        }
        if (path === "/text") return new Response("hello");
        if (path === "/ftp") return Response.redirect("ftp://example.invalid/x", 302);
        return new Response("no", { status: 404 });
      },
    });
    afterAll(() => origin.stop(true));
    const t = testContext({ referenceTimeoutS: 0.5, referenceMaxRedirects: 3, maxImageMb: 0.03 });
    await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "refs", type: "images" } });
    const u = (p: string) => `http://127.0.0.1:${origin.port}${p}`;
    const res = await call(t.app, "POST", "/api/v1/batches/refs/references", {
      json: {
        references: [
          { name: "direct.jpg", url: u("/img.jpg") },
          { name: "redirected.jpg", url: u("/hop1") },
          { name: "loop.jpg", url: u("/loop") },
          { name: "big.jpg", url: u("/big") },
          { name: "stream-big.jpg", url: u("/stream-big") },
          { name: "slow.jpg", url: u("/slow") },
          { name: "text.jpg", url: u("/text") },
          { name: "missing.jpg", url: u("/missing") },
          { name: "ftp.jpg", url: u("/ftp") },
          { name: "../evil.jpg", url: u("/img.jpg") },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.json.stored).toBe(2);
    const codes = Object.fromEntries(res.json.rejected.map((r: { name: string; code: string }) => [r.name, r.code]));
    expect(codes).toEqual({
      "loop.jpg": "TOO_MANY_REDIRECTS",
      "big.jpg": "FILE_TOO_LARGE",
      "stream-big.jpg": "FILE_TOO_LARGE",
      "slow.jpg": "REFERENCE_TIMEOUT",
      "text.jpg": "UNSUPPORTED_CONTENT",
      "missing.jpg": "REFERENCE_FETCH_FAILED",
      "ftp.jpg": "INVALID_REFERENCE",
      "../evil.jpg": "INVALID_FILE_NAME",
    });
    const dl = await t.app.handle(new Request("http://localhost/api/v1/batches/refs/file?name=redirected.jpg"));
    expect(Buffer.from(await dl.arrayBuffer()).equals(Buffer.from(jpg))).toBe(true);
    expect(require("node:fs").readdirSync(t.staging.tmpDir)).toEqual([]);
  });
});
