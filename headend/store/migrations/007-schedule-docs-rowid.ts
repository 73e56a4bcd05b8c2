/**
 * Migration 7: `schedule_docs` becomes a rowid table with a unique index on `(station_id, epoch, n)`, and a
 * document's bytes may be dropped once a newer version of the same station has been published.
 *
 * Why: migration 1 made it `WITHOUT ROWID` keyed by `(station_id, epoch, n)`, so every row — bytes
 * included, ~0.7–256 KiB — lives in the primary-key B-tree, clustered by station. Issuing a fleet-wide
 * version then inserts one large row in the middle of every station's run of pages: at 5 000 stations one
 * round grew from 90 ms to 720 ms by version 30 (page splits and a WAL that rewrites most of the table).
 * SQLite's own guidance is that WITHOUT ROWID suits rows smaller than ~1/20 of a page. With a rowid, new
 * versions append at the end of the table and only the small index is touched in the middle.
 *
 * Only the NEWEST document of a station is ever read back as bytes (republish, "did the content change?");
 * older versions are kept for their hash and issue time, which the desired-vs-applied status and the
 * `schedule_unknown_version` alarm need (DESIGN.md §4 "alarms if a station reports a version the headend
 * never issued"). So `doc` becomes nullable: the publisher clears it for versions superseded by a newer
 * published one (headend/store/schedules.ts `markPublished`), and the partial index finds those rows
 * without reading each station's history.
 */
export const migration = {
  version: 7,
  name: 'schedule-docs-rowid',
  up: `
CREATE TABLE schedule_docs_rowid (
  id           INTEGER PRIMARY KEY,
  station_id   TEXT NOT NULL REFERENCES stations (id),
  epoch        INTEGER NOT NULL CHECK (epoch >= 0),
  n            INTEGER NOT NULL CHECK (n >= 0),
  doc          BLOB,
  sha256       TEXT NOT NULL,
  issued_at    TEXT NOT NULL,
  published_at TEXT
);
INSERT INTO schedule_docs_rowid (station_id, epoch, n, doc, sha256, issued_at, published_at)
  SELECT station_id, epoch, n, doc, sha256, issued_at, published_at FROM schedule_docs
  ORDER BY epoch, n, station_id;
DROP TABLE schedule_docs;
ALTER TABLE schedule_docs_rowid RENAME TO schedule_docs;
CREATE UNIQUE INDEX schedule_docs_version ON schedule_docs (station_id, epoch, n);
CREATE INDEX schedule_docs_unpublished ON schedule_docs (published_at) WHERE published_at IS NULL;
CREATE INDEX schedule_docs_with_bytes ON schedule_docs (station_id, epoch, n) WHERE doc IS NOT NULL;
`,
} as const;
