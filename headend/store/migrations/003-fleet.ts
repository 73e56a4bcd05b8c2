/**
 * Migration 3: what the headend learns from its stations beyond the raw event log (DESIGN.md §4, §7;
 * issue 5 "Ingest"). Owned by headend/fleet and headend/scheduling.
 *
 * - `occurrence_status`: the newest execution state each station reported for each occurrence
 *   `(entryId, nominalStart)` (DESIGN.md §5 identity), from `occurrence.state` events. Arrival order is never
 *   trusted: a row only moves forward in `(at, store_id, seq)` order, so a resent older event cannot undo a
 *   newer one. It is what the attendance report and the station page read.
 * - `telemetry_minutes`: live telemetry (QoS 0, lossy) and the stations' offline `telemetry.summary` events
 *   downsampled to one row per station, subject (a receiver id, or '' for the station itself), metric and
 *   UTC minute, with count / min / avg / max. Late samples and restarts merge into the same row.
 */
export const migration = {
  version: 3,
  name: 'fleet',
  up: `
CREATE TABLE occurrence_status (
  station_id    TEXT    NOT NULL REFERENCES stations (id),
  entry_id      TEXT    NOT NULL,
  nominal_start TEXT    NOT NULL,
  rev           INTEGER NOT NULL,
  state         TEXT    NOT NULL,
  reason        TEXT,
  receiver_id   TEXT,
  at            TEXT    NOT NULL,
  store_id      TEXT    NOT NULL,
  seq           INTEGER NOT NULL,
  first_at      TEXT    NOT NULL,
  PRIMARY KEY (station_id, entry_id, nominal_start)
) WITHOUT ROWID;
CREATE INDEX occurrence_status_entry ON occurrence_status (entry_id, nominal_start);

CREATE TABLE telemetry_minutes (
  station_id TEXT    NOT NULL REFERENCES stations (id),
  minute_ms  INTEGER NOT NULL,
  subject    TEXT    NOT NULL,
  metric     TEXT    NOT NULL,
  n          INTEGER NOT NULL CHECK (n >= 1),
  min        REAL    NOT NULL,
  avg        REAL    NOT NULL,
  max        REAL    NOT NULL,
  PRIMARY KEY (station_id, minute_ms, subject, metric)
) WITHOUT ROWID;
CREATE INDEX telemetry_minutes_minute ON telemetry_minutes (minute_ms);
`,
} as const;
