import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";

/** A small deterministic PRNG (mulberry32), so sample images are the same on every machine. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An SVG scene: a sky-to-ground gradient, a few shapes and a caption. */
export function sampleSvg(index: number, width = 640, height = 480): string {
  const rand = prng(index + 1);
  const hue = Math.floor(rand() * 360);
  const shapes: string[] = [];
  for (let i = 0; i < 6; i++) {
    const x = Math.floor(rand() * width);
    const y = Math.floor(height * 0.3 + rand() * height * 0.6);
    const s = Math.floor(20 + rand() * 90);
    const fill = `hsl(${Math.floor(rand() * 360)},70%,${35 + Math.floor(rand() * 30)}%)`;
    shapes.push(
      rand() < 0.5
        ? `<rect x="${x}" y="${y - s}" width="${s}" height="${Math.floor(s * 1.6)}" rx="6" fill="${fill}"/>`
        : `<circle cx="${x}" cy="${y}" r="${Math.floor(s / 2)}" fill="${fill}"/>`,
    );
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">
    <stop offset="0" stop-color="hsl(${hue},60%,75%)"/><stop offset="1" stop-color="hsl(${(hue + 40) % 360},35%,35%)"/>
  </linearGradient></defs>
  <rect width="100%" height="100%" fill="url(#g)"/>${shapes.join("")}
  <text x="16" y="36" font-family="sans-serif" font-size="26" fill="#fff">vbatch sample ${index + 1}</text>
</svg>`;
}

/** Writes `count` sample JPEGs into `dir` (kept when already there). Returns the folder. */
export async function writeSampleImages(dir: string, count: number): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const have = new Set(readdirSync(dir));
  const sharp = (await import("sharp")).default;
  for (let i = 0; i < count; i++) {
    const name = `sample-${String(i + 1).padStart(3, "0")}.jpg`;
    if (have.has(name) && existsSync(join(dir, name))) continue;
    await sharp(Buffer.from(sampleSvg(i))).jpeg({ quality: 85 }).toFile(join(dir, name));
  }
  return dir;
}
