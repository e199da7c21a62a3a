/**
 * Shapes shared by the operations language: the operation table's entries, compiled functions, check
 * problems, and the video-frame facts that `ExtractFrameMetadata` reads.
 */

/** A problem in a definition, with the JSON path where it is. */
export interface Issue {
  path: string;
  message: string;
}

/** Named values an evaluation can refer to (`DynamicOperand.operand_name`, parameter-valued fields). */
export type Params = Record<string, unknown>;

/** A compiled operation list: turns a value into another. */
export type Chain = (value: unknown, params: Params) => unknown;

/** A compiled statement. */
export type Predicate = (params: Params) => boolean;

/**
 * Facts about a video frame, named as the reference's `video_metadata` kind. Images decoded from a video
 * carry them as `videoMetadata`; a `video_metadata` value may also be given on its own.
 */
export interface FrameMetadata {
  video_identifier: string;
  /** 1-based: the first frame is number 1. */
  frame_number: number;
  frame_timestamp: Date;
  fps?: number;
  comes_from_video_file?: boolean;
}

/**
 * How a running operation reports a failure: the errors name the operation and its place in the list given
 * to `runOperations` (or the statement given to `evaluateStatement`).
 */
export interface OpContext {
  /** Throws UQL_ERROR: "<operation> (at <place>) expects <expected>, got <what the value is>". */
  wrongData(expected: string, got: unknown): never;
  /** Throws UQL_ERROR with another explanation. */
  fail(message: string): never;
}

/**
 * How a field of an operation is written: a plain JSON type, one of fixed words, a nested operation list
 * or statement (compiled before running), or a parameter name standing for a value given at run time.
 */
type FieldType =
  | "string"
  | "integer"
  | "number"
  | "boolean"
  | "object"
  | "any"
  | "regex"
  | "operations"
  | "statement"
  | "string-map-or-param"
  | "boolean-or-param"
  | { enum: readonly string[] };

export interface FieldSpec {
  type: FieldType;
  required?: boolean;
  default?: unknown;
  /** A number field that may not be zero (a divisor). */
  nonZero?: boolean;
}

/** The arguments an operation runs with: its fields, defaults filled in, nested lists compiled. */
export type Args = Record<string, unknown>;

export interface OperationSpec {
  fields: Record<string, FieldSpec>;
  run(value: unknown, args: Args, params: Params, ctx: OpContext): unknown;
}

/** Bounds on one definition tree, so a definition cannot make the engine recurse or loop without end. */
export const MAX_DEPTH = 16;
export const MAX_OPERATIONS = 1000;
