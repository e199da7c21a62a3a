import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { SqliteStore } from "../../src/storage/sqlite/sqlite-store.ts";
import type { ModelRecord } from "../../src/storage/store.ts";
import { tempDir } from "../helpers.ts";

const model = (modelId: string, sha: string, createdAtMs = 1): ModelRecord => ({
  modelId,
  sha256: sha.repeat(64),
  family: "yolov8",
  task: "detection",
  infoJson: JSON.stringify({ modelId }),
  sizeBytes: 10,
  createdAtMs,
});

describe("SqliteStore models", () => {
  test("put, get, overwrite, count by sha and delete", () => {
    const s = new SqliteStore(join(tempDir(), "m.db"));
    s.putModel(model("a", "1"), false);
    s.putModel(model("b", "1"), false);
    expect(s.getModel("a")).toEqual(model("a", "1"));
    expect(s.countModelsWithSha("1".repeat(64))).toBe(2);
    expect(() => s.putModel(model("a", "2"), false)).toThrow("Model 'a' already exists");
    s.putModel(model("a", "2", 5), true);
    expect(s.getModel("a")).toEqual(model("a", "2", 5));
    expect(s.countModelsWithSha("1".repeat(64))).toBe(1);
    expect(s.deleteModel("b")).toBe(true);
    expect(s.deleteModel("b")).toBe(false);
    expect(s.countModelsWithSha("1".repeat(64))).toBe(0);
    expect(s.getModel("b")).toBeUndefined();
    s.close();
  });

  test("lists by id in pages with a cursor", () => {
    const s = new SqliteStore(join(tempDir(), "p.db"));
    const ids = Array.from({ length: 25 }, (_, i) => `m${String(i).padStart(2, "0")}.v1`);
    for (const id of [...ids].reverse()) s.putModel(model(id, "a"), false);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = s.listModels({ pageSize: 10, cursor });
      seen.push(...page.items.map((m) => m.modelId));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(ids);
    expect(() => s.listModels({ pageSize: 10, cursor: "garbage" })).toThrow("Invalid pageToken");
    s.close();
  });
});
