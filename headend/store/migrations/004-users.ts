/**
 * Migration 4: people who use the web UI and the API (issue 6 "Access control", DESIGN.md §1, §7).
 *
 * - `users`: one row per person; the password only as a scrypt hash (DESIGN.md §7: "User passwords: scrypt").
 *   Roles: `admin`, `control-room`, `operator` (scoped to the stations in `user_stations`), `technician`.
 * - `user_stations`: the stations an operator owns (a township operator sees and schedules only these).
 * - `sessions`: browser sessions; only the SHA-256 of the cookie value is stored, so a copy of the database
 *   does not log anyone in. `csrf` is the per-session token the UI echoes in a header.
 * - `api_tokens`: bearer tokens for scripts, again stored as SHA-256 only, shown once at creation.
 * - `recording_requests`: protect / unprotect / delete asked for in the UI, forwarded to the station by RPC
 *   (`recordings.protect`, `recordings.delete`, DESIGN.md §6). A station that is disconnected gets it when
 *   it is back: the row stays `pending` until the station answered, so nothing asked for is lost.
 */
export const migration = {
  version: 4,
  name: 'users',
  up: `
CREATE TABLE users (
  id                  TEXT PRIMARY KEY,
  display_name        TEXT NOT NULL,
  role                TEXT NOT NULL CHECK (role IN ('admin', 'control-room', 'operator', 'technician')),
  password_hash       TEXT NOT NULL,
  locale              TEXT NOT NULL DEFAULT 'zh-CN' CHECK (locale IN ('zh-CN', 'en')),
  disabled_at         TEXT,
  password_changed_at TEXT NOT NULL,
  created_at          TEXT NOT NULL,
  updated_at          TEXT NOT NULL
);

CREATE TABLE user_stations (
  user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  station_id TEXT NOT NULL REFERENCES stations (id) ON DELETE CASCADE,
  PRIMARY KEY (user_id, station_id)
) WITHOUT ROWID;
CREATE INDEX user_stations_station ON user_stations (station_id);

CREATE TABLE sessions (
  token_sha256 TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf         TEXT NOT NULL,
  created_at   TEXT NOT NULL,
  last_seen_at TEXT NOT NULL,
  expires_at   TEXT NOT NULL,
  ip           TEXT,
  user_agent   TEXT
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

CREATE TABLE api_tokens (
  id           TEXT PRIMARY KEY,
  user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         TEXT NOT NULL,
  token_sha256 TEXT NOT NULL UNIQUE,
  created_at   TEXT NOT NULL,
  last_used_at TEXT,
  expires_at   TEXT,
  revoked_at   TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE recording_requests (
  id           INTEGER PRIMARY KEY,
  station_id   TEXT NOT NULL REFERENCES stations (id),
  recording_id TEXT NOT NULL,
  action       TEXT NOT NULL CHECK (action IN ('protect', 'unprotect', 'delete')),
  rid          TEXT NOT NULL UNIQUE,
  status       TEXT NOT NULL CHECK (status IN ('pending', 'done', 'failed', 'superseded')),
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  attempts     INTEGER NOT NULL DEFAULT 0,
  last_error   TEXT,
  updated_at   TEXT NOT NULL
);
CREATE INDEX recording_requests_pending ON recording_requests (station_id) WHERE status = 'pending';
CREATE INDEX recording_requests_recording ON recording_requests (station_id, recording_id);
`,
} as const;
