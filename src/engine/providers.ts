import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/**
 * Which onnxruntime execution provider a worker uses. CUDA needs three things: a GPU device, the CUDA
 * provider libraries beside libonnxruntime (onnxruntime-node ships CPU only), and CUDA runtime libraries.
 * The reason for the choice is kept so that `doctor`, agents and job details can say it.
 */
export interface ProviderReport {
  selected: "cuda" | "cpu";
  reason: string;
  cuda: { available: boolean; reason: string };
  bundled: string[];
  runtimeDir: string | undefined;
}

/** The folder libonnxruntime.so was loaded from, read from this process's memory map. */
export function onnxRuntimeDir(): string | undefined {
  try {
    const line = readFileSync("/proc/self/maps", "utf8")
      .split("\n")
      .find((l) => l.includes("libonnxruntime.so"));
    const path = line?.slice(line.indexOf("/"));
    return path ? dirname(path.trim()) : undefined;
  } catch {
    return undefined;
  }
}

function gpuDevice(): string | undefined {
  if (existsSync("/dev/nvidia0")) return "/dev/nvidia0";
  if (existsSync("/proc/driver/nvidia/gpus")) return "/proc/driver/nvidia/gpus";
  return undefined;
}

export async function detectProviders(machineType: "auto" | "cpu" | "gpu" = "auto"): Promise<ProviderReport> {
  const ort = await import("onnxruntime-node");
  const backends = ort.listSupportedBackends?.() ?? [];
  const bundled = backends.filter((b) => b.bundled).map((b) => b.name);
  const runtimeDir = onnxRuntimeDir();
  let cuda: ProviderReport["cuda"];
  const libs = ["libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"];
  if (!gpuDevice()) cuda = { available: false, reason: "no NVIDIA GPU device (/dev/nvidia0) on this machine" };
  else if (!runtimeDir || libs.some((l) => !existsSync(join(runtimeDir, l))))
    cuda = { available: false, reason: `GPU present, but the CUDA provider libraries (${libs.join(", ")}) are not beside libonnxruntime in ${runtimeDir ?? "(not loaded)"}` };
  else cuda = { available: true, reason: `GPU and CUDA provider libraries found in ${runtimeDir}` };

  if (machineType === "cpu") return { selected: "cpu", reason: "machine type cpu was asked for", cuda, bundled, runtimeDir };
  if (cuda.available) return { selected: "cuda", reason: cuda.reason, cuda, bundled, runtimeDir };
  return { selected: "cpu", reason: `CUDA unavailable: ${cuda.reason}`, cuda, bundled, runtimeDir };
}
