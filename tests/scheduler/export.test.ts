import { describe, expect, test } from "bun:test";
import { createHash, randomBytes } from "node:crypto";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { unzipSync } from "fflate";
import { TarReader } from "../../src/core/tar.ts";
import { CsvParser } from "../../src/scheduler/export/csv.ts";
import { runExport, type ExportInput, type ExportOutput } from "../../src/scheduler/export/index.ts";
import { openRowWriter } from "../../src/scheduler/result-rows.ts";
import { tempDir } from "../helpers.ts";

type Box = { x: number; y: number; w: number; h: number; cls: string; id: number; points?: [number, number][] };

/** A detection output's value as serialize.ts writes it. */
const dets = (width: number, height: number, boxes: Box[]) => ({
  image: { width, height },
  predictions: boxes.map((b, i) => ({
    x: b.x, y: b.y, width: b.w, height: b.h, confidence: 0.9, class_id: b.id, class: b.cls, detection_id: `d${i}`, parent_id: "image",
    ...(b.points ? { points: b.points.map(([x, y]) => ({ x, y })) } : {}),
  })),
});
const cls = (top: string) => ({
  image: { width: 10, height: 10 },
  predictions: [{ class: top, class_id: 0, confidence: 0.8 }],
  top,
  confidence: 0.8,
  parent_id: "image",
  prediction_type: "classification",
});

const PERSON: Box = { x: 50.5, y: 40, w: 21, h: 30.25, cls: "person", id: 0 };
const CAR: Box = { x: 150, y: 50, w: 100, h: 100, cls: "car", id: 2, points: [[100, 0], [200, 0], [200, 100], [100, 100]] };
const DOG: Box = { x: 10, y: 10, w: 4, h: 6, cls: "dog", id: 16 };

/** Two tasks' rows: detections (incl. an image with none), a classification, crop-level lists, an image output, a scalar. */
const TASK_ROWS = [
  [
    {
      image: "a.jpg",
      dets: dets(200, 100, [PERSON, CAR]),
      cls: cls("cat"),
      crops: [cls("x"), cls("y")],
      vis: { type: "image", file: "a.jpg/vis.jpg", width: 200, height: 100 },
      note: 'say "hi", then\nbye',
    },
    { image: "b.png", dets: dets(64, 32, []), cls: cls("dog"), crops: [], vis: null, note: "" },
  ],
  [
    { image: "c.jpg", dets: dets(40, 20, [DOG]), cls: cls("cat"), crops: [cls("z")], vis: null, note: "plain" },
    { image: "d.jpg", dets: dets(200, 100, [PERSON]), cls: null, crops: [], vis: null, note: "x,y" },
  ],
];
const ERROR_ROWS = [
  [{ image: "e.jpg", code: "DECODE_FAILED", message: "not an image" }],
  [{ image: "f.jpg", code: "TIMEOUT", message: "too slow" }, { image: "g.jpg", code: "DECODE_FAILED", message: "truncated" }],
];

function put(path: string, data: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r) + "\n").join("");

/** Processing files as the processing stage writes them, in the given format. */
function processingFiles(dir: string, format: "jsonl" | "csv", rows = TASK_ROWS): { resultFiles: string[]; errorFiles: string[] } {
  const resultFiles = rows.map((taskRows, i) => {
    const path = join(dir, "results", `task-00000${i + 1}.${format}`);
    if (format === "jsonl") return put(path, jsonl(taskRows));
    mkdirSync(dirname(path), { recursive: true });
    // The second file's columns in another order: the merge must move cells under the right header.
    const columns = i === 0 ? ["image", "dets", "cls", "crops", "vis", "note"] : ["image", "note", "vis", "crops", "cls", "dets"];
    const writer = openRowWriter(path, "csv", columns);
    for (const row of taskRows) writer.write(row);
    writer.close();
    return path;
  });
  const errorFiles = ERROR_ROWS.map((r, i) => put(join(dir, "errors", `task-00000${i + 1}.jsonl`), jsonl(r)));
  return { resultFiles, errorFiles };
}

function input(dir: string, overrides: Partial<ExportInput>): ExportInput {
  return {
    jobId: "job1", format: "jsonl", archiveFormat: "tar.gz", archiveMaxBytes: 1 << 30, resultFiles: [], errorFiles: [], imageFiles: [],
    manifest: { job: { id: "job1" }, workflow: { id: "wf" }, counts: { tasks: 3 } }, workDir: join(dir, "work"), ...overrides,
  };
}

