/**
 * The `entries` and `entry_stations` tables (migration 1): identity, revision, class, target and audit
 * fields as columns, the specification as zod-checked JSON. `entry_stations` holds the stations the target
 * resolved to when the entry was last saved, so an edit knows every station that had it before (DESIGN.md
 * §5: a station that loses an entry needs a new document too). Deleting is soft: the row stays for audit
 * and for the recordings that name it.
 */
import type { Database } from 'better-sqlite3';
import { EntrySpec, Target } from './entry-schema.js';

/** One stored entry. */
export interface StoredEntry {
  id: string;
  rev: number;
  spec: EntrySpec;
  target: Target;
  /** Stations the target resolved to at the last save. */
  stations: string[];
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  deletedAt: string | null;
}

interface Row {
  id: string;
  rev: number;
  kind: string;
  priority_class: string;
  priority: number;
  target_json: string;
  spec_json: string;
  created_by: string;
  created_at: string;
  updated_at: string;
  deleted_at: string | null;
}

export interface EntriesRepo {
  get(id: string): StoredEntry | undefined;
  /** Live (not deleted) entries, newest first; filtered to one station when given. */
  list(opts?: { stationId?: string; includeDeleted?: boolean }): StoredEntry[];
  /** Live entries of a station (what its document holds). */
  forStation(stationId: string): StoredEntry[];
  /** Live entries linked to the guide (programme or series). */
  guideLinked(): StoredEntry[];
  insert(e: Omit<StoredEntry, 'rev' | 'deletedAt' | 'updatedAt'>): void;
  /** Writes a new revision and the resolved stations. */
  update(
    id: string,
    rev: number,
    spec: EntrySpec,
    target: Target,
    stations: readonly string[],
    at: string,
  ): void;
  softDelete(id: string, at: string): void;
}

export function createEntriesRepo(db: Database): EntriesRepo {
  const byId = db.prepare<[string], Row>('SELECT * FROM entries WHERE id = ?');
  const stationsOf = db.prepare<[string], { station_id: string }>(
    'SELECT station_id FROM entry_stations WHERE entry_id = ? ORDER BY station_id',
  );
  const forStation = db.prepare<[string], Row>(
    `SELECT e.* FROM entries e JOIN entry_stations s ON s.entry_id = e.id
     WHERE s.station_id = ? AND e.deleted_at IS NULL ORDER BY e.id`,
  );
  const ins = db.prepare(`INSERT INTO entries
    (id, rev, kind, priority_class, priority, target_json, spec_json, created_by, created_at, updated_at)
    VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const upd = db.prepare(`UPDATE entries SET rev = ?, kind = ?, priority_class = ?, priority = ?,
    target_json = ?, spec_json = ?, updated_at = ? WHERE id = ?`);
  const delStations = db.prepare('DELETE FROM entry_stations WHERE entry_id = ?');
  const insStation = db.prepare('INSERT INTO entry_stations (entry_id, station_id) VALUES (?, ?)');
  const softDel = db.prepare('UPDATE entries SET deleted_at = ?, updated_at = ? WHERE id = ?');

  const toEntry = (r: Row): StoredEntry => ({
    id: r.id,
    rev: r.rev,
    spec: EntrySpec.parse(JSON.parse(r.spec_json)),
    target: Target.parse(JSON.parse(r.target_json)),
    stations: stationsOf.all(r.id).map((s) => s.station_id),
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    deletedAt: r.deleted_at,
  });
  const setStations = (id: string, stations: readonly string[]) => {
    // Most edits keep the target: rewriting a fleet-wide entry's 102 rows each time would be waste.
    const cur = stationsOf.all(id).map((r) => r.station_id);
    const next = [...stations].sort();
    if (cur.length === next.length && cur.every((s, i) => s === next[i])) return;
    delStations.run(id);
    for (const s of stations) insStation.run(id, s);
  };

  return {
    get(id) {
      const r = byId.get(id);
      return r ? toEntry(r) : undefined;
    },
    list(opts = {}) {
      const where: string[] = [];
      const args: string[] = [];
      if (!opts.includeDeleted) where.push('e.deleted_at IS NULL');
      if (opts.stationId !== undefined) {
        where.push('EXISTS (SELECT 1 FROM entry_stations s WHERE s.entry_id = e.id AND s.station_id = ?)');
        args.push(opts.stationId);
      }
      const sql = `SELECT e.* FROM entries e ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY e.created_at DESC, e.id`;
      return (db.prepare(sql).all(...args) as Row[]).map(toEntry);
    },
    forStation: (stationId) => forStation.all(stationId).map(toEntry),
    guideLinked: () =>
      (
        db
          .prepare(
            `SELECT * FROM entries WHERE deleted_at IS NULL
             AND json_extract(spec_json, '$.when.type') IN ('programme', 'series') ORDER BY id`,
          )
          .all() as Row[]
      ).map(toEntry),
    insert(e) {
      ins.run(
        e.id,
        e.spec.kind,
        e.spec.class,
        e.spec.priority,
        JSON.stringify(e.target),
        JSON.stringify(e.spec),
        e.createdBy,
        e.createdAt,
        e.createdAt,
      );
      setStations(e.id, e.stations);
    },
    update(id, rev, spec, target, stations, at) {
      upd.run(
        rev,
        spec.kind,
        spec.class,
        spec.priority,
        JSON.stringify(target),
        JSON.stringify(spec),
        at,
        id,
      );
      setStations(id, stations);
    },
    softDelete(id, at) {
      softDel.run(at, at, id);
    },
  };
}
