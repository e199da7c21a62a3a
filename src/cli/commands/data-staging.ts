import type { CAC } from "cac";
import { AppError } from "../../core/errors.ts";
import { humanBytes, printFields, printJson, printTable } from "../output.ts";
import { exportBatch } from "../staging/export.ts";
import { readReferences, uploadReferences } from "../staging/references.ts";
import { ensureBatch, scanMediaFiles, uploadFiles, type UploadReport } from "../staging/upload.ts";
import { limitOf, requireOption, type CliContext } from "../context.ts";

interface BatchView {
  batchId: string;
  name: string;
  type: string;
  kind: string;
  fileCount: number;
  totalBytes: number;
  createdAt: string;
  expiresAt: string;
  parts?: { name: string; fileCount: number; totalBytes: number }[];
}

/** `vbatch data-staging …` (also answered as `vbatch rf-cloud data-staging …`). */
export function registerDataStaging(cli: CAC, ctx: CliContext): void {
  for (const type of ["images", "videos"] as const) {
    const dirFlag = type === "images" ? "images-dir" : "videos-dir";
    cli
      .command(`data-staging create-batch-of-${type}`, `Stage a folder of ${type} as a batch (resumable: re-runs send only what is missing)`)
      .option(`--${dirFlag} <dir>`, `Folder of ${type}`)
      .option("--batch-id <id>", "Batch id: 1-64 lower-case letters, digits, '-' or '_'", { type: [String] })
      .option("--batch-name <name>", "Display name")
      .option("--recursive", "Include sub-folders (names keep their relative path)")
      .option("--references <file>", "JSONL file of {\"name\",\"url\"} lines for the server to fetch")
      .option("--overwrite", "Replace files that exist in the batch with different content")
      .option("--json", "Print the summary as JSON")
      .action(async (o) => {
        const batchId = requireOption(o, "batchId", "--batch-id");
        const dir = o[type === "images" ? "imagesDir" : "videosDir"] as string | undefined;
        if (!dir && !o.references) throw ctx.usage(`--${dirFlag} or --references is required`);
        const client = ctx.client(o);
        await ensureBatch(client, batchId, type, o.batchName);
        const reports: UploadReport[] = [];
        if (dir) reports.push(await uploadFiles(client, scanMediaFiles(dir, type, !!o.recursive), { batchId, overwrite: !!o.overwrite }));
        if (o.references) reports.push(await uploadReferences(client, batchId, readReferences(o.references), !!o.overwrite));
        const total = mergeReports(batchId, reports);
        if (o.json) printJson(total);
        else {
          process.stdout.write(
            `Batch ${batchId}: ${total.uploaded} uploaded (${humanBytes(total.bytes)}), ${total.alreadyPresent + total.unchanged} already present, ${total.rejected.length} rejected, of ${total.found} found\n`,
          );
          for (const r of total.rejected.slice(0, 50)) process.stdout.write(`  rejected ${r.name}: ${r.message}\n`);
          if (total.rejected.length > 50) process.stdout.write(`  … and ${total.rejected.length - 50} more\n`);
        }
        if (total.rejected.length) throw new AppError("FILES_REJECTED", `${total.rejected.length} file(s) were rejected`, 400);
      });
  }

  cli
    .command("data-staging list-batches", "List batches, newest first")
    .option("--limit <n>", "At most this many")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const batches: BatchView[] = [];
      for await (const b of ctx.client(o).pages<BatchView>("api/v1/batches", "batches", {}, limitOf(o))) batches.push(b);
      if (o.json) return printJson(batches);
      printTable(
        batches.map((b) => ({ ...b, size: humanBytes(b.totalBytes), files: b.fileCount, created: b.createdAt, expires: b.expiresAt })),
        ["batchId", "name", "type", "kind", "files", "size", "created", "expires"],
      );
    });

  cli
    .command("data-staging show-batch-details", "Show a batch: type, counts, bytes, parts, creation and expiry")
    .option("--batch-id <id>", "Batch id", { type: [String] })
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const batchId = requireOption(o, "batchId", "--batch-id");
      const b = await ctx.client(o).json<BatchView>("GET", `api/v1/batches/${batchId}`);
      if (o.json) return printJson(b);
      printFields([
        ["Batch", b.batchId],
        ["Name", b.name],
        ["Type", b.type],
        ["Kind", b.kind],
        ["Files", b.fileCount],
        ["Size", `${humanBytes(b.totalBytes)} (${b.totalBytes} bytes)`],
        ["Created", b.createdAt],
        ["Expires", b.expiresAt],
        ["Parts", (b.parts ?? []).map((p) => `${p.name} (${p.fileCount} files, ${humanBytes(p.totalBytes)})`).join(", ") || "none"],
      ]);
    });

  cli
    .command("data-staging list-batch-content", "List the files of a batch")
    .option("--batch-id <id>", "Batch id", { type: [String] })
    .option("--part-name <part>", "Only this part")
    .option("--limit <n>", "At most this many files")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const batchId = requireOption(o, "batchId", "--batch-id");
      const files: Record<string, unknown>[] = [];
      const query = o.partName ? { part: String(o.partName) } : {};
      for await (const f of ctx.client(o).pages<Record<string, unknown>>(`api/v1/batches/${batchId}/content`, "files", query, limitOf(o))) files.push(f);
      if (o.json) return printJson(files);
      printTable(files, ["part", "name", "sizeBytes", "contentType", "sha256"]);
    });

  cli
    .command("data-staging export-batch", "Download a batch into a folder, unpacking archives (resumable)")
    .option("--batch-id <id>", "Batch id", { type: [String] })
    .option("--target-dir <dir>", "Folder to write into")
    .option("--part-name <part>", "Only this part")
    .option("--override-existing", "Download again files that already exist in the folder")
    .option("--json", "Print the summary as JSON")
    .action(async (o) => {
      const batchId = requireOption(o, "batchId", "--batch-id");
      const targetDir = requireOption(o, "targetDir", "--target-dir");
      const report = await exportBatch(ctx.client(o), {
        batchId,
        targetDir,
        part: o.partName ? String(o.partName) : undefined,
        overrideExisting: !!o.overrideExisting,
      });
      if (o.json) return printJson(report);
      process.stdout.write(
        `Exported ${batchId} to ${report.targetDir}: ${report.downloaded} files downloaded (${humanBytes(report.bytes)}), ${report.archivesUnpacked} archives unpacked, ${report.skipped} already there\n`,
      );
    });

  cli
    .command("data-staging delete-batch", "Delete a batch and its files")
    .option("--batch-id <id>", "Batch id", { type: [String] })
    .action(async (o) => {
      const batchId = requireOption(o, "batchId", "--batch-id");
      await ctx.client(o).json("DELETE", `api/v1/batches/${batchId}`);
      process.stdout.write(`Deleted batch ${batchId}\n`);
    });
}


function mergeReports(batchId: string, reports: UploadReport[]): UploadReport {
  const total: UploadReport = { batchId, found: 0, alreadyPresent: 0, uploaded: 0, unchanged: 0, bytes: 0, rejected: [] };
  for (const r of reports) {
    total.found += r.found;
    total.alreadyPresent += r.alreadyPresent;
    total.uploaded += r.uploaded;
    total.unchanged += r.unchanged;
    total.bytes += r.bytes;
    total.rejected.push(...r.rejected);
  }
  return total;
}
