import { AppError } from "../../core/errors.ts";

/**
 * Class names as people give them (a text file, one name per line) and as Ultralytics exports write them
 * into ONNX metadata (`names`: a Python dict literal; `imgsz`: a list).
 */

/** One name per line, in class-id order. Trailing blank lines are ignored; a blank line inside is an error. */
export function parseClassList(text: string, source: string): string[] {
  const lines = text.replace(/^\uFEFF/, "").split("\n").map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const blank = lines.indexOf("");
  if (blank >= 0)
    throw new AppError("MODEL_CLASSES_INVALID", `Class names from ${source}: line ${blank + 1} is blank (one class name per line, in class-id order)`, 400, {
      line: blank + 1,
    });
  return lines;
}

/** A PP-OCR character dictionary: one character per line, kept as is (a character may be a space). */
export function parseDictionary(text: string): string[] {
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/** Class names from a text, read as a PP-OCR recognition model's dictionary or as a names list. */
export const parseClassesText = (text: string, source: string, family?: string): string[] =>
  family === "ppocr-rec" ? parseDictionary(text) : parseClassList(text, source);

const MAX_CLASS_ID = 1_000_000;
const NAME_ENTRY = /(\d+)\s*:\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)")/g;

/** Ultralytics `names`, e.g. `{0: 'person', 1: 'bicycle'}`: ids must run 0..n-1. */
export function parseUltralyticsNames(value: string): string[] {
  const names: string[] = [];
  for (const m of value.matchAll(NAME_ENTRY)) {
    const id = Number(m[1]);
    if (id > MAX_CLASS_ID) throw badNames(`class id ${id} is out of range`);
    if (names[id] !== undefined) throw badNames(`class id ${id} appears twice`);
    names[id] = unescapePython(m[2] ?? m[3] ?? "");
  }
  if (names.length === 0) throw badNames("no `id: 'name'` entries found");
  const gap = names.findIndex((n) => n === undefined);
  if (gap >= 0) throw badNames(`class id ${gap} is missing`);
  return names;
}

/** Ultralytics `imgsz`: `[640, 640]` (height, width) or one number for a square input. */
export function parseImgsz(value: string): { height: number; width: number } | undefined {
  const numbers = value.match(/\d+/g)?.map(Number) ?? [];
  if (numbers.length === 1) return { height: numbers[0]!, width: numbers[0]! };
  if (numbers.length === 2) return { height: numbers[0]!, width: numbers[1]! };
  return undefined;
}

const badNames = (why: string) =>
  new AppError("MODEL_METADATA_INVALID", `The model's metadata 'names' cannot be read: ${why}; give the class names as a list instead`, 400);

/** The escapes Python's repr() writes in a string literal. */
function unescapePython(s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (_, e: string) => {
    if (e.length > 1) return String.fromCodePoint(parseInt(e.slice(1), 16));
    return ({ n: "\n", t: "\t", r: "\r" } as Record<string, string>)[e] ?? e;
  });
}
