import { readChunks } from "./text-io.ts";

/**
 * An incremental RFC 4180 reader: text goes in as it arrives (any chunking), complete records come out.
 * Quoted fields may hold commas, doubled quotes and line breaks; records end with `\r\n` or `\n`. Blank
 * lines are skipped. Input that bends the rules (a quote inside an unquoted field) is read as text.
 */
export class CsvParser {
  private fields: string[] = [];
  private field = "";
  private quoted = false;
  /** The chunk ended on a quote inside a quoted field: the next character says if it was doubled. */
  private quotePending = false;
  /** The chunk ended on `\r`: a `\n` starting the next one belongs to the same line end. */
  private crPending = false;

  push(text: string): string[][] {
    const records: string[][] = [];
    let i = this.resume(text);
    const n = text.length;
    while (i < n) {
      if (this.quoted) {
        const q = text.indexOf('"', i);
        if (q === -1) {
          this.field += text.slice(i);
          break;
        }
        this.field += text.slice(i, q);
        if (q + 1 === n) {
          this.quotePending = true;
          break;
        }
        if (text.charCodeAt(q + 1) === QUOTE) {
          this.field += '"';
          i = q + 2;
        } else {
          this.quoted = false;
          i = q + 1;
        }
        continue;
      }
      SPECIAL.lastIndex = i;
      const m = SPECIAL.exec(text);
      const j = m ? m.index : n;
      this.field += text.slice(i, j);
      if (j === n) break;
      i = j + 1;
      const c = text.charCodeAt(j);
      if (c === COMMA) {
        this.fields.push(this.field);
        this.field = "";
      } else if (c === QUOTE) {
        if (this.field === "") this.quoted = true;
        else this.field += '"';
      } else {
        this.endRecord(records);
        if (c === CR) {
          if (i === n) this.crPending = true;
          else if (text.charCodeAt(i) === LF) i++;
        }
      }
    }
    return records;
  }

  /** The last record when the input does not end with a line break. */
  end(): string[][] {
    const records: string[][] = [];
    if (this.quotePending) this.quoted = false;
    this.quotePending = false;
    this.endRecord(records);
    return records;
  }

  private resume(text: string): number {
    if (this.quotePending) {
      this.quotePending = false;
      if (text.charCodeAt(0) === QUOTE) {
        this.field += '"';
        return 1;
      }
      this.quoted = false;
      return 0;
    }
    if (this.crPending) {
      this.crPending = false;
      if (text.charCodeAt(0) === LF) return 1;
    }
    return 0;
  }

  private endRecord(records: string[][]): void {
    this.fields.push(this.field);
    const blank = this.fields.length === 1 && this.field === "";
    if (!blank) records.push(this.fields);
    this.fields = [];
    this.field = "";
  }
}

const SPECIAL = /[,"\r\n]/g;
const QUOTE = 34;
const COMMA = 44;
const CR = 13;
const LF = 10;

/** The records of a CSV file, streamed. */
export async function* readCsv(path: string): AsyncGenerator<string[]> {
  const parser = new CsvParser();
  const decoder = new TextDecoder();
  for await (const chunk of readChunks(path)) yield* parser.push(decoder.decode(chunk, { stream: true }));
  yield* parser.push(decoder.decode());
  yield* parser.end();
}

/**
 * A cell's value as the processing stage meant it: empty is null, JSON text (objects, lists) is parsed,
 * anything else is the text itself.
 */
export function csvValue(cell: string): unknown {
  if (cell === "") return null;
  const first = cell.charCodeAt(0);
  if (first !== 0x7b && first !== 0x5b) return cell;
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
}
