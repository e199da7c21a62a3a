import { describe, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { sweep } from "../../src/scheduler/sweeper.ts";
import { BatchService } from "../../src/server/batches/service.ts";
import { makeJpeg, testContext } from "../helpers.ts";

const DAY = 86_400_000;

describe("sweeper", () => {
  test("deletes batches past their expiry with files and rows, keeps the others", async () => {
    const t = testContext({ retentionDays: 7 });
    const service = new BatchService(t.ctx);
    service.create({ batchId: "old", type: "images" });
    await service.uploadOne("old", "a.jpg", await makeJpeg(1));
    t.clock.advance(3 * DAY);
    service.create({ batchId: "young", type: "images" });
    await service.uploadOne("young", "b.jpg", await makeJpeg(2));
    const oldDir = t.staging.batchDir({ id: "old", kind: "input" });
    expect(existsSync(join(oldDir, "default/a.jpg"))).toBe(true);

    expect(sweep(t.ctx, t.clock.now() + 3 * DAY).expiredBatches).toEqual([]);
    const report = sweep(t.ctx, t.clock.now() + 4 * DAY);
    expect(report.expiredBatches).toEqual(["old"]);
    expect(t.store.getBatch("old")).toBeUndefined();
    expect(t.store.listBatchFiles("old", { pageSize: 10 }).items).toEqual([]);
    expect(existsSync(oldDir)).toBe(false);
    expect(t.store.getBatch("young")).toBeDefined();
    expect(sweep(t.ctx, t.clock.now() + 7 * DAY).expiredBatches).toEqual(["young"]);
  });

  test("removes batch folders that have no row (a delete cut short)", () => {
    const t = testContext();
    const orphan = t.staging.batchDir({ id: "ghost", kind: "input" });
    mkdirSync(join(orphan, "default"), { recursive: true });
    expect(sweep(t.ctx, t.clock.now()).orphanDirs).toEqual(["ghost"]);
    expect(existsSync(orphan)).toBe(false);
  });
});
