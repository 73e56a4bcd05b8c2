/**
 * Migration 5: alarms (DESIGN.md §7 "Alarms with severity, raised/acknowledged/cleared, reasons, and fleet
 * correlation"; issue 8). Owned by headend/alarms (store.ts is its repo).
 *
 * - `alarms`: one row per alarm instance — a condition raised again later is a new row. Station-scoped rows
 *   name the station (no foreign key: rejected credentials may name a station id the registry never had);
 *   fleet rows have `station_id` NULL and the carrier. `linked_to` points a station's lock-loss alarm at
 *   the fleet alarm it is folded into. Times are UTC ISO-8601 with `Z`, like every other table.
 * - `alarm_history`: every transition (raised, severity, acknowledged, linked, unlinked, updated, cleared)
 *   with its actor and the evidence at that moment, for the alarm's timeline on the station page.
 */
export const migration = {
  version: 5,
  name: 'alarms',
  up: `
CREATE TABLE alarms (
  id            TEXT PRIMARY KEY,
  scope         TEXT NOT NULL CHECK (scope IN ('station', 'fleet')),
  station_id    TEXT,
  carrier       TEXT,
  subject       TEXT NOT NULL DEFAULT '',
  kind          TEXT NOT NULL,
  severity      TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  cause_row     TEXT NOT NULL,
  cause         TEXT NOT NULL,
  cause_json    TEXT NOT NULL,
  evidence_json TEXT NOT NULL,
  raised_at     TEXT NOT NULL,
  acked_by      TEXT,
  acked_at      TEXT,
  cleared_at    TEXT,
  linked_to     TEXT REFERENCES alarms (id),
  updated_at    TEXT NOT NULL,
  CHECK ((acked_by IS NULL) = (acked_at IS NULL))
);
CREATE INDEX alarms_active ON alarms (cleared_at, severity) WHERE cleared_at IS NULL;
CREATE INDEX alarms_station ON alarms (station_id, raised_at);
CREATE INDEX alarms_raised ON alarms (raised_at);

CREATE TABLE alarm_history (
  id            INTEGER PRIMARY KEY,
  alarm_id      TEXT NOT NULL REFERENCES alarms (id) ON DELETE CASCADE,
  at            TEXT NOT NULL,
  type          TEXT NOT NULL CHECK (type IN ('raised', 'cleared', 'severity', 'acknowledged', 'linked', 'unlinked', 'updated')),
  severity      TEXT NOT NULL,
  actor         TEXT,
  details_json  TEXT NOT NULL
);
CREATE INDEX alarm_history_alarm ON alarm_history (alarm_id, id);
`,
} as const;
