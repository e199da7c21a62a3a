import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { envName, resolveConfig } from "../../src/core/config.ts";
import { tempDir } from "../helpers.ts";

describe("config", () => {
  test("flag beats env beats file beats default", () => {
    const file = join(tempDir(), "c.json");
    writeFileSync(file, JSON.stringify({ port: 1111, retentionDays: 3, host: "0.0.0.0" }));
    const env = { VBATCH_PORT: "2222", VBATCH_RETENTION_DAYS: "5" };
    const c = resolveConfig({ flags: { port: 3333 }, env, configFile: file });
    expect(c.port).toBe(3333);
    expect(c.retentionDays).toBe(5);
    expect(c.host).toBe("0.0.0.0");
    expect(c.maxImageMb).toBe(50);
    expect(Object.isFrozen(c)).toBe(true);
  });

  test("env names follow VBATCH_ + snake case", () => {
    expect(envName("apiKey")).toBe("VBATCH_API_KEY");
    expect(envName("dataDir")).toBe("VBATCH_DATA_DIR");
    expect(resolveConfig({ env: { VBATCH_API_URL: "http://h:1" } }).apiUrl).toBe("http://h:1");
  });

  test("bad values name the field, the source and the bound", () => {
    expect(() => resolveConfig({ flags: { port: 70000 } })).toThrow("Invalid port from flag --port: must be at most 65535");
    expect(() => resolveConfig({ env: { VBATCH_WORKERS: "two" } })).toThrow("Invalid workers from environment VBATCH_WORKERS: expected a number");
    expect(() => resolveConfig({ flags: { machineType: "tpu" } })).toThrow("expected one of auto, cpu, gpu");
  });

  test("a config file with an unknown field or bad JSON is refused by name", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "a.json"), JSON.stringify({ prot: 1 }));
    writeFileSync(join(dir, "b.json"), "{nope");
    expect(() => resolveConfig({ configFile: join(dir, "a.json") })).toThrow('unknown field "prot"');
    expect(() => resolveConfig({ configFile: join(dir, "b.json") })).toThrow("is not valid JSON");
    expect(() => resolveConfig({ env: { VBATCH_CONFIG: join(dir, "missing.json") } })).toThrow("does not exist");
  });
});
