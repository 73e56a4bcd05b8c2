/**
 * Recorder processes (DESIGN.md §6 "Crash and power-cut recovery"): ffmpeg survives its parent's kill -9
 * (it ignores SIGPIPE), so every spawned recorder is journalled with what identifies it beyond a PID that
 * the kernel may reuse — its start time in clock ticks since boot (/proc/PID/stat field 22), the boot id,
 * and its command line. device/recovery/orphans.ts reads the live rows at start.
 */
import type { Database } from 'better-sqlite3';

export interface RecorderProcessRow {
  id: number;
  pid: number;
  /** /proc/PID/stat `starttime` (clock ticks after boot). */
  startTicks: number;
  /** /proc/sys/kernel/random/boot_id of the boot it ran in. */
  bootId: string;
  /** argv joined with NUL, as /proc/PID/cmdline shows it (without the trailing NUL). */
  cmdline: string;
  recordingId: number | null;
  entryId: string | null;
  nominalStart: string | null;
  startedAt: string;
  endedAt: string | null;
  endReason: string | null;
}

export type NewRecorderProcess = Omit<RecorderProcessRow, 'id' | 'endedAt' | 'endReason'>;

interface RawRow {
  id: number;
  pid: number;
  start_ticks: number;
  boot_id: string;
  cmdline: string;
  recording_id: number | null;
  entry_id: string | null;
  nominal_start: string | null;
  started_at: string;
  ended_at: string | null;
  end_reason: string | null;
}

function toRow(r: RawRow): RecorderProcessRow {
  return {
    id: r.id,
    pid: r.pid,
    startTicks: r.start_ticks,
    bootId: r.boot_id,
    cmdline: r.cmdline,
    recordingId: r.recording_id,
    entryId: r.entry_id,
    nominalStart: r.nominal_start,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    endReason: r.end_reason,
  };
}

export class RecorderProcessesRepo {
  constructor(private readonly db: Database) {}

  /** Journals a spawned recorder; committed before it is relied upon. */
  register(p: NewRecorderProcess): RecorderProcessRow {
    const r = this.db
      .prepare(
        `INSERT INTO recorder_processes (pid, start_ticks, boot_id, cmdline, recording_id, entry_id,
           nominal_start, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
      )
      .get(
        p.pid,
        p.startTicks,
        p.bootId,
        p.cmdline,
        p.recordingId,
        p.entryId,
        p.nominalStart,
        p.startedAt,
      ) as RawRow;
    return toRow(r);
  }

  /** Marks a journalled process as gone (it exited, or recovery killed or dismissed it). */
  markEnded(id: number, at: string, reason: string): void {
    this.db
      .prepare('UPDATE recorder_processes SET ended_at = ?, end_reason = ? WHERE id = ? AND ended_at IS NULL')
      .run(at, reason, id);
  }

  /** Processes not known to have ended. */
  live(): RecorderProcessRow[] {
    const rows = this.db
      .prepare('SELECT * FROM recorder_processes WHERE ended_at IS NULL ORDER BY id')
      .all() as RawRow[];
    return rows.map(toRow);
  }

  /** Every row of one recording, oldest first (how many times it was started). */
  ofRecording(recordingId: number): RecorderProcessRow[] {
    const rows = this.db
      .prepare('SELECT * FROM recorder_processes WHERE recording_id = ? ORDER BY id')
      .all(recordingId) as RawRow[];
    return rows.map(toRow);
  }

  /** Forgets ended rows older than `beforeIso`. */
  prune(beforeIso: string): number {
    return this.db
      .prepare('DELETE FROM recorder_processes WHERE ended_at IS NOT NULL AND ended_at < ?')
      .run(beforeIso).changes;
  }
}
