/**
 * The recordings disk judged continuously (DOMAIN.md §6 "Disk full / read-only filesystem: free space
 * before and during jobs; EROFS … alarm"), not only when a recording starts. Every measurement of the disk
 * — the telemetry sample each telemetry period, a space check before a recording, the retention sweep, the
 * `disk.usage` RPC — is fed here (DiskGuard `onMeasure`):
 *
 * - `filesystem_read_only` is raised once the filesystem has refused writes (EROFS) for `raiseHoldMs` and
 *   cleared once it has been writable for `clearHoldMs` (timing profile `alarmRaiseHoldMs` /
 *   `alarmClearHoldMs`), so a remount by a technician, or an fsck that brought it back rw, clears the alarm
 *   while the agent runs. A recording refused on a read-only disk raises it at once (the executor), and the
 *   writable measurements after that clear it the same way.
 * - `disk_full` is raised by the refusal itself (a recording that could not start); it is cleared here once
 *   the measurements show room for a recording again for `clearHoldMs` (retention ran, a technician freed
 *   space), instead of waiting for the next recording to start.
 *
 * An alarm the previous run left active (restored by device/agent/alarms.ts) is confirmed by a measurement
 * that still sees its condition, so the restart reconciliation no longer clears a disk that is still
 * read-only ("not seen again"); a measurement that sees the condition gone clears it after the hold.
 */
import type { Logger } from 'pino';
import type { AlarmKind } from '../../protocol/registry.js';
import { type DiskUsage, shortfall } from './disk.js';

type Evidence = Record<string, number | string | boolean | null>;

/** The part of the station alarms (device/link/alarms.ts StationAlarms) the watch uses. */
export interface DiskAlarmSink {
  raise(kind: AlarmKind, message: string, evidence?: Evidence): void;
  clear(kind: AlarmKind, evidence?: Evidence): void;
  isRaised(kind: AlarmKind): boolean;
}

export interface DiskWatchDeps {
  alarms: DiskAlarmSink;
  /** The recordings root, named in messages. */
  root: string;
  /** Bytes a recording needs to start (what the executor asks `ensureSpace` for). */
  recordingNeedBytes: number;
  /** Timing profile `alarmRaiseHoldMs`: EROFS must persist this long before the alarm. */
  raiseHoldMs: number;
  /** Timing profile `alarmClearHoldMs`: the condition must be gone this long before the alarm clears. */
  clearHoldMs: number;
  /** Monotonic ms (Clock.monotonic): holds must not jump with the wall clock. */
  monotonic: () => number;
  logger: Logger;
}

/** Raise/clear hold for one condition observed at irregular instants. */
class Hold {
  private presentSince: number | null = null;
  private absentSince: number | null = null;

  /** Observes presence; returns how long the condition has held (0 when absent). */
  present(now: number): number {
    this.absentSince = null;
    this.presentSince ??= now;
    return now - this.presentSince;
  }

  /** Observes absence; returns how long the condition has been gone. */
  absent(now: number): number {
    this.presentSince = null;
    this.absentSince ??= now;
    return now - this.absentSince;
  }

  reset(): void {
    this.absentSince = null;
  }
}

export class DiskWatch {
  private readonly readOnly = new Hold();
  private readonly full = new Hold();

  constructor(private readonly deps: DiskWatchDeps) {}

  /** One measurement of the recordings disk. */
  observe(u: DiskUsage): void {
    const now = this.deps.monotonic();
    this.observeReadOnly(u, now);
    this.observeSpace(u, now);
  }

  private observeReadOnly(u: DiskUsage, now: number): void {
    const { alarms, root } = this.deps;
    if (u.readOnly) {
      const heldMs = this.readOnly.present(now);
      // Raising an active alarm again sends nothing; it confirms one restored after a restart.
      if (alarms.isRaised('filesystem_read_only') || heldMs >= this.deps.raiseHoldMs) {
        alarms.raise(
          'filesystem_read_only',
          `recordings filesystem ${root} is read-only (EROFS): no recording can be written`,
          { root, heldMs },
        );
      }
      return;
    }
    if (!alarms.isRaised('filesystem_read_only')) {
      this.readOnly.reset();
      return;
    }
    const goneMs = this.readOnly.absent(now);
    if (goneMs >= this.deps.clearHoldMs) {
      this.readOnly.reset();
      this.deps.logger.info({ root }, 'recordings filesystem writable again');
      alarms.clear('filesystem_read_only', { reason: `${root} is writable again`, writableForMs: goneMs });
    }
  }

  private observeSpace(u: DiskUsage, now: number): void {
    const { alarms } = this.deps;
    if (!alarms.isRaised('disk_full')) {
      this.full.reset();
      return;
    }
    const short = u.readOnly ? this.deps.recordingNeedBytes : shortfall(u, this.deps.recordingNeedBytes);
    if (short > 0) {
      this.full.present(now);
      alarms.raise('disk_full', `${short} bytes short of room for a recording`, { shortBytes: short });
      return;
    }
    const goneMs = this.full.absent(now);
    if (goneMs >= this.deps.clearHoldMs) {
      this.full.reset();
      alarms.clear('disk_full', {
        reason: 'room for a recording again',
        freeBytes: u.freeBytes,
        usedBytes: u.usedBytes,
        quotaBytes: u.quotaBytes,
      });
    }
  }
}
