/**
 * The recordings catalogue: what each station recorded, fed by the recording manifests the stations send
 * as events (DESIGN.md §4 events, §6 Recorder). A manifest may arrive more than once and out of order
 * (a `completed` after a later `deleted` never resurrects it): `upsert` keeps the row whose `updatedAt`
 * is newest.
 */
import type { Database } from 'better-sqlite3';
import { z } from 'zod';
import { UtcTimestamp } from '../../protocol/messages/common.js';
import { StoreError } from './errors.js';

/** Recording statuses (DOMAIN.md §4: "completed with errors" is distinct from "completed"). */
export const RECORDING_STATUSES = [
  'recording',
  'completed',
  'completed-with-errors',
  'failed',
  'deleted',
] as const;

/** One catalogue row as ingest writes it. */
export const RecordingInput = z
  .object({
    stationId: z.string().min(1),
    recordingId: z.string().regex(/^[A-Za-z0-9_.:-]{1,128}$/),
    entryId: z.string().max(64).nullish(),
    /** Nominal start of the occurrence (its identity with the entry id, DESIGN.md §5). */
    occurrenceStart: UtcTimestamp.nullish(),
    serviceKey: z.string().max(64).nullish(),
    status: z.enum(RECORDING_STATUSES),
    startedAt: UtcTimestamp.nullish(),
    endedAt: UtcTimestamp.nullish(),
    bytes: z.number().int().nonnegative().nullish(),
    /** Quality score 0–100 (DOMAIN.md §4, MythTV-style). */
    quality: z.number().min(0).max(100).nullish(),
    /** False when recorded with an untrusted clock (DESIGN.md §6 Clock). */
    clockTrusted: z.boolean().nullish(),
    /** The manifest as the station sent it (segments, errors …). */
    manifest: z.unknown(),
    /** When the station produced this state of the recording; older states never overwrite newer ones. */
    updatedAt: UtcTimestamp,
  })
  .strict();
export type RecordingInput = z.input<typeof RecordingInput>;

/** A catalogue row. */
export type Recording = Omit<z.infer<typeof RecordingInput>, 'manifest'> & { manifest: unknown };

interface Row {
  station_id: string;
  recording_id: string;
  entry_id: string | null;
  occurrence_start: string | null;
  service_key: string | null;
  status: (typeof RECORDING_STATUSES)[number];
  started_at: string | null;
  ended_at: string | null;
  bytes: number | null;
  quality: number | null;
  clock_trusted: number | null;
  manifest_json: string;
  updated_at: string;
}

const toRecording = (r: Row): Recording => ({
  stationId: r.station_id,
  recordingId: r.recording_id,
  entryId: r.entry_id,
  occurrenceStart: r.occurrence_start,
  serviceKey: r.service_key,
  status: r.status,
  startedAt: r.started_at,
  endedAt: r.ended_at,
  bytes: r.bytes,
  quality: r.quality,
  clockTrusted: r.clock_trusted === null ? null : r.clock_trusted === 1,
  manifest: JSON.parse(r.manifest_json) as unknown,
  updatedAt: r.updated_at,
});

/** Repo over `recordings`. */
export interface RecordingsRepo {
  /** Inserts or updates; returns false when a newer state of the recording is already stored. */
  upsert(input: RecordingInput): boolean;
  get(stationId: string, recordingId: string): Recording | undefined;
  list(opts?: { stationId?: string; entryId?: string; status?: string; limit?: number }): Recording[];
}

export function createRecordingsRepo(db: Database): RecordingsRepo {
  const up =
    db.prepare(`INSERT INTO recordings (station_id, recording_id, entry_id, occurrence_start, service_key,
      status, started_at, ended_at, bytes, quality, clock_trusted, manifest_json, updated_at)
    VALUES (@stationId, @recordingId, @entryId, @occurrenceStart, @serviceKey, @status, @startedAt, @endedAt,
      @bytes, @quality, @clockTrusted, @manifest, @updatedAt)
    ON CONFLICT (station_id, recording_id) DO UPDATE SET entry_id = excluded.entry_id,
      occurrence_start = excluded.occurrence_start, service_key = excluded.service_key, status = excluded.status,
      started_at = excluded.started_at, ended_at = excluded.ended_at, bytes = excluded.bytes,
      quality = excluded.quality, clock_trusted = excluded.clock_trusted, manifest_json = excluded.manifest_json,
      updated_at = excluded.updated_at
    WHERE excluded.updated_at >= recordings.updated_at`);
  return {
    upsert(input) {
      const p = RecordingInput.safeParse(input);
      if (!p.success) {
        throw new StoreError(
          'INVALID_INPUT',
          p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        );
      }
      const r = p.data;
      const info = up.run({
        stationId: r.stationId,
        recordingId: r.recordingId,
        entryId: r.entryId ?? null,
        occurrenceStart: r.occurrenceStart ?? null,
        serviceKey: r.serviceKey ?? null,
        status: r.status,
        startedAt: r.startedAt ?? null,
        endedAt: r.endedAt ?? null,
        bytes: r.bytes ?? null,
        quality: r.quality ?? null,
        clockTrusted: r.clockTrusted === undefined || r.clockTrusted === null ? null : r.clockTrusted ? 1 : 0,
        manifest: JSON.stringify(r.manifest ?? null),
        updatedAt: r.updatedAt,
      });
      return info.changes === 1;
    },
    get(stationId, recordingId) {
      const r = db
        .prepare<[string, string], Row>('SELECT * FROM recordings WHERE station_id = ? AND recording_id = ?')
        .get(stationId, recordingId);
      return r ? toRecording(r) : undefined;
    },
    list(opts = {}) {
      const where: string[] = [];
      const args: (string | number)[] = [];
      for (const [col, v] of [
        ['station_id', opts.stationId],
        ['entry_id', opts.entryId],
        ['status', opts.status],
      ] as const) {
        if (v !== undefined) {
          where.push(`${col} = ?`);
          args.push(v);
        }
      }
      args.push(opts.limit ?? 500);
      const sql = `SELECT * FROM recordings ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY COALESCE(started_at, updated_at) DESC LIMIT ?`;
      return (db.prepare(sql).all(...args) as Row[]).map(toRecording);
    },
  };
}
