-- Batches (input data and job outputs), their parts and their files.
CREATE TABLE batches (
  id            TEXT PRIMARY KEY,
  name          TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('images', 'videos')),
  kind          TEXT NOT NULL CHECK (kind IN ('input', 'output')),
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX batches_by_created ON batches (created_at_ms DESC, id DESC);
CREATE INDEX batches_by_expiry ON batches (expires_at_ms);

CREATE TABLE batch_parts (
  batch_id      TEXT NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
  name          TEXT NOT NULL,
  file_count    INTEGER NOT NULL DEFAULT 0,
  total_bytes   INTEGER NOT NULL DEFAULT 0,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (batch_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE batch_files (
  batch_id      TEXT NOT NULL,
  part_name     TEXT NOT NULL,
  name          TEXT NOT NULL,
  size_bytes    INTEGER NOT NULL,
  sha256        TEXT NOT NULL,
  content_type  TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (batch_id, part_name, name),
  FOREIGN KEY (batch_id, part_name) REFERENCES batch_parts (batch_id, name) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
