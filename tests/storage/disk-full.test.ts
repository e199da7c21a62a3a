import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { call, makeJpeg, tempDir, testContext } from "../helpers.ts";

/** A real full disk: the data dir on a 2 MiB tmpfs (needs root, as on the CI machines). */
function smallDisk(): string | undefined {
  const dir = tempDir("vbatch-full-");
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", dir]);
  return r.status === 0 ? dir : undefined;
}

const dir = smallDisk();

describe("disk full", () => {
  test.skipIf(!dir)("an upload that fills the disk fails with DISK_FULL, leaves no partial file, and the store keeps working", async () => {
    const t = testContext({ dataDir: dir, maxImageMb: 100 });
    try {
      await call(t.app, "POST", "/api/v1/batches", { json: { batchId: "full", type: "images" } });
      const big = new Uint8Array(4 << 20);
      big.set(await makeJpeg(1));
      const res = await call(t.app, "POST", "/api/v1/batches/full/files?name=big.jpg", { body: big });
      expect(res.status).toBe(507);
      expect(res.json.error.code).toBe("DISK_FULL");
      expect(readdirSync(t.staging.tmpDir)).toEqual([]);
      const small = await call(t.app, "POST", "/api/v1/batches/full/files?name=small.jpg", { body: await makeJpeg(2) });
      expect(small.json.status).toBe("stored");
      expect((await call(t.app, "GET", "/api/v1/batches/full")).json.fileCount).toBe(1);
    } finally {
      t.store.close();
      spawnSync("umount", ["-l", dir!]);
    }
  });
});
