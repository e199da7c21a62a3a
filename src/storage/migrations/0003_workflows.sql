-- Stored workflow definitions (the reference's JSON format), by id.
CREATE TABLE workflows (
  workflow_id     TEXT PRIMARY KEY,
  definition_json TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
) STRICT;
