/**
 * Station state history: every presence/state message as received (DESIGN.md §4 Presence), so the fleet
 * board can show when a station went away and came back, and a technician can read what it reported.
 * Deciding whether a Will is stale (`boot` ordering) is the presence module's job; this only records.
 */
import type { Database } from 'better-sqlite3';
import type { Boot } from '../../protocol/messages/common.js';

/** One recorded state. */
export interface StateRecord {
  id: number;
  stationId: string;
  /** When the headend received it (UTC `Z`). */
  at: string;
  online: boolean;
  boot: Boot | null;
  /** The payload as received (JSON text). */
  payload: string;
}

/** Repo over `station_state`. */
export interface StateHistoryRepo {
  append(r: { stationId: string; online: boolean; boot?: Boot | null; payload: string; at?: string }): number;
  latest(stationId: string): StateRecord | undefined;
  /** Newest first. */
  history(stationId: string, limit?: number): StateRecord[];
  /** Deletes records older than `before` (retention), keeping each station's latest. Returns rows deleted. */
  prune(before: string): number;
}

interface Row {
  id: number;
  station_id: string;
  at: string;
  online: number;
  boot_n: number | null;
  boot_conn: number | null;
  payload: string;
}

const toRecord = (r: Row): StateRecord => ({
  id: r.id,
  stationId: r.station_id,
  at: r.at,
  online: r.online === 1,
  boot: r.boot_n === null || r.boot_conn === null ? null : { n: r.boot_n, conn: r.boot_conn },
  payload: r.payload,
});

export function createStateHistoryRepo(db: Database, now: () => Date = () => new Date()): StateHistoryRepo {
  const ins = db.prepare(
    'INSERT INTO station_state (station_id, at, online, boot_n, boot_conn, payload) VALUES (?, ?, ?, ?, ?, ?)',
  );
  const hist = db.prepare<[string, number], Row>(
    'SELECT * FROM station_state WHERE station_id = ? ORDER BY id DESC LIMIT ?',
  );
  return {
    append: (r) =>
      Number(
        ins.run(
          r.stationId,
          r.at ?? now().toISOString(),
          r.online ? 1 : 0,
          r.boot?.n ?? null,
          r.boot?.conn ?? null,
          r.payload,
        ).lastInsertRowid,
      ),
    latest(stationId) {
      const r = hist.get(stationId, 1);
      return r ? toRecord(r) : undefined;
    },
    history: (stationId, limit = 100) => hist.all(stationId, limit).map(toRecord),
    prune: (before) =>
      db
        .prepare(`DELETE FROM station_state WHERE at < ? AND id NOT IN
          (SELECT MAX(id) FROM station_state GROUP BY station_id)`)
        .run(before).changes,
  };
}
