-- Registered models. Files are stored once per content, as models/<sha256>.onnx; info_json is the engine's
-- description of the model (signature, family, task, class names, metadata).
CREATE TABLE models (
  model_id      TEXT PRIMARY KEY,
  sha256        TEXT NOT NULL,
  family        TEXT NOT NULL,
  task          TEXT NOT NULL,
  info_json     TEXT NOT NULL,
  size_bytes    INTEGER NOT NULL,
  created_at_ms INTEGER NOT NULL
) STRICT;

CREATE INDEX models_by_sha ON models (sha256);
