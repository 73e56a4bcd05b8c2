/**
 * The station's active alarms, kept in `meta` so they outlive the agent (DOMAIN.md §6 "Power cut": a station
 * alarm raised before an unclean stop must still be cleared by the next run, or it would stay active at the
 * headend until the station database changed). Written in the same transaction as the `alarm.raised` /
 * `alarm.cleared` event that changes it (device/link/alarms.ts), so the stored set and the outbox agree.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { StationAlarmKind } from '../../protocol/registry.js';
import { assertInTransaction, type StoreTx } from './tx.js';

const KEY = 'active_alarms';

const ActiveAlarmSchema = z.object({
  alarmId: z.string().min(1).max(64),
  kind: StationAlarmKind,
  receiverId: z.string().max(64).optional(),
  raisedAt: z.string(),
});
export type ActiveAlarm = z.infer<typeof ActiveAlarmSchema>;

export class AlarmStateRepo {
  constructor(private readonly db: Database) {}

  /** The alarms active when the last change was committed; a damaged row reads as none (logged by caller). */
  load(): { alarms: ActiveAlarm[]; damaged: boolean } {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(KEY) as
      | { value: string }
      | undefined;
    if (!row) return { alarms: [], damaged: false };
    try {
      const r = z.array(ActiveAlarmSchema).safeParse(JSON.parse(row.value));
      return r.success ? { alarms: r.data, damaged: false } : { alarms: [], damaged: true };
    } catch {
      return { alarms: [], damaged: true };
    }
  }

  /** Replaces the stored set; inside the transaction that appends the event. */
  save(tx: StoreTx, alarms: readonly ActiveAlarm[]): void {
    assertInTransaction(this.db, tx, 'alarmState.save');
    this.db
      .prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)')
      .run(KEY, JSON.stringify(alarms));
  }
}
