/**
 * The recordings catalogue: one recording per occurrence, made of segment files (DOMAIN.md §4). A resume
 * after a crash adds segments to the same recording (DESIGN.md §6). Retention and the recordings.* RPCs
 * read and change it; `finish` takes a transaction so the manifest event commits with the outcome.
 */
import type { Database } from 'better-sqlite3';
import type { RecordingOutcome } from '../../protocol/registry.js';
import { StoreError } from './errors.js';
import { assertInTransaction, type StoreTx } from './tx.js';

export type SegmentState = 'writing' | 'closed' | 'verified' | 'damaged';

export interface Recording {
  id: number;
  entryId: string;
  nominalStart: string;
  title: string | null;
  service: string;
  serviceId: number;
  /** Directory of the segment files, relative to the recordings root. */
  dir: string;
  plannedStart: string;
  plannedEnd: string;
  /** keep-N of the entry when recorded (retention keeps the newest N of an entry), null = no limit. */
  keep: number | null;
  state: 'running' | 'finished';
  outcome: RecordingOutcome | null;
  reason: string | null;
  bytes: number;
  durationMs: number;
  gapsMs: number;
  quality: number | null;
  clockTrusted: boolean;
  protected: boolean;
  startedAt: string;
  finishedAt: string | null;
}

export interface Segment {
  id: number;
  recordingId: number;
  /** File name relative to the recordings root. */
  file: string;
  start: string;
  end: string | null;
  bytes: number;
  durationMs: number;
  ccErrors: number;
  /** Input pauses inside the segment (ms since the epoch). */
  holes: { from: number; to: number }[];
  /** Time missing just before this segment (restart after a stall, a crash, a PMT change). */
  gapBeforeMs: number;
  state: SegmentState;
  /** ffprobe's verdict (device/recorder/probe.ts), as stored JSON. */
  probe: unknown;
}

export interface NewRecording {
  entryId: string;
  nominalStart: string;
  title?: string;
  service: string;
  serviceId: number;
  dir: string;
  plannedStart: string;
  plannedEnd: string;
  keep?: number;
  startedAt: string;
  clockTrusted: boolean;
}

export interface RecordingResult {
  outcome: RecordingOutcome;
  reason?: string;
  bytes: number;
  durationMs: number;
  gapsMs: number;
  quality: number;
  clockTrusted: boolean;
  finishedAt: string;
}

interface RawRecording {
  id: number;
  entry_id: string;
  nominal_start: string;
  title: string | null;
  service: string;
  service_id: number;
  dir: string;
  planned_start: string;
  planned_end: string;
  keep: number | null;
  state: 'running' | 'finished';
  outcome: RecordingOutcome | null;
  reason: string | null;
  bytes: number;
  duration_ms: number;
  gaps_ms: number;
  quality: number | null;
  clock_trusted: number;
  protected: number;
  started_at: string;
  finished_at: string | null;
}

interface RawSegment {
  id: number;
  recording_id: number;
  file: string;
  start: string;
  end: string | null;
  bytes: number;
  duration_ms: number;
  cc_errors: number;
  holes: string;
  gap_before_ms: number;
  state: SegmentState;
  probe: string | null;
}

