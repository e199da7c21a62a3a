import { invalid } from "../core/errors.ts";

const MAX_NAME_BYTES = 1024;
const MAX_SEGMENT_BYTES = 255;
const encoder = new TextEncoder();

/**
 * Checks a file name a client sent. Names are relative paths with '/' between folders; anything that could
 * leave the batch folder or confuse a file system is refused with INVALID_FILE_NAME: absolute paths,
 * '.' and '..' segments, empty segments, backslashes, drive letters, NUL and other control characters.
 */
export function checkFileName(name: unknown): string {
  const bad = (why: string) =>
    invalid(`Invalid file name ${JSON.stringify(name)}: ${why}`, { name: String(name) }, "INVALID_FILE_NAME");
  if (typeof name !== "string" || name.length === 0) throw bad("it is empty");
  if (encoder.encode(name).length > MAX_NAME_BYTES) throw bad(`it is longer than ${MAX_NAME_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) throw bad("it contains a NUL or control character");
  if (name.includes("\\")) throw bad("it contains a backslash");
  if (name.startsWith("/")) throw bad("it is an absolute path");
  if (/^[A-Za-z]:/.test(name)) throw bad("it starts with a drive letter");
  for (const segment of name.split("/")) {
    if (segment === "") throw bad("it has an empty path segment");
    if (segment === "." || segment === "..") throw bad(`it has a '${segment}' path segment`);
    if (encoder.encode(segment).length > MAX_SEGMENT_BYTES) throw bad(`a segment is longer than ${MAX_SEGMENT_BYTES} bytes`);
  }
  return name;
}

export const PART_NAME_PATTERN = /^[a-z0-9_][a-z0-9_.-]{0,63}$/;

export function checkPartName(part: unknown): string {
  if (typeof part !== "string" || !PART_NAME_PATTERN.test(part))
    throw invalid(
      `Invalid part name ${JSON.stringify(part)}: use 1-64 lower-case letters, digits, '_', '-' or '.'`,
      { field: "part" },
      "INVALID_PART_NAME",
    );
  return part;
}
