import type { Database } from "bun:sqlite";
import { AppError } from "../../core/errors.ts";
import type { Page, WorkflowRecord } from "../store.ts";
import { decodeCursor, page } from "./paging.ts";

interface WorkflowRow {
  workflow_id: string;
  definition_json: string;
  created_at_ms: number;
  updated_at_ms: number;
}

const toWorkflow = (r: WorkflowRow): WorkflowRecord => ({
  workflowId: r.workflow_id,
  definitionJson: r.definition_json,
  createdAtMs: r.created_at_ms,
  updatedAtMs: r.updated_at_ms,
});

/** The statements of the workflows table; SqliteStore's workflow verbs call these. */
export function putWorkflow(db: Database, w: WorkflowRecord, overwrite: boolean): void {
  const insert = "INSERT INTO workflows (workflow_id, definition_json, created_at_ms, updated_at_ms) VALUES (?, ?, ?, ?)";
  const sql = overwrite ? `${insert} ON CONFLICT (workflow_id) DO UPDATE SET definition_json = excluded.definition_json, updated_at_ms = excluded.updated_at_ms` : insert;
  try {
    db.query(sql).run(w.workflowId, w.definitionJson, w.createdAtMs, w.updatedAtMs);
  } catch (e) {
    if (String((e as Error).message).includes("UNIQUE"))
      throw new AppError("WORKFLOW_EXISTS", `Workflow '${w.workflowId}' already exists; add it with overwrite to replace it`, 409, { workflowId: w.workflowId });
    throw e;
  }
}

export function getWorkflow(db: Database, id: string): WorkflowRecord | undefined {
  const row = db.query<WorkflowRow, [string]>("SELECT * FROM workflows WHERE workflow_id = ?").get(id);
  return row ? toWorkflow(row) : undefined;
}

export function listWorkflows(db: Database, pageSize: number, cursor?: string): Page<WorkflowRecord> {
  const after = cursor ? String(decodeCursor(cursor, 1)[0]) : "";
  const rows = db.query<WorkflowRow, [string, number]>("SELECT * FROM workflows WHERE workflow_id > ? ORDER BY workflow_id LIMIT ?").all(after, pageSize + 1);
  return page(rows.map(toWorkflow), pageSize, (w) => [w.workflowId]);
}

export function deleteWorkflow(db: Database, id: string): boolean {
  return db.query("DELETE FROM workflows WHERE workflow_id = ?").run(id).changes === 1;
}
