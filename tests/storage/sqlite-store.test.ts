import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { MIGRATIONS } from "../../src/storage/migrations/index.ts";
import { applyMigrations, SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import type { BatchFileRecord } from "../../src/storage/store.ts";
import { ROOT, tempDir } from "../helpers.ts";

const newBatch = (id: string, createdAtMs = 1000) => ({ id, name: id, type: "images" as const, kind: "input" as const, createdAtMs, expiresAtMs: createdAtMs + 10 });
const file = (batchId: string, name: string, sizeBytes = 10, part = "default"): BatchFileRecord => ({
  batchId, part, name, sizeBytes, sha256: "0".repeat(64), contentType: "image/jpeg", createdAtMs: 1,
});

describe("SqliteStore", () => {
  test("every migration file is listed, numbered in order, and applied once", () => {
    const files = readdirSync(join(ROOT, "src/storage/migrations")).filter((f) => f.endsWith(".sql")).sort();
    expect(MIGRATIONS.map((m) => `${m.name}.sql`)).toEqual(files);
    MIGRATIONS.forEach((m, i) => expect(m.version).toBe(i + 1));
    const db = new Database(join(tempDir(), "m.db"));
    expect(applyMigrations(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(applyMigrations(db)).toEqual([]);
  });

  test("opens in WAL mode and survives reopening", () => {
    const path = join(tempDir(), "v.db");
    const s = new SqliteStore(path);
    expect(s.db.query<{ journal_mode: string }, []>("PRAGMA journal_mode").get()!.journal_mode).toBe("wal");
    s.createBatch(newBatch("b1"));
    s.putBatchFiles([file("b1", "a.jpg", 5)]);
    s.close();
    const again = new SqliteStore(path);
    expect(again.getBatch("b1")).toMatchObject({ fileCount: 1, totalBytes: 5 });
    again.close();
  });

  test("counters follow inserts and replacements; duplicate batch ids are refused", () => {
    const s = new SqliteStore(join(tempDir(), "c.db"));
    s.createBatch(newBatch("b1"));
    expect(() => s.createBatch(newBatch("b1"))).toThrow("already exists");
    s.putBatchFiles([file("b1", "a.jpg", 5), file("b1", "b.jpg", 7)]);
    s.putBatchFiles([file("b1", "a.jpg", 50)]);
    expect(s.getBatch("b1")).toMatchObject({ fileCount: 2, totalBytes: 57 });
    expect(s.listParts("b1")).toMatchObject([{ name: "default", fileCount: 2, totalBytes: 57 }]);
    expect(s.deleteBatch("b1")).toBe(true);
    expect(s.getBatch("b1")).toBeUndefined();
    expect(s.listBatchFiles("b1", { pageSize: 10 }).items).toEqual([]);
    s.close();
  });

  test("pages through files and batches with stable cursors", () => {
    const s = new SqliteStore(join(tempDir(), "p.db"));
    s.createBatch(newBatch("b1"));
    s.putBatchFiles(Array.from({ length: 25 }, (_, i) => file("b1", `f${String(i).padStart(2, "0")}.jpg`)));
    s.putBatchFiles([file("b1", "r.json", 1, "results")]);
    const names: string[] = [];
    let cursor: string | undefined;
    do {
      const p = s.listBatchFiles("b1", { pageSize: 10, cursor });
      names.push(...p.items.map((f) => `${f.part}/${f.name}`));
      cursor = p.next;
    } while (cursor);
    expect(names.length).toBe(26);
    expect(names[0]).toBe("default/f00.jpg");
    expect(names.at(-1)).toBe("results/r.json");
    expect(s.listBatchFiles("b1", { part: "results", pageSize: 10 }).items.map((f) => f.name)).toEqual(["r.json"]);
    for (let i = 0; i < 5; i++) s.createBatch(newBatch(`x${i}`, 2000 + i));
    const first = s.listBatches({ pageSize: 3 });
    expect(first.items.map((b) => b.id)).toEqual(["x4", "x3", "x2"]);
    expect(s.listBatches({ pageSize: 3, cursor: first.next }).items.map((b) => b.id)).toEqual(["x1", "x0", "b1"]);
    expect(() => s.listBatches({ pageSize: 3, cursor: "garbage" })).toThrow("Invalid pageToken");
    s.close();
  });
});
