/**
 * Numbered migrations, imported as text so that `bun build --compile` embeds them in the binary.
 * A new migration is a new numbered .sql file in this folder plus one line here (a test checks both agree).
 */
import m0001 from "./0001_batches.sql" with { type: "text" };
import m0002 from "./0002_models.sql" with { type: "text" };
import m0003 from "./0003_workflows.sql" with { type: "text" };
import m0004 from "./0004_jobs.sql" with { type: "text" };

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "0001_batches", sql: m0001 },
  { version: 2, name: "0002_models", sql: m0002 },
  { version: 3, name: "0003_workflows", sql: m0003 },
  { version: 4, name: "0004_jobs", sql: m0004 },
];
