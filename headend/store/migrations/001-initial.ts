/**
 * Migration 1: the headend's core tables (DESIGN.md §7, issue 5 "Store"). Times are UTC ISO-8601 text with
 * `Z` (the protocol's own form, DESIGN.md §4); JSON columns end in `_json` and are parsed with zod by
 * their repos, never trusted as typed.
 */
export const migration = {
  version: 1,
  name: 'initial',
  up: `
-- Single values: the schedule epoch (a restore starts a new one, DESIGN.md §4), the line-up version.
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
INSERT INTO meta (key, value) VALUES ('schedule_epoch', '1'), ('lineup_version', '0');

-- Station groups: the 7 counties of Pingliang (DOMAIN.md §1) and free-form groups.
CREATE TABLE station_groups (
  id          TEXT PRIMARY KEY,
  kind        TEXT NOT NULL CHECK (kind IN ('county', 'custom')),
  name        TEXT NOT NULL,
  name_zh     TEXT,
  description TEXT,
  created_at  TEXT NOT NULL
);
INSERT INTO station_groups (id, kind, name, name_zh, created_at) VALUES
  ('kongtong',   'county', 'Kongtong',   '崆峒区', '1970-01-01T00:00:00.000Z'),
  ('huating',    'county', 'Huating',    '华亭市', '1970-01-01T00:00:00.000Z'),
  ('jingchuan',  'county', 'Jingchuan',  '泾川县', '1970-01-01T00:00:00.000Z'),
  ('lingtai',    'county', 'Lingtai',    '灵台县', '1970-01-01T00:00:00.000Z'),
  ('chongxin',   'county', 'Chongxin',   '崇信县', '1970-01-01T00:00:00.000Z'),
  ('zhuanglang', 'county', 'Zhuanglang', '庄浪县', '1970-01-01T00:00:00.000Z'),
  ('jingning',   'county', 'Jingning',   '静宁县', '1970-01-01T00:00:00.000Z');

-- The fleet registry. id = MQTT username = client id (DESIGN.md §4). The credential is only ever a
-- Mosquitto $7$ PBKDF2-SHA512 hash (DESIGN.md §7); revoked stations keep their history.
CREATE TABLE stations (
  id                    TEXT PRIMARY KEY,
  name                  TEXT NOT NULL,
  county                TEXT NOT NULL REFERENCES station_groups (id),
  lat                   REAL CHECK (lat BETWEEN -90 AND 90),
  lon                   REAL CHECK (lon BETWEEN -180 AND 180),
  dish_m                REAL CHECK (dish_m > 0),
  receivers_json        TEXT NOT NULL DEFAULT '[]',
  tags_json             TEXT NOT NULL DEFAULT '[]',
  credential_hash       TEXT,
  credential_changed_at TEXT,
  revoked_at            TEXT,
  created_at            TEXT NOT NULL,
  updated_at            TEXT NOT NULL
);
CREATE INDEX stations_county ON stations (county);
CREATE TRIGGER stations_county_is_county BEFORE INSERT ON stations
  WHEN (SELECT kind FROM station_groups WHERE id = NEW.county) IS NOT 'county'
  BEGIN SELECT RAISE(ABORT, 'county must be a county group'); END;
CREATE TRIGGER stations_county_is_county_upd BEFORE UPDATE OF county ON stations
  WHEN (SELECT kind FROM station_groups WHERE id = NEW.county) IS NOT 'county'
  BEGIN SELECT RAISE(ABORT, 'county must be a county group'); END;

-- Members of free-form groups (a county's members are the stations whose county it is).
CREATE TABLE group_members (
  group_id   TEXT NOT NULL REFERENCES station_groups (id) ON DELETE CASCADE,
  station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
  PRIMARY KEY (group_id, station_id)
) WITHOUT ROWID;

-- The line-up (DESIGN.md §4 lineup topic): carriers and the services on them.
CREATE TABLE transponders (
  id          TEXT PRIMARY KEY,
  tuning_json TEXT NOT NULL,
  updated_at  TEXT NOT NULL
);
CREATE TABLE services (
  key            TEXT PRIMARY KEY,
  name           TEXT NOT NULL,
  service_id     INTEGER NOT NULL CHECK (service_id BETWEEN 1 AND 65535),
  transponder_id TEXT NOT NULL REFERENCES transponders (id),
  position       INTEGER NOT NULL DEFAULT 0,
  updated_at     TEXT NOT NULL
);

-- Schedule entries (recordings, mandated recordings, conferences). Scheduling owns the spec's shape;
-- the store keeps identity, revision, class, target and audit fields (DESIGN.md §5 Identity).
CREATE TABLE entries (
  id             TEXT PRIMARY KEY,
  rev            INTEGER NOT NULL DEFAULT 1 CHECK (rev >= 1),
  kind           TEXT NOT NULL,
  priority_class TEXT NOT NULL CHECK (priority_class IN ('conference', 'mandated', 'operator')),
  priority       INTEGER NOT NULL DEFAULT 0,
  target_json    TEXT NOT NULL,
  spec_json      TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  deleted_at     TEXT
);
CREATE TABLE entry_stations (
  entry_id   TEXT NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
  station_id TEXT NOT NULL REFERENCES stations (id),
  PRIMARY KEY (entry_id, station_id)
) WITHOUT ROWID;
CREATE INDEX entry_stations_station ON entry_stations (station_id);

-- Every schedule document issued to a station, version {epoch, n}, with the exact bytes published and
-- their SHA-256 (stations report the hash of what they applied, DESIGN.md §4). published_at is set once
-- the broker accepted it (outbox).
CREATE TABLE schedule_docs (
  station_id   TEXT NOT NULL REFERENCES stations (id),
  epoch        INTEGER NOT NULL CHECK (epoch >= 0),
  n            INTEGER NOT NULL CHECK (n >= 0),
  doc          BLOB NOT NULL,
  sha256       TEXT NOT NULL,
  issued_at    TEXT NOT NULL,
  published_at TEXT,
  PRIMARY KEY (station_id, epoch, n)
) WITHOUT ROWID;
CREATE INDEX schedule_docs_unpublished ON schedule_docs (published_at) WHERE published_at IS NULL;

-- Station events, exactly once per (station, storeId, seq) (DESIGN.md §4 Events).
CREATE TABLE events (
  station_id     TEXT NOT NULL REFERENCES stations (id),
  store_id       TEXT NOT NULL,
  seq            INTEGER NOT NULL CHECK (seq >= 1),
  type           TEXT NOT NULL,
  at             TEXT,
  payload        TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  received_at    TEXT NOT NULL,
  PRIMARY KEY (station_id, store_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_station_at ON events (station_id, at);
-- Same key, different payload: kept for the alarm and the technician, never merged.
CREATE TABLE event_conflicts (
  id             INTEGER PRIMARY KEY,
  station_id     TEXT NOT NULL,
  store_id       TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  payload        TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  received_at    TEXT NOT NULL
);
-- The ack high-water mark per station store: every seq <= this one is committed.
CREATE TABLE event_acks (
  station_id TEXT NOT NULL REFERENCES stations (id),
  store_id   TEXT NOT NULL,
  seq        INTEGER NOT NULL CHECK (seq >= 0),
  updated_at TEXT NOT NULL,
  PRIMARY KEY (station_id, store_id)
) WITHOUT ROWID;

-- Recordings catalogue, fed by the stations' manifests.
CREATE TABLE recordings (
  station_id       TEXT NOT NULL REFERENCES stations (id),
  recording_id     TEXT NOT NULL,
  entry_id         TEXT,
  occurrence_start TEXT,
  service_key      TEXT,
  status           TEXT NOT NULL,
  started_at       TEXT,
  ended_at         TEXT,
  bytes            INTEGER,
  quality          REAL,
  clock_trusted    INTEGER,
  manifest_json    TEXT NOT NULL,
  updated_at       TEXT NOT NULL,
  PRIMARY KEY (station_id, recording_id)
) WITHOUT ROWID;
CREATE INDEX recordings_entry ON recordings (entry_id, occurrence_start);

-- Station state history (presence and reported state as received).
CREATE TABLE station_state (
  id         INTEGER PRIMARY KEY,
  station_id TEXT NOT NULL REFERENCES stations (id),
  at         TEXT NOT NULL,
  online     INTEGER NOT NULL CHECK (online IN (0, 1)),
  boot_n     INTEGER,
  boot_conn  INTEGER,
  payload    TEXT NOT NULL
);
CREATE INDEX station_state_station ON station_state (station_id, id);

-- Every control action (DESIGN.md §7).
CREATE TABLE audit_log (
  id           INTEGER PRIMARY KEY,
  at           TEXT NOT NULL,
  actor        TEXT NOT NULL,
  action       TEXT NOT NULL,
  target       TEXT,
  details_json TEXT
);
CREATE INDEX audit_log_target ON audit_log (target, id);
`,
} as const;
