-- Jobs (one workflow over one input batch) and their tasks (shards leased to workers), the job's log, and
-- the per-image failures of its tasks. Options are kept as JSON: the scheduler reads the few it needs
-- (machine type, parallel cap) with json_extract on the handful of active jobs.
CREATE TABLE jobs (
  job_id          TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  type            TEXT NOT NULL CHECK (type IN ('images', 'videos')),
  workflow_id     TEXT NOT NULL,
  workflow_json   TEXT NOT NULL,
  models_json     TEXT NOT NULL,
  input_batch_id  TEXT NOT NULL,
  options_json    TEXT NOT NULL,
  state           TEXT NOT NULL CHECK (state IN ('pending', 'running', 'succeeded', 'failed', 'aborted')),
  current_stage   TEXT CHECK (current_stage IN ('processing', 'export')),
  error           TEXT,
  created_at_ms   INTEGER NOT NULL,
  started_at_ms   INTEGER,
  finished_at_ms  INTEGER,
  machine_ms      INTEGER NOT NULL DEFAULT 0,
  -- Part of machine_ms spent on GPU machines: an `auto` job is priced by what it ran on.
  gpu_machine_ms  INTEGER NOT NULL DEFAULT 0,
  updated_at_ms   INTEGER NOT NULL
) STRICT;

CREATE INDEX jobs_by_created ON jobs (created_at_ms DESC, job_id DESC);
CREATE INDEX jobs_active ON jobs (created_at_ms, job_id) WHERE state IN ('pending', 'running');
CREATE INDEX jobs_by_input_batch ON jobs (input_batch_id);

CREATE TABLE tasks (
  task_id             TEXT PRIMARY KEY,
  job_id              TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  stage               TEXT NOT NULL CHECK (stage IN ('processing', 'export')),
  task_index          INTEGER NOT NULL,
  state               TEXT NOT NULL CHECK (state IN ('queued', 'leased', 'succeeded', 'failed', 'cancelled')),
  items_json          TEXT NOT NULL,
  items_total         INTEGER NOT NULL,
  items_done          INTEGER NOT NULL DEFAULT 0,
  items_failed        INTEGER NOT NULL DEFAULT 0,
  attempts            INTEGER NOT NULL DEFAULT 0,
  stalls              INTEGER NOT NULL DEFAULT 0,
  machine_type        TEXT NOT NULL CHECK (machine_type IN ('auto', 'cpu', 'gpu')),
  lease_owner         TEXT,
  lease_token         TEXT,
  lease_expires_at_ms INTEGER,
  -- When the current lease began and on which kind of machine: machine time of failed and lost attempts.
  leased_at_ms        INTEGER,
  leased_machine_type TEXT CHECK (leased_machine_type IN ('cpu', 'gpu')),
  available_at_ms     INTEGER NOT NULL,
  started_at_ms       INTEGER,
  finished_at_ms      INTEGER,
  machine_ms          INTEGER NOT NULL DEFAULT 0,
  error_code          TEXT,
  error               TEXT,
  UNIQUE (job_id, stage, task_index)
) STRICT;

-- The lease query walks queued tasks per job in order; the sweep and heartbeats look at leased ones.
CREATE INDEX tasks_queued ON tasks (job_id, stage, task_index) WHERE state = 'queued';
CREATE INDEX tasks_leased ON tasks (lease_expires_at_ms) WHERE state = 'leased';
CREATE INDEX tasks_leased_by_job ON tasks (job_id) WHERE state = 'leased';

CREATE TABLE job_logs (
  log_id    INTEGER PRIMARY KEY,
  job_id    TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  task_id   TEXT,
  severity  TEXT NOT NULL CHECK (severity IN ('info', 'warn', 'error')),
  message   TEXT NOT NULL,
  at_ms     INTEGER NOT NULL
) STRICT;

CREATE INDEX job_logs_by_job ON job_logs (job_id, log_id);

-- Images (or videos) that failed inside a task that itself went on: "errors grouped by cause".
CREATE TABLE task_failures (
  job_id        TEXT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
  task_id       TEXT NOT NULL,
  item          TEXT NOT NULL,
  code          TEXT NOT NULL,
  message       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (task_id, item)
) STRICT, WITHOUT ROWID;

CREATE INDEX task_failures_by_job ON task_failures (job_id, code);