function toRecording(r: RawRecording): Recording {
  return {
    id: r.id,
    entryId: r.entry_id,
    nominalStart: r.nominal_start,
    title: r.title,
    service: r.service,
    serviceId: r.service_id,
    dir: r.dir,
    plannedStart: r.planned_start,
    plannedEnd: r.planned_end,
    keep: r.keep,
    state: r.state,
    outcome: r.outcome,
    reason: r.reason,
    bytes: r.bytes,
    durationMs: r.duration_ms,
    gapsMs: r.gaps_ms,
    quality: r.quality,
    clockTrusted: r.clock_trusted === 1,
    protected: r.protected === 1,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

function toSegment(r: RawSegment): Segment {
  return {
    id: r.id,
    recordingId: r.recording_id,
    file: r.file,
    start: r.start,
    end: r.end,
    bytes: r.bytes,
    durationMs: r.duration_ms,
    ccErrors: r.cc_errors,
    holes: JSON.parse(r.holes) as { from: number; to: number }[],
    gapBeforeMs: r.gap_before_ms,
    state: r.state,
    probe: r.probe === null ? null : JSON.parse(r.probe),
  };
}

export class RecordingsRepo {
  constructor(private readonly db: Database) {}

  /**
   * The running recording of an occurrence, created if absent. `resumed` is true when one already existed
   * (the agent restarted mid-recording): new segments go to the same recording. A finished recording is
   * never reopened (CONFLICT).
   */
  open(r: NewRecording): { recording: Recording; resumed: boolean } {
    const existing = this.byOccurrence(r.entryId, r.nominalStart);
    if (existing) {
      if (existing.state === 'finished') {
        throw new StoreError(
          'CONFLICT',
          `recording ${existing.id} of ${r.entryId}@${r.nominalStart} is already finished (${existing.outcome})`,
        );
      }
      return { recording: existing, resumed: true };
    }
    const row = this.db
      .prepare(
        `INSERT INTO recordings (entry_id, nominal_start, title, service, service_id, dir, planned_start,
           planned_end, keep, state, clock_trusted, started_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'running', ?, ?) RETURNING *`,
      )
      .get(
        r.entryId,
        r.nominalStart,
        r.title ?? null,
        r.service,
        r.serviceId,
        r.dir,
        r.plannedStart,
        r.plannedEnd,
        r.keep ?? null,
        r.clockTrusted ? 1 : 0,
        r.startedAt,
      ) as RawRecording;
    return { recording: toRecording(row), resumed: false };
  }

  get(id: number): Recording | undefined {
    const r = this.db.prepare('SELECT * FROM recordings WHERE id = ?').get(id) as RawRecording | undefined;
    return r ? toRecording(r) : undefined;
  }

  byOccurrence(entryId: string, nominalStart: string): Recording | undefined {
    const r = this.db
      .prepare('SELECT * FROM recordings WHERE entry_id = ? AND nominal_start = ?')
      .get(entryId, nominalStart) as RawRecording | undefined;
    return r ? toRecording(r) : undefined;
  }

  /** Recordings newest first, optionally of one entry or state. */
  list(filter: { entryId?: string; state?: 'running' | 'finished'; limit?: number } = {}): Recording[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM recordings
          WHERE (@entryId IS NULL OR entry_id = @entryId) AND (@state IS NULL OR state = @state)
          ORDER BY planned_start DESC, id DESC LIMIT @limit`,
      )
      .all({
        entryId: filter.entryId ?? null,
        state: filter.state ?? null,
        limit: filter.limit ?? -1,
      }) as RawRecording[];
    return rows.map(toRecording);
  }

  /** Moves the planned end of a running recording (an edit that extends or ends early, DESIGN.md §5). */
  setPlannedEnd(id: number, plannedEnd: string): void {
    const info = this.db
      .prepare("UPDATE recordings SET planned_end = ? WHERE id = ? AND state = 'running'")
      .run(plannedEnd, id);
    if (info.changes === 0) throw this.notRunning(id);
  }

  /** Sets or clears the protection against retention. */
  setProtected(id: number, value: boolean): Recording {
    const r = this.db
      .prepare('UPDATE recordings SET protected = ? WHERE id = ? RETURNING *')
      .get(value ? 1 : 0, id) as RawRecording | undefined;
    if (!r) throw new StoreError('NOT_FOUND', `no recording ${id}`);
    return toRecording(r);
  }

  /** Records the outcome; `tx` so the `recording.manifest` event commits with it. */
  finish(tx: StoreTx, id: number, result: RecordingResult): Recording {
    assertInTransaction(this.db, tx, 'recordings.finish');
    const r = this.db
      .prepare(
        `UPDATE recordings SET state = 'finished', outcome = ?, reason = ?, bytes = ?, duration_ms = ?,
           gaps_ms = ?, quality = ?, clock_trusted = ?, finished_at = ?
         WHERE id = ? AND state = 'running' RETURNING *`,
      )
      .get(
        result.outcome,
        result.reason ?? null,
        result.bytes,
        result.durationMs,
        result.gapsMs,
        Math.round(result.quality),
        result.clockTrusted ? 1 : 0,
        result.finishedAt,
        id,
      ) as RawRecording | undefined;
    if (!r) throw this.notRunning(id);
    return toRecording(r);
  }

  /**
   * Removes a finished recording's rows (segments cascade). The caller deletes the files first; a running
   * recording cannot be removed (CONFLICT) — retention never touches a running one (DESIGN.md §6).
   */
  remove(id: number): void {
    const rec = this.get(id);
    if (!rec) throw new StoreError('NOT_FOUND', `no recording ${id}`);
    if (rec.state === 'running') throw new StoreError('CONFLICT', `recording ${id} is running`);
    this.db.prepare('DELETE FROM recordings WHERE id = ?').run(id);
  }

  /** Adds a segment file being written (state `writing`). */
  addSegment(recordingId: number, s: { file: string; start: string; gapBeforeMs?: number }): Segment {
    const r = this.db
      .prepare(
        `INSERT INTO segments (recording_id, file, start, gap_before_ms, state) VALUES (?, ?, ?, ?, 'writing')
         ON CONFLICT (recording_id, file) DO UPDATE SET start = excluded.start RETURNING *`,
      )
      .get(recordingId, s.file, s.start, s.gapBeforeMs ?? 0) as RawSegment;
    return toSegment(r);
  }

  /** The segment row of `file` in a recording, if any. */
  segmentByFile(recordingId: number, file: string): Segment | undefined {
    const r = this.db
      .prepare('SELECT * FROM segments WHERE recording_id = ? AND file = ?')
      .get(recordingId, file) as RawSegment | undefined;
    return r ? toSegment(r) : undefined;
  }

  /** Updates a segment's figures (growth while writing, or the final figures and verdict). */
  updateSegment(
    id: number,
    u: Partial<
      Pick<Segment, 'start' | 'end' | 'bytes' | 'durationMs' | 'ccErrors' | 'holes' | 'state' | 'probe'>
    >,
  ): Segment {
    const cur = this.db.prepare('SELECT * FROM segments WHERE id = ?').get(id) as RawSegment | undefined;
    if (!cur) throw new StoreError('NOT_FOUND', `no segment ${id}`);
    const r = this.db
      .prepare(
        `UPDATE segments SET start = ?, end = ?, bytes = ?, duration_ms = ?, cc_errors = ?, holes = ?, state = ?,
           probe = ? WHERE id = ? RETURNING *`,
      )
      .get(
        u.start ?? cur.start,
        u.end !== undefined ? u.end : cur.end,
        u.bytes ?? cur.bytes,
        u.durationMs ?? cur.duration_ms,
        u.ccErrors ?? cur.cc_errors,
        u.holes !== undefined ? JSON.stringify(u.holes) : cur.holes,
        u.state ?? cur.state,
        u.probe !== undefined ? JSON.stringify(u.probe) : cur.probe,
        id,
      ) as RawSegment;
    return toSegment(r);
  }

  /** Segments of a recording in recording order. */
  segments(recordingId: number): Segment[] {
    const rows = this.db
      .prepare('SELECT * FROM segments WHERE recording_id = ? ORDER BY start, id')
      .all(recordingId) as RawSegment[];
    return rows.map(toSegment);
  }

  /** Bytes the catalogue accounts for (segment sizes), and the number of recordings. */
  usage(): { bytes: number; recordings: number } {
    const r = this.db
      .prepare(
        'SELECT (SELECT COALESCE(SUM(bytes), 0) FROM segments) AS b, (SELECT COUNT(*) FROM recordings) AS n',
      )
      .get() as { b: number; n: number };
    return { bytes: r.b, recordings: r.n };
  }

  private notRunning(id: number): StoreError {
    const rec = this.get(id);
    return rec
      ? new StoreError('CONFLICT', `recording ${id} is not running (${rec.state})`)
      : new StoreError('NOT_FOUND', `no recording ${id}`);
  }
}
