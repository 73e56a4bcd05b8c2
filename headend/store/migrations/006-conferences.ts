/**
 * Migration 6: video conferences (issue 7; DESIGN.md §1 "push a video conference to all stations, a county,
 * or a list; start it, extend it, cancel it; see live which villages are receiving; an attendance report
 * afterwards"). Owned by headend/conferences.
 *
 * - `conferences`: what the control room said (organiser, notes, targets) beside the schedule entry that
 *   carries it to the stations (same id, `entries.kind = 'conference'`). Start and end mirror the entry's
 *   `once` rule, so lists by time need no JSON; they change together in one transaction.
 * - `conference_stations`: every target station with the schedule version that first carries the
 *   conference as it is now (`required_*`): a station that applied an older version has "not applied yet".
 *   `applied_seen_at` is when the headend first saw it applied (push → applied, the measurement).
 * - `conference_attendance`: each station's live attendance status as the headend observed it, one row per
 *   change; the attendance report integrates it over the conference (DESIGN.md §7).
 */
export const migration = {
  version: 6,
  name: 'conferences',
  up: `
CREATE TABLE conferences (
  id             TEXT PRIMARY KEY REFERENCES entries (id),
  title          TEXT NOT NULL,
  organiser      TEXT NOT NULL,
  notes          TEXT NOT NULL DEFAULT '',
  service        TEXT NOT NULL,
  start_at       TEXT NOT NULL,
  end_at         TEXT NOT NULL,
  pre_roll_ms    INTEGER NOT NULL CHECK (pre_roll_ms >= 0),
  record         INTEGER NOT NULL CHECK (record IN (0, 1)),
  target_json    TEXT NOT NULL,
  warnings_json  TEXT NOT NULL DEFAULT '[]',
  created_by     TEXT NOT NULL,
  created_at     TEXT NOT NULL,
  updated_at     TEXT NOT NULL,
  cancelled_at   TEXT,
  cancelled_by   TEXT,
  started_now_at TEXT,
  ended_early_at TEXT
);
CREATE INDEX conferences_end ON conferences (end_at);

CREATE TABLE conference_stations (
  conference_id   TEXT    NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
  station_id      TEXT    NOT NULL REFERENCES stations (id),
  required_epoch  INTEGER NOT NULL,
  required_n      INTEGER NOT NULL,
  pushed_at       TEXT    NOT NULL,
  applied_seen_at TEXT,
  PRIMARY KEY (conference_id, station_id)
) WITHOUT ROWID;
CREATE INDEX conference_stations_station ON conference_stations (station_id);

CREATE TABLE conference_attendance (
  id            INTEGER PRIMARY KEY,
  conference_id TEXT    NOT NULL REFERENCES conferences (id) ON DELETE CASCADE,
  station_id    TEXT    NOT NULL,
  at            TEXT    NOT NULL,
  status        TEXT    NOT NULL,
  reason        TEXT,
  margin_db     REAL,
  streaming     INTEGER
);
CREATE INDEX conference_attendance_conf ON conference_attendance (conference_id, station_id, id);
`,
} as const;
