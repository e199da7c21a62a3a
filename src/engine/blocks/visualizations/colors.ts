/**
 * Colours as the reference's visualisations name them: palettes (supervision's DEFAULT, ROBOFLOW, LEGACY,
 * and Matplotlib's qualitative ones) and colour strings ("#RRGGBB", "#RGB", "rgb(r, g, b)", "bgr(b, g, r)",
 * "(r, g, b)", names such as WHITE).
 */
export type Rgb = [number, number, number];

const hex = (list: string) => list.split(" ").map((h) => parseHex(h));
const parseHex = (h: string): Rgb => {
  const full = h.length === 3 ? h.replace(/./g, (c) => c + c) : h;
  return [0, 2, 4].map((i) => parseInt(full.slice(i, i + 2), 16)) as Rgb;
};

export const PALETTES: Record<string, Rgb[]> = {
  DEFAULT: hex("A351FB FF4040 FFA1A0 FF7633 FFB633 D1D435 4CFB12 94CF1A 40DE8A 1B9640 00D6C1 2E9CAA 00C4FF 364797 6675FF 0019EF 863AFF 530087 CD3AFF FF97CA FF39C9"),
  ROBOFLOW: hex("C28DFC A351FB 8315F9 6706CE 5905B3 4D049A"),
  LEGACY: hex("A351FB E6194B 3CB44B FFE119 0082C8 F58231 911EB4 46F0F0 F032E6 D2F53C FABEBE 008080 E6BEFF AA6E28 FFFAC8 800000 AAFFC3"),
  "Matplotlib Tab10": hex("1F77B4 FF7F0E 2CA02C D62728 9467BD 8C564B E377C2 7F7F7F BCBD22 17BECF"),
  "Matplotlib Set1": hex("E41A1C 377EB8 4DAF4A 984EA3 FF7F00 FFFF33 A65628 F781BF 999999"),
  "Matplotlib Set2": hex("66C2A5 FC8D62 8DA0CB E78AC3 A6D854 FFD92F E5C494 B3B3B3"),
  "Matplotlib Dark2": hex("1B9E77 D95F02 7570B3 E7298A 66A61E E6AB02 A6761D 666666"),
  "Matplotlib Pastel1": hex("FBB4AE B3CDE3 CCEBC5 DECBE4 FED9A6 FFFFCC E5D8BD FDDAEC F2F2F2"),
  "Matplotlib Accent": hex("7FC97F BEAED4 FDC086 FFFF99 386CB0 F0027F BF5B17 666666"),
  "Matplotlib Paired": hex("A6CEE3 1F78B4 B2DF8A 33A02C FB9A99 E31A1C FDBF6F FF7F00 CAB2D6 6A3D9A FFFF99 B15928"),
};

export const PALETTE_NAMES = [
  "DEFAULT", "CUSTOM", "ROBOFLOW", "Matplotlib Viridis", "Matplotlib Plasma", "Matplotlib Inferno", "Matplotlib Magma",
  "Matplotlib Cividis", "Matplotlib Pastel1", "Matplotlib Pastel2", "Matplotlib Paired", "Matplotlib Accent", "Matplotlib Dark2",
  "Matplotlib Set1", "Matplotlib Set2", "Matplotlib Set3", "Matplotlib Tab10", "Matplotlib Tab20", "Matplotlib Tab20b", "Matplotlib Tab20c",
] as const;

const NAMED: Record<string, Rgb> = {
  WHITE: [255, 255, 255], BLACK: [0, 0, 0], RED: [255, 0, 0], GREEN: [0, 255, 0], BLUE: [0, 0, 255],
  YELLOW: [255, 255, 0], ROBOFLOW: [163, 81, 251],
};

export function parseColor(value: unknown): Rgb {
  if (Array.isArray(value) && value.length === 3 && value.every((v) => typeof v === "number")) return value.map(clampByte) as Rgb;
  const s = String(value).trim();
  if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(s)) return parseHex(s.slice(1));
  const triple = /^(rgb|bgr)?\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)$/i.exec(s);
  if (triple) {
    const [a, b, c] = [triple[2], triple[3], triple[4]].map((n) => clampByte(Number(n))) as Rgb;
    return triple[1]?.toLowerCase() === "bgr" ? [c, b, a] : [a, b, c];
  }
  const named = NAMED[s.toUpperCase()];
  if (named) return named;
  throw new Error(`Invalid color: ${s}; valid formats are #RRGGBB, rgb(R, G, B), bgr(B, G, R), or a color name such as WHITE, BLACK or BLUE`);
}

const clampByte = (n: number) => Math.max(0, Math.min(255, Math.round(n)));

/** The palette a block asked for; unknown Matplotlib maps fall back to DEFAULT. */
export function palette(name: unknown, custom: unknown): Rgb[] {
  if (name === "CUSTOM") {
    const list = Array.isArray(custom) ? custom.map(parseColor) : [];
    return list.length ? list : PALETTES.DEFAULT!;
  }
  return PALETTES[String(name)] ?? PALETTES.DEFAULT!;
}

export const css = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;