/** An archive's entries in archive order. */
function unpack(path: string): Map<string, Buffer> {
  const data = readFileSync(path);
  if (path.endsWith(".zip")) return new Map(Object.entries(unzipSync(data)).map(([k, v]) => [k, Buffer.from(v)]));
  const files = new Map<string, Buffer>();
  const reader = new TarReader((h) => {
    const chunks: Uint8Array[] = [];
    return { write: (c) => chunks.push(c.slice()), end: () => files.set(h.name, Buffer.concat(chunks)), abort() {} };
  });
  reader.push(Bun.gunzipSync(data));
  reader.finish();
  return files;
}

/** All entries of all archives, each with the archive holding it; an entry in two archives fails. */
function unpackAll(out: ExportOutput): Map<string, { archive: string; data: Buffer }> {
  const all = new Map<string, { archive: string; data: Buffer }>();
  for (const f of out.files.filter((f) => f.name !== "manifest.json")) {
    for (const [name, data] of unpack(f.path)) {
      expect(all.has(name)).toBe(false);
      all.set(name, { archive: f.name, data });
    }
  }
  return all;
}

const manifestOf = (out: ExportOutput) => JSON.parse(readFileSync(out.files.find((f) => f.name === "manifest.json")!.path, "utf8"));
const text = (all: Map<string, { data: Buffer }>, name: string) => all.get(name)!.data.toString("utf8");

function parseCsv(csv: string): string[][] {
  const p = new CsvParser();
  return [...p.push(csv), ...p.end()];
}

