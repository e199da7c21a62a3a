import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { AppError } from "../core/errors.ts";
import { chainResolvers, directoryResolver, registryResolver } from "../engine/models/resolvers.ts";
import type { ModelResolver } from "../engine/models/types.ts";
import { Staging } from "../storage/staging.ts";
import { SqliteStore } from "../storage/sqlite/sqlite-store.ts";

/**
 * Model lookup for commands that run without a server (`infer`, `workflows validate --file`): a models
 * folder (`DIR/<id>.onnx`, `DIR/<id>.txt`, `DIR/<id>.json`) first, then the registry of a data dir when it
 * has a database. The returned `close` releases the database.
 */
export function localModels(opts: { modelsDir?: string; dataDir: string }): { resolver: ModelResolver; close(): void } {
  const resolvers: ModelResolver[] = [];
  if (opts.modelsDir) {
    if (!existsSync(opts.modelsDir)) throw new AppError("NOT_FOUND", `Models folder '${opts.modelsDir}' does not exist`, 404);
    resolvers.push(directoryResolver(resolve(opts.modelsDir)));
  }
  let store: SqliteStore | undefined;
  const staging = new Staging(opts.dataDir);
  if (existsSync(staging.dbPath)) {
    store = new SqliteStore(staging.dbPath);
    const s = store;
    resolvers.push(registryResolver((id) => s.getModel(id), staging.modelsDir));
  }
  if (resolvers.length === 0)
    resolvers.push({ resolve: async () => undefined, describe: () => `no models folder (--models-dir) and no registry in ${join(staging.root, "vbatch.db")}` });
  return { resolver: resolvers.length === 1 ? resolvers[0]! : chainResolvers(...resolvers), close: () => store?.close() };
}

/** A JSON file, with errors that name the file (and the position of a syntax error). */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new AppError("NOT_FOUND", `Cannot read ${what} '${path}': ${(e as Error).message}`, 404);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new AppError("VALIDATION_FAILED", `${what} '${path}' is not valid JSON: ${(e as Error).message}`, 400);
  }
}
