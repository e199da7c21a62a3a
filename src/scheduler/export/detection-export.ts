import { join } from "node:path";
import type { ArchiveEntry } from "./archive-writer.ts";
import type { EntryCost } from "./archive-size.ts";
import { readLines, writeTextFile, FileWriter } from "./text-io.ts";

/** A prediction with a box as the processing stage writes it (centre and size, pixels). */
export interface BoxPrediction {
  x: number;
  y: number;
  width: number;
  height: number;
  confidence?: unknown;
  class?: unknown;
  class_id?: unknown;
  points?: unknown;
}

export interface DetectionValue {
  image: { width: number; height: number };
  predictions: BoxPrediction[];
}

/** What one detection output became: the files for the first archive and the counts for the manifest. */
export interface DetectionFiles {
  output: string;
  coco: string;
  labels: string;
  classes: string;
  images: number;
  detections: number;
  categories: number;
  /** coco and classes files, with their sizes. */
  files: ArchiveEntry[];
  /** Label files, read back one by one when the archive is written. */
  labelEntries(): AsyncGenerator<ArchiveEntry>;
  /** Upper bound of what the label files add to an archive. */
  labelsCost: number;
}

/** Larger class ids are renumbered: classes.txt has a line per id up to the largest. */
const MAX_CLASS_ID = 65535;

const fixed6 = (n: number) => n.toFixed(6);
const round6 = (n: number) => Math.round(n * 1e6) / 1e6;
const clamp = (v: number, max: number) => Math.min(Math.max(v, 0), max);

/**
 * COCO and YOLO exports of one detection output, written as rows stream by: COCO images and annotations
 * go to two fragment files joined at the end (only the categories stay in memory), YOLO label files go to
 * one record file read back when the archive is written (no folder of thousands of tiny files).
 */
export class DetectionExport {
  images = 0;
  detections = 0;
  private labelsCost = 0;
  /** Class name → category id: the model's class id unless another name already took it. */
  private readonly categoryIds = new Map<string, number>();
  private readonly namesById = new Map<number, string>();
  private nextFreeId = 0;
  /** Label file names given so far, as 53-bit hashes: no string per image kept (see nameHash). */
  private readonly labelNames = new Set<number>();

  private constructor(
    readonly output: string,
    private readonly paths: { images: string; annotations: string; labels: string },
    private readonly out: { images: FileWriter; annotations: FileWriter; labels: FileWriter },
    private readonly cost: EntryCost,
    /** The longest folder its labels may get, so that the cost bound holds whichever it gets. */
    private readonly labelsDirBound: string,
  ) {}

  static open(dir: string, key: number, output: string, cost: EntryCost): DetectionExport {
    const paths = {
      images: join(dir, `det-${key}-images.part`),
      annotations: join(dir, `det-${key}-annotations.part`),
      labels: join(dir, `det-${key}-labels.jsonl`),
    };
    const out = { images: new FileWriter(paths.images), annotations: new FileWriter(paths.annotations), labels: new FileWriter(paths.labels) };
    return new DetectionExport(output, paths, out, cost, `labels-${safeFileName(output)}/`);
  }

  add(image: string, frame: number | null, value: DetectionValue): void {
    const imageId = ++this.images;
    const { width, height } = value.image;
    const entry: Record<string, unknown> = { id: imageId, file_name: image, width, height };
    if (frame !== null) entry.frame_number = frame;
    this.out.images.write((imageId > 1 ? "," : "") + JSON.stringify(entry));
    const lines: string[] = [];
    for (const p of value.predictions) {
      const category = this.categoryOf(p);
      this.out.annotations.write((this.detections > 0 ? "," : "") + JSON.stringify(this.annotation(p, imageId, category)));
      this.detections++;
      const line = yoloLine(p, category, width, height);
      if (line) lines.push(line);
    }
    this.addLabel(image, frame, lines.length ? lines.join("\n") + "\n" : "");
  }

  /** Closes the fragments and writes `coco` and `classes` into `dir`; the label folder is named here too. */
  async finish(dir: string, names: { coco: string; labels: string; classes: string }, description: string): Promise<DetectionFiles> {
    this.closeAll();
    const categories = [...this.namesById].sort(([a], [b]) => a - b).map(([id, name]) => ({ id, name, supercategory: this.output }));
    const cocoPath = join(dir, names.coco);
    const cocoBytes = await writeTextFile(cocoPath, async (out) => {
      out.write(`{"info":${JSON.stringify({ description })},"licenses":[],"images":[`);
      await out.append(this.paths.images);
      out.write(`],"annotations":[`);
      await out.append(this.paths.annotations);
      out.write(`],"categories":${JSON.stringify(categories)}}\n`);
    });
    const classesPath = join(dir, names.classes);
    const classesBytes = await writeTextFile(classesPath, (out) => out.write(this.classesText()));
    const labelsPath = this.paths.labels;
    return {
      output: this.output,
      ...names,
      images: this.images,
      detections: this.detections,
      categories: categories.length,
      files: [
        { name: names.coco, size: cocoBytes, path: cocoPath },
        { name: names.classes, size: classesBytes, path: classesPath },
      ],
      labelsCost: this.labelsCost,
      async *labelEntries() {
        for await (const line of readLines(labelsPath)) {
          const [name, text] = JSON.parse(line) as [string, string];
          const bytes = Buffer.from(text);
          yield { name: names.labels + name, size: bytes.length, bytes, folder: names.labels };
        }
      },
    };
  }

