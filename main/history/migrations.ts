/**
 * Schema migrations, applied in order by `PRAGMA user_version`. Migration N brings a database from version N-1
 * to N; each runs in its own transaction together with the user_version bump, so a crash leaves the database at
 * a whole version. NEVER edit a released migration (tests build a v1 database from V1_SQL and upgrade it):
 * add a new entry at the end instead.
 */
import type Database from 'better-sqlite3';

export interface Migration {
  version: number;
  name: string;
  up(db: Database.Database): void;
}

/** Schema v1, frozen. Ids are text UUIDs; timestamps are ISO-8601 strings; *_json columns hold JSON text. */
export const V1_SQL = `
CREATE TABLE models (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  format          TEXT NOT NULL,
  path            TEXT NOT NULL,
  sha256          TEXT NOT NULL,
  inputs_json     TEXT NOT NULL DEFAULT '[]',
  outputs_json    TEXT NOT NULL DEFAULT '[]',
  parameter_count INTEGER NOT NULL DEFAULT 0,
  created_at      TEXT NOT NULL
);

CREATE TABLE datasets (
  id                 TEXT PRIMARY KEY,
  name               TEXT NOT NULL,
  kind               TEXT NOT NULL,
  location           TEXT NOT NULL,
  sample_count       INTEGER NOT NULL DEFAULT 0,
  preprocessing_json TEXT NOT NULL DEFAULT '{}',
  created_at         TEXT NOT NULL
);

-- Content-addressed files: <dataDir>/artifacts/<rel_path>, rel_path = <sha256[0..2]>/<sha256>.<ext>
CREATE TABLE artifacts (
  id         TEXT PRIMARY KEY,
  sha256     TEXT NOT NULL UNIQUE,
  kind       TEXT NOT NULL,
  rel_path   TEXT NOT NULL,
  size       INTEGER NOT NULL,
  gzip_size  INTEGER NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE variants (
  id          TEXT PRIMARY KEY,
  model_id    TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  parent_id   TEXT REFERENCES variants(id),
  name        TEXT NOT NULL,
  recipe_json TEXT NOT NULL DEFAULT '{}',
  status      TEXT NOT NULL DEFAULT 'ready',
  artifact_id TEXT REFERENCES artifacts(id),
  created_at  TEXT NOT NULL
);

CREATE TABLE metrics (
  id         INTEGER PRIMARY KEY,
  variant_id TEXT NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
  dataset_id TEXT REFERENCES datasets(id) ON DELETE SET NULL,
  name       TEXT NOT NULL,
  value      REAL NOT NULL,
  created_at TEXT NOT NULL
);

CREATE TABLE devices (
  id             TEXT PRIMARY KEY,
  kind           TEXT NOT NULL,
  port_path      TEXT,
  vendor_id      INTEGER,
  product_id     INTEGER,
  first_seen     TEXT NOT NULL,
  last_seen      TEXT NOT NULL,
  firmware_state TEXT,
  link_speed     TEXT
);

CREATE TABLE benchmarks (
  id               TEXT PRIMARY KEY,
  variant_id       TEXT NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
  device_id        TEXT REFERENCES devices(id) ON DELETE SET NULL,
  runtime          TEXT NOT NULL,
  cold_ms          REAL,
  warm_min_ms      REAL,
  warm_p50_ms      REAL,
  warm_p90_ms      REAL,
  warm_p99_ms      REAL,
  runs             INTEGER NOT NULL DEFAULT 0,
  environment_json TEXT NOT NULL DEFAULT '{}',
  created_at       TEXT NOT NULL
);

CREATE TABLE jobs (
  id           TEXT PRIMARY KEY,
  kind         TEXT NOT NULL,
  state        TEXT NOT NULL CHECK (state IN ('queued','running','completed','failed','cancelled','interrupted')),
  stage        TEXT,
  progress     REAL NOT NULL DEFAULT 0,
  message      TEXT,
  heartbeat_at TEXT,
  log_tail     TEXT NOT NULL DEFAULT '',
  error        TEXT,
  params_json  TEXT NOT NULL DEFAULT 'null',
  result_json  TEXT,
  created_at   TEXT NOT NULL,
  updated_at   TEXT NOT NULL
);
`;

/** v2: per-variant reports, resume checkpoints and error codes for jobs, device serials, and the indexes lists need. */
const V2_SQL = `
CREATE TABLE variant_reports (
  variant_id TEXT NOT NULL REFERENCES variants(id) ON DELETE CASCADE,
  kind       TEXT NOT NULL,
  json       TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (variant_id, kind)
);

ALTER TABLE jobs ADD COLUMN checkpoint_json TEXT;
ALTER TABLE jobs ADD COLUMN error_code TEXT;
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE devices ADD COLUMN serial TEXT;

CREATE INDEX variants_model_created ON variants(model_id, created_at);
CREATE INDEX variants_created ON variants(created_at);
CREATE INDEX variants_name ON variants(name COLLATE NOCASE);
CREATE INDEX variants_parent ON variants(parent_id);
CREATE INDEX variants_artifact ON variants(artifact_id);
CREATE INDEX artifacts_size ON artifacts(size);
CREATE INDEX metrics_variant ON metrics(variant_id, name);
CREATE INDEX benchmarks_variant ON benchmarks(variant_id);
CREATE INDEX jobs_state ON jobs(state, created_at);
CREATE INDEX models_created ON models(created_at);
`;

export const migrations: Migration[] = [
  { version: 1, name: 'initial schema', up: (db) => db.exec(V1_SQL) },
  { version: 2, name: 'reports, job checkpoints, indexes', up: (db) => db.exec(V2_SQL) },
];

export const LATEST_VERSION = migrations[migrations.length - 1].version;

/**
 * Applies every migration above the database's user_version, up to `target`, each in one transaction with
 * its version bump. Returns the versions applied.
 */
export function migrate(db: Database.Database, target = LATEST_VERSION): number[] {
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version > target) break;
    // IMMEDIATE takes the write lock before reading the version: two processes opening a fresh database at
    // once (app + CLI) apply each migration exactly once.
    const ran = db
      .transaction(() => {
        if ((db.pragma('user_version', { simple: true }) as number) >= m.version) return false;
        m.up(db);
        db.pragma(`user_version = ${m.version}`);
        return true;
      })
      .immediate();
    if (ran) applied.push(m.version);
  }
  return applied;
}
