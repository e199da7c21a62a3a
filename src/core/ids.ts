import { invalid } from "./errors.ts";

/** An id rule: its pattern, how to say it in words, and the error code when it is broken. */
interface IdRule {
  pattern: RegExp;
  words: string;
  code: string;
}

const rule = (pattern: RegExp, words: string, code: string): IdRule => ({ pattern, words, code });

function assertId(r: IdRule, id: unknown, field: string): string {
  if (typeof id !== "string" || !r.pattern.test(id))
    throw invalid(`Invalid ${field} ${JSON.stringify(id)}: use ${r.words}`, { field, pattern: r.pattern.source }, r.code);
  return id;
}

export const BATCH_ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
/** Workflow ids: the batch id alphabet plus '.', as in `yolo11n.v2`; no leading '.', so no hidden file names. */
export const WORKFLOW_ID_PATTERN = /^[a-z0-9_-][a-z0-9._-]{0,99}$/;
/**
 * Model ids: one to three such segments joined by '/', so the reference's `project/version` ids (e.g.
 * `dog-breed-xpaq6/1`) are used as they are; no segment starts with '.', so none is '..'.
 */
export const MODEL_ID_PATTERN = /^(?=.{1,150}$)[a-z0-9_-][a-z0-9._-]*(\/[a-z0-9_-][a-z0-9._-]*){0,2}$/;

const BATCH = rule(BATCH_ID_PATTERN, "1-64 lower-case letters, digits, '-' or '_'", "INVALID_BATCH_ID");
const WORDS = "1-100 lower-case letters, digits, '-', '_' or '.' (not first)";
const MODEL = rule(MODEL_ID_PATTERN, `up to 3 parts joined by '/', each of ${WORDS}`, "INVALID_MODEL_ID");
const WORKFLOW = rule(WORKFLOW_ID_PATTERN, WORDS, "INVALID_WORKFLOW_ID");

export const assertBatchId = (id: unknown, field = "batchId") => assertId(BATCH, id, field);
export const assertModelId = (id: unknown, field = "modelId") => assertId(MODEL, id, field);
export const assertWorkflowId = (id: unknown, field = "workflowId") => assertId(WORKFLOW, id, field);
