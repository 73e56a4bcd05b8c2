/**
 * Presence counters (DESIGN.md §4 "Presence"): `boot` grows once per agent start, `conn` once per broker
 * connection. Both are persisted and only ever incremented, so a Will or state carrying an older
 * `{n, conn}` than the headend last saw is recognisably stale.
 */
import type { Database } from 'better-sqlite3';
import type { Boot } from '../../protocol/messages/common.js';

export class CountersRepo {
  constructor(private readonly db: Database) {}

  private bump(name: 'boot' | 'conn'): number {
    const r = this.db
      .prepare('UPDATE counters SET value = value + 1 WHERE name = ? RETURNING value')
      .get(name) as { value: number };
    return r.value;
  }

  /** Increments and returns the boot counter (call once per agent start). */
  nextBoot(): number {
    return this.bump('boot');
  }

  /** Increments and returns the connection counter (call once per broker connection). */
  nextConn(): number {
    return this.bump('conn');
  }

  /** Current `{n, conn}` without changing them. */
  current(): Boot {
    const rows = this.db.prepare('SELECT name, value FROM counters').all() as {
      name: string;
      value: number;
    }[];
    const get = (name: string) => rows.find((r) => r.name === name)?.value ?? 0;
    return { n: get('boot'), conn: get('conn') };
  }
}
