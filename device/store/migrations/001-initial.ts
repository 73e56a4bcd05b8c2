/**
 * The station's first schema (DESIGN.md §6 "Offline first"): everything the agent executes from lives here,
 * so a power cut or a days-long uplink outage loses nothing. STRICT tables so a wrong type is an error, not
 * a silently coerced value.
 */
import type { Migration } from './types.js';

export const migration001: Migration = {
  version: 1,
  name: 'initial',
  up(db) {
    db.exec(`
      -- storeId (random per database, DESIGN.md §4) and creation time.
      CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      -- Presence counters (DESIGN.md §4 "Presence"): only ever incremented.
      CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL CHECK (value >= 0)
      ) STRICT;
      INSERT INTO counters (name, value) VALUES ('boot', 0), ('conn', 0);

      -- The schedule document in force: the exact bytes applied, so the reported SHA-256 is reproducible.
      CREATE TABLE schedule_applied (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        epoch      INTEGER NOT NULL,
        n          INTEGER NOT NULL,
        hash       TEXT NOT NULL,
        bytes      BLOB NOT NULL,
        applied_at TEXT NOT NULL
      ) STRICT;

      -- The last rejected document (reported in the state beside the applied one).
      CREATE TABLE schedule_rejection (
        id     INTEGER PRIMARY KEY CHECK (id = 1),
        epoch  INTEGER,
        n      INTEGER,
        hash   TEXT,
        code   TEXT NOT NULL,
        reason TEXT NOT NULL,
        at     TEXT NOT NULL
      ) STRICT;

      -- Every state change of every occurrence (entryId, nominalStart) — the account of every minute.
      CREATE TABLE journal (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id      TEXT NOT NULL,
        nominal_start TEXT NOT NULL,
        state         TEXT NOT NULL,
        reason        TEXT,
        detail        TEXT,
        at            TEXT NOT NULL
      ) STRICT;
      CREATE INDEX journal_by_occurrence ON journal (entry_id, nominal_start, id);

      -- Outbox (DESIGN.md §4): AUTOINCREMENT so a seq is never reused after acked rows are deleted.
      CREATE TABLE outbox (
        seq               INTEGER PRIMARY KEY AUTOINCREMENT,
        type              TEXT NOT NULL,
        at                TEXT NOT NULL,
        body              TEXT NOT NULL,
        failures          INTEGER NOT NULL DEFAULT 0,
        quarantined_at    TEXT,
        quarantine_reason TEXT
      ) STRICT;

      -- Recordings catalogue: one recording per occurrence, made of segments (DOMAIN.md §4).
      CREATE TABLE recordings (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        entry_id      TEXT NOT NULL,
        nominal_start TEXT NOT NULL,
        title         TEXT,
        service       TEXT NOT NULL,
        service_id    INTEGER NOT NULL,
        dir           TEXT NOT NULL,
        planned_start TEXT NOT NULL,
        planned_end   TEXT NOT NULL,
        keep          INTEGER,
        state         TEXT NOT NULL CHECK (state IN ('running', 'finished')),
        outcome       TEXT CHECK (outcome IN ('completed', 'completed_with_errors', 'failed')),
        reason        TEXT,
        bytes         INTEGER NOT NULL DEFAULT 0,
        duration_ms   INTEGER NOT NULL DEFAULT 0,
        gaps_ms       INTEGER NOT NULL DEFAULT 0,
        quality       INTEGER CHECK (quality BETWEEN 0 AND 100),
        clock_trusted INTEGER NOT NULL DEFAULT 1,
        protected     INTEGER NOT NULL DEFAULT 0,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        UNIQUE (entry_id, nominal_start)
      ) STRICT;

      CREATE TABLE segments (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        recording_id  INTEGER NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
        file          TEXT NOT NULL,
        start         TEXT NOT NULL,
        end           TEXT,
        bytes         INTEGER NOT NULL DEFAULT 0,
        duration_ms   INTEGER NOT NULL DEFAULT 0,
        cc_errors     INTEGER NOT NULL DEFAULT 0,
        -- Input pauses inside the segment, as a JSON array of {from, to} (ms since the epoch).
        holes         TEXT NOT NULL DEFAULT '[]',
        gap_before_ms INTEGER NOT NULL DEFAULT 0,
        state         TEXT NOT NULL CHECK (state IN ('writing', 'closed', 'verified', 'damaged')),
        probe         TEXT,
        UNIQUE (recording_id, file)
      ) STRICT;

      -- Recorder processes (DESIGN.md §6 crash recovery): PID + kernel start time + boot id identify a
      -- process uniquely, so recovery never kills a PID that was reused by another program.
      CREATE TABLE recorder_processes (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        pid           INTEGER NOT NULL,
        start_ticks   INTEGER NOT NULL,
        boot_id       TEXT NOT NULL,
        cmdline       TEXT NOT NULL,
        recording_id  INTEGER,
        entry_id      TEXT,
        nominal_start TEXT,
        started_at    TEXT NOT NULL,
        ended_at      TEXT,
        end_reason    TEXT
      ) STRICT;
      CREATE INDEX recorder_processes_live ON recorder_processes (ended_at);

      -- rids of side-effecting RPCs (DESIGN.md §4 "RPC"): a redelivery answers from here, never runs twice.
      CREATE TABLE rpc_rids (
        rid       TEXT PRIMARY KEY,
        method    TEXT NOT NULL,
        state     TEXT NOT NULL CHECK (state IN ('running', 'done')),
        response  TEXT,
        at        TEXT NOT NULL,
        done_at   TEXT
      ) STRICT;
    `);
  },
};
