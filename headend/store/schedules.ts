/**
 * Issued schedule documents, one row per station per version `{epoch, n}` (DESIGN.md §4 "Desired state"):
 * the exact bytes published and their SHA-256, which stations report back for what they applied. `n` only
 * grows within an epoch; a restore starts a new epoch (meta.ts), so the next document of every station is
 * `{newEpoch, 1}` and stations accept it as newer. `published_at` is the outbox flag: null until the broker
 * accepted the retained publish.
 */
import { createHash } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { ScheduleVersion } from '../../protocol/messages/common.js';
import { StoreError } from './errors.js';
import { createMetaRepo } from './meta.js';

/** One issued document. */
export interface IssuedDoc {
  stationId: string;
  version: ScheduleVersion;
  /** The payload bytes exactly as published. */
  doc: Buffer;
  /** Lower-case hex SHA-256 of `doc`. */
  sha256: string;
  issuedAt: string;
  publishedAt: string | null;
}

/** Repo over `schedule_docs`. */
export interface SchedulesRepo {
  /** The version the next document of `stationId` gets (current epoch; n + 1 within it, else 1). */
  nextVersion(stationId: string): ScheduleVersion;
  /**
   * Issues the next document: `build` gets the version and returns the payload bytes (or a string, UTF-8).
   * Runs in one transaction, so callers can commit their own change and the new version together by calling
   * it inside their transaction (DESIGN.md §7 outbox).
   */
  issue(stationId: string, build: (version: ScheduleVersion) => Buffer | string): IssuedDoc;
  /** The newest document of a station (any epoch), or undefined. */
  latest(stationId: string): IssuedDoc | undefined;
  /** The newest document of every station: what the headend republishes at start and on reconnect. */
  latestAll(): IssuedDoc[];
  /** Newest documents not yet accepted by the broker. */
  unpublished(): IssuedDoc[];
  markPublished(stationId: string, version: ScheduleVersion): void;
  /** Was this version (and, when given, this hash) ever issued to the station? */
  wasIssued(stationId: string, version: ScheduleVersion, sha256?: string): boolean;
  /** Stations whose newest document is from an older epoch than the current one (after a restore). */
  staleEpochStations(): string[];
}

interface Row {
  station_id: string;
  epoch: number;
  n: number;
  doc: Buffer;
  sha256: string;
  issued_at: string;
  published_at: string | null;
}

const toDoc = (r: Row): IssuedDoc => ({
  stationId: r.station_id,
  version: { epoch: r.epoch, n: r.n },
  doc: r.doc,
  sha256: r.sha256,
  issuedAt: r.issued_at,
  publishedAt: r.published_at,
});

export function createSchedulesRepo(db: Database, now: () => Date = () => new Date()): SchedulesRepo {
  const meta = createMetaRepo(db);
  const latestStmt = db.prepare<[string], Row>(
    'SELECT * FROM schedule_docs WHERE station_id = ? ORDER BY epoch DESC, n DESC LIMIT 1',
  );
  const newestPerStation = `SELECT d.* FROM schedule_docs d
    WHERE NOT EXISTS (SELECT 1 FROM schedule_docs e WHERE e.station_id = d.station_id
      AND (e.epoch > d.epoch OR (e.epoch = d.epoch AND e.n > d.n)))`;
  const stationExists = db.prepare<[string], { id: string }>('SELECT id FROM stations WHERE id = ?');
  const ins = db.prepare(
    'INSERT INTO schedule_docs (station_id, epoch, n, doc, sha256, issued_at) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const repo: SchedulesRepo = {
    nextVersion(stationId) {
      const epoch = meta.scheduleEpoch();
      const last = latestStmt.get(stationId);
      if (last && last.epoch > epoch) {
        throw new StoreError(
          'CONFLICT',
          `station ${stationId} has a document of epoch ${last.epoch} > current ${epoch}`,
        );
      }
      return { epoch, n: last && last.epoch === epoch ? last.n + 1 : 1 };
    },
    issue(stationId, build) {
      return db.transaction(() => {
        if (!stationExists.get(stationId)) throw new StoreError('NOT_FOUND', `no station ${stationId}`);
        const version = repo.nextVersion(stationId);
        const built = build(version);
        const doc = typeof built === 'string' ? Buffer.from(built, 'utf8') : built;
        const sha256 = createHash('sha256').update(doc).digest('hex');
        const issuedAt = now().toISOString();
        ins.run(stationId, version.epoch, version.n, doc, sha256, issuedAt);
        return { stationId, version, doc, sha256, issuedAt, publishedAt: null };
      })();
    },
    latest(stationId) {
      const r = latestStmt.get(stationId);
      return r ? toDoc(r) : undefined;
    },
    latestAll: () => (db.prepare(`${newestPerStation} ORDER BY d.station_id`).all() as Row[]).map(toDoc),
    unpublished: () =>
      (db.prepare(`${newestPerStation} AND d.published_at IS NULL ORDER BY d.issued_at`).all() as Row[]).map(
        toDoc,
      ),
    markPublished(stationId, version) {
      db.prepare(
        'UPDATE schedule_docs SET published_at = COALESCE(published_at, ?) WHERE station_id = ? AND epoch = ? AND n = ?',
      ).run(now().toISOString(), stationId, version.epoch, version.n);
    },
    wasIssued(stationId, version, sha256) {
      const r = db
        .prepare<[string, number, number], { sha256: string }>(
          'SELECT sha256 FROM schedule_docs WHERE station_id = ? AND epoch = ? AND n = ?',
        )
        .get(stationId, version.epoch, version.n);
      return r !== undefined && (sha256 === undefined || r.sha256 === sha256);
    },
    staleEpochStations() {
      const epoch = meta.scheduleEpoch();
      return (
        db.prepare(`${newestPerStation} AND d.epoch < ? ORDER BY d.station_id`).all(epoch) as Row[]
      ).map((r) => r.station_id);
    },
  };
  return repo;
}
