import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TarReader, tarHeader, tarStream, type TarEntryHeader } from "../../src/core/tar.ts";
import { tempDir } from "../helpers.ts";

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** Parses a whole tar in chunks of `chunk` bytes; returns the entries with their bytes. */
function parse(tar: Uint8Array, chunk = 7) {
  const entries: { header: TarEntryHeader; data: Uint8Array; ended: boolean }[] = [];
  const reader = new TarReader((header) => {
    const e = { header, parts: [] as Uint8Array[], ended: false };
    entries.push(e as never);
    return {
      write: (c) => e.parts.push(c.slice()),
      end: () => {
        e.ended = true;
        (e as never as { data: Uint8Array }).data = Buffer.concat(e.parts);
      },
      abort: () => {},
    };
  });
  for (let i = 0; i < tar.length; i += chunk) reader.push(tar.subarray(i, i + chunk));
  reader.finish();
  return entries;
}

describe("tar", () => {
  test("round-trips names (long, unicode), sizes and bytes whatever the chunking", async () => {
    const long = "deep/" + "x".repeat(150) + "/file.jpg";
    const files = [
      { name: "a.jpg", data: new Uint8Array([1, 2, 3]) },
      { name: long, data: new Uint8Array(1000).fill(9) },
      { name: "ünïcödé/名前.png", data: new Uint8Array(512).fill(4) },
    ];
    const tar = await collect(tarStream(files.map((f) => ({ name: f.name, size: f.data.length, body: () => f.data }))));
    for (const chunk of [1, 7, 512, 100000]) {
      const out = parse(tar, chunk);
      expect(out.map((e) => e.header.name)).toEqual(files.map((f) => f.name));
      out.forEach((e, i) => expect(Buffer.from(e.data).equals(Buffer.from(files[i]!.data))).toBe(true));
    }
  });

  test("reads archives written by GNU tar, with symlinks reported as such", () => {
    const dir = tempDir();
    mkdirSync(join(dir, "src/sub"), { recursive: true });
    writeFileSync(join(dir, "src/sub/one.bin"), "hello");
    writeFileSync(join(dir, "src/" + "n".repeat(120) + ".bin"), "long name");
    symlinkSync("/etc/passwd", join(dir, "src/link"));
    const r = spawnSync("tar", ["-cf", join(dir, "t.tar"), "-C", join(dir, "src"), "."]);
    expect(r.status).toBe(0);
    const seen: TarEntryHeader[] = [];
    const reader = new TarReader((h) => {
      seen.push(h);
      return undefined;
    });
    reader.push(readFileSync(join(dir, "t.tar")));
    reader.finish();
    const byName = Object.fromEntries(seen.map((h) => [h.name, h]));
    expect(byName["sub/one.bin"]!.type).toBe("file");
    expect(byName["n".repeat(120) + ".bin"]!.size).toBe(9);
    expect(byName["link"]!.type).toBe("symlink");
    expect(byName["link"]!.linkName).toBe("/etc/passwd");
  });

  test("our tar streams are read by GNU tar", async () => {
    const dir = tempDir();
    const tar = await collect(tarStream([{ name: "x/" + "y".repeat(130) + ".txt", size: 5, body: () => new TextEncoder().encode("hello") }]));
    writeFileSync(join(dir, "o.tar"), tar);
    const r = spawnSync("tar", ["-xf", "o.tar"], { cwd: dir });
    expect(r.status).toBe(0);
    expect(readFileSync(join(dir, "x/" + "y".repeat(130) + ".txt"), "utf8")).toBe("hello");
  });

  test("a stream cut inside a file keeps earlier entries and names the partial one", async () => {
    const files = [1, 2, 3].map((i) => ({ name: `f${i}.bin`, data: new Uint8Array(2000).fill(i) }));
    const tar = await collect(tarStream(files.map((f) => ({ name: f.name, size: f.data.length, body: () => f.data }))));
    const ended: string[] = [];
    const aborted: string[] = [];
    const reader = new TarReader((h) => ({ write: () => {}, end: () => ended.push(h.name), abort: () => aborted.push(h.name) }));
    reader.push(tar.subarray(0, 2 * (512 + 2048) + 512 + 100));
    expect(() => reader.finish()).toThrow("ended inside 'f3.bin'");
    expect(ended).toEqual(["f1.bin", "f2.bin"]);
    expect(aborted).toEqual(["f3.bin"]);
  });

  test("garbage is refused as an invalid tar stream", () => {
    const reader = new TarReader(() => undefined);
    expect(() => reader.push(new Uint8Array(1024).fill(65))).toThrow("checksum");
  });

  test("a header for a big file uses pax for the size", () => {
    const h = tarHeader("big.bin", 10 * 1024 ** 3);
    expect(h.length).toBe(3 * 512);
    expect(new TextDecoder().decode(h.subarray(512, 600))).toContain("size=10737418240");
  });
});