describe("runExport", () => {
  test("JSONL: merged rows in task order, COCO, YOLO, errors, images and manifest in one tar.gz", async () => {
    const dir = tempDir();
    const imageFiles = [{ path: put(join(dir, "img", "1"), "VIS-A"), name: "a.jpg/vis.jpg" }];
    const out = await runExport(input(dir, { ...processingFiles(dir, "jsonl"), imageFiles }));
    expect(out.counts).toEqual({ images: 4, failed: 3, detections: 4, detectionOutputs: ["dets"] });
    expect(out.files.map((f) => f.name)).toEqual(["job1-000.tar.gz", "manifest.json"]);
    expect(out.files[0]!.contentType).toBe("application/gzip");
    const all = unpackAll(out);
    expect([...all.keys()]).toEqual([
      "results.jsonl", "errors.jsonl", "coco.json", "classes.txt", "labels/a.txt", "labels/b.txt", "labels/c.txt", "labels/d.txt", "images/a.jpg/vis.jpg",
    ]);
    expect(text(all, "results.jsonl")).toBe(jsonl(TASK_ROWS.flat()));
    expect(text(all, "errors.jsonl")).toBe(jsonl(ERROR_ROWS.flat()));
    expect(text(all, "images/a.jpg/vis.jpg")).toBe("VIS-A");

    const coco = JSON.parse(text(all, "coco.json"));
    expect(coco.images).toEqual([
      { id: 1, file_name: "a.jpg", width: 200, height: 100 }, { id: 2, file_name: "b.png", width: 64, height: 32 },
      { id: 3, file_name: "c.jpg", width: 40, height: 20 }, { id: 4, file_name: "d.jpg", width: 200, height: 100 },
    ]);
    expect(coco.categories).toEqual([
      { id: 0, name: "person", supercategory: "dets" }, { id: 2, name: "car", supercategory: "dets" }, { id: 16, name: "dog", supercategory: "dets" },
    ]);
    expect(coco.annotations.map((a: { id: number }) => a.id)).toEqual([1, 2, 3, 4]);
    expect(coco.annotations[0]).toEqual({ id: 1, image_id: 1, category_id: 0, bbox: [40, 24.875, 21, 30.25], area: 635.25, iscrowd: 0, score: 0.9 });
    expect(coco.annotations[1]).toEqual({
      id: 2, image_id: 1, category_id: 2, bbox: [100, 0, 100, 100], area: 10000, iscrowd: 0, score: 0.9, segmentation: [[100, 0, 200, 0, 200, 100, 100, 100]],
    });
    expect(coco.annotations.map((a: { image_id: number; category_id: number }) => [a.image_id, a.category_id])).toEqual([[1, 0], [1, 2], [3, 16], [4, 0]]);

    expect(text(all, "labels/a.txt")).toBe("0 0.252500 0.400000 0.105000 0.302500\n2 0.750000 0.500000 0.500000 1.000000\n");
    expect(text(all, "labels/b.txt")).toBe("");
    expect(text(all, "labels/c.txt")).toBe("16 0.250000 0.500000 0.100000 0.300000\n");
    const classes = text(all, "classes.txt").split("\n");
    expect(classes.length).toBe(18);
    expect([classes[0], classes[1], classes[2], classes[16], classes[17]]).toEqual(["person", "class_1", "car", "dog", ""]);

    const manifest = manifestOf(out);
    expect(manifest.job).toEqual({ id: "job1" });
    expect(manifest.counts).toEqual({
      tasks: 3, images: 4, rows: 4, failed: 3, failuresByCode: { DECODE_FAILED: 2, TIMEOUT: 1 }, detections: { dets: 4 }, imageOutputs: 1,
    });
    expect(manifest.notExported).toEqual([{ output: "crops", reason: expect.stringContaining("crop-level") }]);
    expect(manifest.detectionOutputs).toEqual([
      { output: "dets", coco: "coco.json", labels: "labels/", classes: "classes.txt", images: 4, detections: 4, categories: 3 },
    ]);
    const archive = readFileSync(out.files[0]!.path);
    const listed = [...all.keys()].filter((n) => !n.startsWith("labels/"));
    expect(manifest.archives).toEqual([
      { name: "job1-000.tar.gz", bytes: archive.length, sha256: createHash("sha256").update(archive).digest("hex"), files: listed, folders: { "labels/": 4 } },
    ]);
  });

  test("CSV in, CSV out: quoting survives, columns are realigned, detections come from JSON cells; zip archive", async () => {
    const dir = tempDir();
    const out = await runExport(input(dir, { ...processingFiles(dir, "csv"), format: "csv", archiveFormat: "zip" }));
    expect(out.files.map((f) => [f.name, f.contentType])).toEqual([["job1-000.zip", "application/zip"], ["manifest.json", "application/json"]]);
    expect(out.counts).toEqual({ images: 4, failed: 3, detections: 4, detectionOutputs: ["dets"] });
    const all = unpackAll(out);
    const rows = parseCsv(text(all, "results.csv"));
    expect(rows[0]).toEqual(["image", "dets", "cls", "crops", "vis", "note"]);
    const cell = (v: unknown) => (v === null ? "" : typeof v === "string" ? v : JSON.stringify(v));
    expect(rows.slice(1)).toEqual(TASK_ROWS.flat().map((r) => [r.image, cell(r.dets), cell(r.cls), cell(r.crops), cell(r.vis), cell(r.note)]));
    expect(rows[1]![5]).toBe('say "hi", then\nbye');
    expect(text(all, "labels/a.txt")).toBe("0 0.252500 0.400000 0.105000 0.302500\n2 0.750000 0.500000 0.500000 1.000000\n");
    expect(JSON.parse(text(all, "coco.json")).annotations).toHaveLength(4);
    expect(manifestOf(out).archives[0]).toMatchObject({ files: ["results.csv", "errors.jsonl", "coco.json", "classes.txt"], folders: { "labels/": 4 } });
  });

  test("further detection outputs get their own COCO, labels and classes; outputs of mixed shapes are dropped", async () => {
    const dir = tempDir();
    const plate = (x: number) => dets(100, 100, [{ x, y: 50, w: 10, h: 10, cls: "plate", id: 0 }]);
    const rows = [
      { image: "cam/one.jpg", dets: dets(100, 100, []), plates: plate(20), odd: plate(1) },
      { image: "cam/one.png", dets: null, plates: plate(30), odd: "not detections" },
      // The second box lies outside the image: in COCO as it is, left out of the YOLO labels.
      { image: "two.jpg", dets: dets(100, 100, [DOG, { ...DOG, x: 150, y: 150 }]), plates: null, odd: plate(2) },
    ];
    const out = await runExport(input(dir, { resultFiles: [put(join(dir, "r.jsonl"), jsonl(rows))] }));
    expect(out.counts.detectionOutputs).toEqual(["dets", "plates"]);
    expect(out.counts.detections).toBe(4);
    const all = unpackAll(out);
    expect([...all.keys()].filter((n) => n.startsWith("labels"))).toEqual([
      "labels/cam/one.txt", "labels/two.txt", "labels-plates/cam/one.txt", "labels-plates/cam/one-2.txt",
    ]);
    expect(text(all, "labels-plates/cam/one-2.txt")).toBe("0 0.300000 0.500000 0.100000 0.100000\n");
    expect(text(all, "labels/two.txt")).toBe("16 0.100000 0.100000 0.040000 0.060000\n");
    expect(text(all, "classes-plates.txt")).toBe("plate\n");
    const plates = JSON.parse(text(all, "coco-plates.json"));
    expect(plates.images.map((i: { file_name: string }) => i.file_name)).toEqual(["cam/one.jpg", "cam/one.png"]);
    expect(JSON.parse(text(all, "coco.json")).images.map((i: { id: number }) => i.id)).toEqual([1, 2]);
    expect(all.has("coco-odd.json")).toBe(false);
    expect(manifestOf(out).notExported).toEqual([{ output: "odd", reason: expect.stringContaining("some rows") }]);
  });

  test("video rows: one input, a label file and a COCO image per frame", async () => {
    const dir = tempDir();
    const rows = [1, 2].map((frame) => ({ image: "clips/v.mp4", frame_number: frame, frame_timestamp: frame / 25, dets: dets(100, 50, [DOG]) }));
    const out = await runExport(input(dir, { resultFiles: [put(join(dir, "r.jsonl"), jsonl(rows))] }));
    expect(out.counts).toMatchObject({ images: 1, detections: 2 });
    const all = unpackAll(out);
    expect(text(all, "labels/clips/v_2.txt")).toBe("16 0.100000 0.200000 0.040000 0.120000\n");
    expect(JSON.parse(text(all, "coco.json")).images[1]).toEqual({ id: 2, file_name: "clips/v.mp4", width: 100, height: 50, frame_number: 2 });
    expect(manifestOf(out).counts).toMatchObject({ images: 1, rows: 2 });
  });

  for (const archiveFormat of ["tar.gz", "zip"] as const) {
    test(`${archiveFormat}: image outputs are spread over archives under the size limit, a huge one alone`, async () => {
      const dir = tempDir();
      const limit = 12_000;
      // Random bytes do not compress: the bound must hold for incompressible files.
      const sizes = [3000, 3000, 3000, 3000, 30_000, 3000, 3000, 3000, 3000, 3000];
      const imageFiles = sizes.map((size, i) => ({ path: put(join(dir, "img", `${i}`), randomBytes(size)), name: `in${i}.jpg/vis.jpg` }));
      const out = await runExport(input(dir, { ...processingFiles(dir, "jsonl"), archiveFormat, archiveMaxBytes: limit, imageFiles }));
      const archives = out.files.filter((f) => f.name !== "manifest.json");
      expect(archives.map((a) => a.name)).toEqual(archives.map((_, i) => `job1-00${i}.${archiveFormat}`));
      const all = unpackAll(out);
      imageFiles.forEach((f) => expect(all.get(`images/${f.name}`)!.data.equals(readFileSync(f.path))).toBe(true));
      for (const name of ["results.jsonl", "errors.jsonl", "coco.json", "classes.txt", "labels/a.txt"]) expect(all.get(name)!.archive).toBe(archives[0]!.name);
      const huge = all.get("images/in4.jpg/vis.jpg")!.archive;
      expect([...all.values()].filter((e) => e.archive === huge)).toHaveLength(1);
      for (const a of archives) if (a.name !== huge) expect(statSync(a.path).size).toBeLessThanOrEqual(limit);
      // Images keep their order across archives, and archives are reasonably full (3 images of 3000 bytes fit in 12000).
      const order = imageFiles.map((f) => archives.findIndex((a) => a.name === all.get(`images/${f.name}`)!.archive));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(archives.length).toBeLessThanOrEqual(6);
      const manifest = manifestOf(out);
      expect(manifest.archives.map((a: { name: string; bytes: number }) => [a.name, a.bytes])).toEqual(archives.map((a) => [a.name, statSync(a.path).size]));
    });
  }

  test("no results, no errors: an archive with an empty results file and a manifest with zero counts", async () => {
    const dir = tempDir();
    const out = await runExport(input(dir, { format: "csv" }));
    const all = unpackAll(out);
    expect(text(all, "results.csv")).toBe("image\r\n");
    expect(text(all, "errors.jsonl")).toBe("");
    expect(manifestOf(out).counts).toMatchObject({ images: 0, failed: 0, failuresByCode: {}, detections: {} });
  });
});

describe("CsvParser", () => {
  test("records are the same whatever the chunking (quotes, doubled quotes, CRLF and line breaks in cells)", () => {
    const csv = 'image,note\r\n"a,1","say ""hi""\r\nbye"\r\nb,\r\n\r\n"",x\n"q"""';
    const whole = parseCsv(csv);
    expect(whole).toEqual([["image", "note"], ["a,1", 'say "hi"\r\nbye'], ["b", ""], ["", "x"], ['q"']]);
    for (const size of [1, 2, 3, 7]) {
      const p = new CsvParser();
      const got: string[][] = [];
      for (let i = 0; i < csv.length; i += size) got.push(...p.push(csv.slice(i, i + size)));
      got.push(...p.end());
      expect(got).toEqual(whole);
    }
  });
});
