import type { CAC } from "cac";
import { accessSync, constants, existsSync, statfsSync } from "node:fs";
import { resolve } from "node:path";
import { VERSION } from "../../core/version.ts";
import { ffmpegVersion, resolveFfmpeg } from "../../engine/ffmpeg.ts";
import { detectProviders } from "../../engine/providers.ts";
import { humanBytes, printJson } from "../output.ts";
import type { CliContext } from "../context.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

/** `vbatch doctor`: what this machine and installation can do, and what is missing. */
export function registerDoctor(cli: CAC, ctx: CliContext): void {
  cli
    .command("doctor", "Check versions, execution providers, ffmpeg, the data dir, free disk and the server")
    .option("--data-dir <dir>", "Data folder to check")
    .option("--machine-type <type>", "auto, cpu or gpu")
    .option("--json", "Machine-readable output")
    .action(async (o) => {
      const config = ctx.config(o);
      const checks: Check[] = [];
      checks.push({ name: "vbatch", ok: true, detail: `${VERSION} (Bun ${Bun.version}, ${process.platform}-${process.arch})` });

      try {
        const sharp = (await import("sharp")).default;
        checks.push({ name: "sharp", ok: true, detail: `sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}` });
      } catch (e) {
        checks.push({ name: "sharp", ok: false, detail: (e as Error).message });
      }

      try {
        const p = await detectProviders(config.machineType);
        const ort = await import("onnxruntime-node");
        checks.push({ name: "onnxruntime", ok: true, detail: `${ort.env.versions.node}, bundled providers: ${p.bundled.join(", ")}` });
        checks.push({ name: "execution provider", ok: config.machineType !== "gpu" || p.selected === "cuda", detail: `${p.selected.toUpperCase()}: ${p.reason}` });
      } catch (e) {
        checks.push({ name: "onnxruntime", ok: false, detail: (e as Error).message });
      }

      const ff = await resolveFfmpeg(config.ffmpegPath);
      checks.push({ name: "ffmpeg", ok: !!ff.path, detail: ff.path ? `${await ffmpegVersion(ff.path).catch((e) => `unusable: ${e.message}`)} — ${ff.source}, ${ff.path}` : ff.source });

      const dataDir = resolve(config.dataDir);
      if (existsSync(dataDir)) {
        let writable = true;
        try {
          accessSync(dataDir, constants.W_OK);
        } catch {
          writable = false;
        }
        const fs = statfsSync(dataDir);
        const free = Number(fs.bavail) * Number(fs.bsize);
        checks.push({ name: "data dir", ok: writable, detail: `${dataDir} (${writable ? "writable" : "NOT writable"}; database ${existsSync(resolve(dataDir, "vbatch.db")) ? "present" : "not created yet"})` });
        checks.push({ name: "free disk", ok: free > 1 << 30, detail: `${humanBytes(free)} free` });
      } else {
        checks.push({ name: "data dir", ok: true, detail: `${dataDir} (will be created by 'vbatch serve')` });
      }

      const client = ctx.client(o);
      try {
        const health = await client.json<{ version: string }>("GET", "healthz");
        let auth = "";
        try {
          await client.json("GET", "api/v1/batches", { query: { pageSize: 1 } });
          auth = "API key accepted";
        } catch (e) {
          auth = `API refused: ${(e as Error).message}`;
        }
        checks.push({ name: "server", ok: !auth.startsWith("API refused"), detail: `${client.baseUrl} is up (vbatch ${health.version}); ${auth}` });
      } catch (e) {
        checks.push({ name: "server", ok: false, detail: (e as Error).message });
      }

      if (o.json) return printJson(checks);
      const width = Math.max(...checks.map((c) => c.name.length));
      for (const c of checks) process.stdout.write(`${c.ok ? "ok  " : "FAIL"}  ${c.name.padEnd(width)}  ${c.detail}\n`);
    });
}
