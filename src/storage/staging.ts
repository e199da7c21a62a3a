import { mkdirSync, readdirSync, renameSync, rmSync, statfsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { randomBytes } from "node:crypto";
import { AppError } from "../core/errors.ts";
import type { BatchKind } from "./store.ts";

/**
 * The data directory's file layout: `vbatch.db`, `staging/<batch>/<part>/<name>` for input batches,
 * `outputs/<batch>/<part>/<name>` for job outputs, `models/`, and `tmp/` where every file is written
 * before it is renamed into place (same file system, so the rename is atomic).
 */
export class Staging {
  readonly root: string;
  readonly dbPath: string;
  readonly tmpDir: string;
  readonly modelsDir: string;
  private readonly dirs: Record<BatchKind, string>;
  /** Folders known to exist, so that committing thousands of files does not re-create them each time. */
  private readonly madeDirs = new Set<string>();

  constructor(dataDir: string) {
    this.root = resolve(dataDir);
    this.dbPath = join(this.root, "vbatch.db");
    this.tmpDir = join(this.root, "tmp");
    this.modelsDir = join(this.root, "models");
    this.dirs = { input: join(this.root, "staging"), output: join(this.root, "outputs") };
  }

  /** Creates the layout and clears temp files a killed process left behind. */
  init(): void {
    for (const d of [this.root, this.tmpDir, this.modelsDir, ...Object.values(this.dirs)]) mkdirSync(d, { recursive: true });
    for (const f of readdirSync(this.tmpDir)) rmSync(join(this.tmpDir, f), { recursive: true, force: true });
  }

  batchDir(batch: { id: string; kind: BatchKind }): string {
    return join(this.dirs[batch.kind], batch.id);
  }

  /** The path of a stored file; refuses (as a second line of defence) anything resolving outside the part. */
  filePath(batch: { id: string; kind: BatchKind }, part: string, name: string): string {
    const partDir = join(this.batchDir(batch), part);
    const path = resolve(partDir, name);
    if (!path.startsWith(partDir + sep))
      throw new AppError("INVALID_FILE_NAME", `File name '${name}' leaves the batch folder`, 400, { name });
    return path;
  }

  tempPath(): string {
    return join(this.tmpDir, randomBytes(12).toString("hex"));
  }

  /** Moves a finished temp file to its final place. */
  commit(tempPath: string, finalPath: string): void {
    const dir = dirname(finalPath);
    if (!this.madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      this.madeDirs.add(dir);
    }
    try {
      renameSync(tempPath, finalPath);
    } catch (e) {
      // The folder may have been removed since (a batch deleted and created again): make it and retry once.
      if ((e as { code?: string }).code !== "ENOENT") throw e;
      mkdirSync(dir, { recursive: true });
      renameSync(tempPath, finalPath);
    }
  }

  removeBatchDir(batch: { id: string; kind: BatchKind }): void {
    const dir = this.batchDir(batch);
    rmSync(dir, { recursive: true, force: true });
    for (const d of this.madeDirs) if (d === dir || d.startsWith(dir + sep)) this.madeDirs.delete(d);
  }

  /** Batch folders on disk, for the sweeper's orphan check. */
  listBatchDirs(kind: BatchKind): string[] {
    try {
      return readdirSync(this.dirs[kind]);
    } catch {
      return [];
    }
  }

  freeBytes(): number {
    const s = statfsSync(this.root);
    return Number(s.bavail) * Number(s.bsize);
  }
}
