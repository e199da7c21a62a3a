import { rmSync } from "node:fs";
import { join } from "node:path";
import type { Staging } from "./staging.ts";
import type { Store } from "./store.ts";

/** Model files are stored once per content, named by their sha256, so ids sharing a file share the bytes. */
export const modelFilePath = (modelsDir: string, sha256: string) => join(modelsDir, `${sha256}.onnx`);

export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Deletes a model file once no model uses it; true when it was deleted. */
export function dropModelFileIfUnused(store: Store, staging: Staging, sha256: string): boolean {
  if (store.countModelsWithSha(sha256) > 0) return false;
  rmSync(modelFilePath(staging.modelsDir, sha256), { force: true });
  return true;
}
