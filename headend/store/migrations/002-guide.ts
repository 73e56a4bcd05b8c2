/**
 * Migration 2: the programme guide (DESIGN.md §7 Guide, DOMAIN.md §5).
 *
 * - `guide_programmes`: one row per programme of a line-up service, times as UTC epoch milliseconds.
 *   `programme_id` is stable across imports (XMLTV dvb event id / episode id when present, else a hash of
 *   channel + start + title), so a re-import can tell added / moved / removed / unchanged programmes apart
 *   and guide-linked entries can follow a moved programme.
 * - `guide_channel_map`: XMLTV channel → line-up service, matched by channel id first, else display-name.
 * - `guide_import_runs`: every import with its source, outcome and the JSON report of what changed.
 * - `guide_link_state`: per guide-linked entry, what the last resolution found (listed / not listed), so a
 *   vanished programme is flagged and warned about instead of silently dropped (issue 5).
 */
export const migration = {
  version: 2,
  name: 'guide',
  up: `
CREATE TABLE guide_programmes (
  id            INTEGER PRIMARY KEY,
  service       TEXT    NOT NULL,
  start_ms      INTEGER NOT NULL,
  stop_ms       INTEGER NOT NULL CHECK (stop_ms > start_ms),
  programme_id  TEXT    NOT NULL,
  event_id      TEXT,
  title         TEXT    NOT NULL,
  sub_title     TEXT,
  episode       TEXT,
  description   TEXT,
  category      TEXT,
  lang          TEXT,
  titles_json   TEXT,
  source        TEXT    NOT NULL,
  imported_at   INTEGER NOT NULL,
  UNIQUE (service, programme_id)
);
CREATE INDEX guide_programmes_service_start ON guide_programmes (service, start_ms);

CREATE TABLE guide_channel_map (
  match_kind    TEXT NOT NULL CHECK (match_kind IN ('id', 'display-name')),
  match_value   TEXT NOT NULL,
  service       TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (match_kind, match_value)
);

CREATE TABLE guide_import_runs (
  id            INTEGER PRIMARY KEY,
  source        TEXT    NOT NULL,
  started_at    INTEGER NOT NULL,
  finished_at   INTEGER,
  status        TEXT    NOT NULL CHECK (status IN ('running', 'ok', 'failed')),
  error         TEXT,
  report_json   TEXT
);

CREATE TABLE guide_link_state (
  entry_id      TEXT    NOT NULL PRIMARY KEY,
  status        TEXT    NOT NULL CHECK (status IN ('listed', 'not_listed')),
  occurrences_json TEXT NOT NULL,
  warnings_json TEXT    NOT NULL,
  resolved_at   INTEGER NOT NULL
);
`,
} as const;