  /** The output turned out not to be a detection output after all. */
  discard(): void {
    this.closeAll();
  }

  private closeAll(): void {
    for (const out of [this.out.images, this.out.annotations, this.out.labels]) out.close();
  }

  private annotation(p: BoxPrediction, imageId: number, category: number): Record<string, unknown> {
    const a: Record<string, unknown> = {
      id: this.detections + 1,
      image_id: imageId,
      category_id: category,
      bbox: [round6(p.x - p.width / 2), round6(p.y - p.height / 2), p.width, p.height],
      area: round6(p.width * p.height),
      iscrowd: 0,
      score: typeof p.confidence === "number" ? p.confidence : null,
    };
    const polygon = polygonOf(p.points);
    if (polygon) {
      a.segmentation = [polygon];
      a.area = round6(polygonArea(polygon));
    }
    return a;
  }

  private categoryOf(p: BoxPrediction): number {
    const wanted = typeof p.class_id === "number" && Number.isInteger(p.class_id) && p.class_id >= 0 && p.class_id <= MAX_CLASS_ID ? p.class_id : null;
    const name = typeof p.class === "string" && p.class !== "" ? p.class : `class_${wanted ?? "unknown"}`;
    const known = this.categoryIds.get(name);
    if (known !== undefined) return known;
    const id = wanted !== null && !this.namesById.has(wanted) ? wanted : this.nextFreeId;
    this.categoryIds.set(name, id);
    this.namesById.set(id, name);
    while (this.namesById.has(this.nextFreeId)) this.nextFreeId++;
    return id;
  }

  /** YOLO's classes.txt: line N names class N; ids no class uses get a placeholder name. */
  private classesText(): string {
    const max = Math.max(-1, ...this.namesById.keys());
    const lines: string[] = [];
    for (let id = 0; id <= max; id++) lines.push(this.namesById.get(id) ?? `class_${id}`);
    return lines.map((l) => l + "\n").join("");
  }

  /** One label file per row, named after the image (and frame); a stem met before gets a `-2`, `-3`… suffix. */
  private addLabel(image: string, frame: number | null, text: string): void {
    const stem = image.replace(/\.[^./]*$/, "") + (frame === null ? "" : `_${frame}`);
    let name = `${stem}.txt`;
    for (let k = 2; this.labelNames.has(nameHash(name)); k++) name = `${stem}-${k}.txt`;
    this.labelNames.add(nameHash(name));
    this.labelsCost += this.cost(this.labelsDirBound + name, Buffer.byteLength(text));
    this.out.labels.write(JSON.stringify([name, text]) + "\n");
  }
}

/**
 * `class cx cy w h`, normalised by the image size, after clipping the box to the image; null for a box
 * with nothing left inside it (YOLO tools reject empty boxes).
 */
function yoloLine(p: BoxPrediction, category: number, width: number, height: number): string | null {
  const x1 = clamp(p.x - p.width / 2, width);
  const x2 = clamp(p.x + p.width / 2, width);
  const y1 = clamp(p.y - p.height / 2, height);
  const y2 = clamp(p.y + p.height / 2, height);
  if (x2 <= x1 || y2 <= y1) return null;
  return `${category} ${fixed6((x1 + x2) / 2 / width)} ${fixed6((y1 + y2) / 2 / height)} ${fixed6((x2 - x1) / width)} ${fixed6((y2 - y1) / height)}`;
}

function polygonOf(points: unknown): number[] | null {
  if (!Array.isArray(points) || points.length < 3) return null;
  const flat: number[] = [];
  for (const pt of points as { x?: unknown; y?: unknown }[]) {
    if (typeof pt?.x !== "number" || typeof pt.y !== "number") return null;
    flat.push(pt.x, pt.y);
  }
  return flat;
}

/** Shoelace formula: COCO's area is the segment's area when there is one. */
function polygonArea(flat: number[]): number {
  let twice = 0;
  for (let i = 0; i < flat.length; i += 2) {
    const j = (i + 2) % flat.length;
    twice += flat[i]! * flat[j + 1]! - flat[j]! * flat[i + 1]!;
  }
  return Math.abs(twice) / 2;
}

/**
 * cyrb53, a 53-bit string hash: for 100,000 names a false match has a chance under one in a million, and
 * costs no more than a `-2` suffix on a name that did not need one.
 */
function nameHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** An output name as part of a file name. */
export const safeFileName = (name: string) => name.replace(/[^\w.-]+/g, "_");
