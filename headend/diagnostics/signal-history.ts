/**
 * Signal history for the station page's charts (issue 8 "the station page plots the last 24 h / 7 days"):
 * the per-minute rows telemetry ingest keeps (headend/fleet/telemetry.ts, `telemetry_minutes`: live samples
 * and the stations' offline `telemetry.summary` events merged) regrouped into chart buckets in SQL — one
 * minute for a day (1 440 points), ten minutes for a week (1 008 points) — with min, count-weighted average
 * and max per bucket. Series are arrays of `[t, min, avg, max]` to keep the answer small.
 */
import type { Database } from 'better-sqlite3';

export const SIGNAL_RANGES = {
  '24h': { spanMs: 86_400_000, bucketMs: 60_000 },
  '7d': { spanMs: 7 * 86_400_000, bucketMs: 600_000 },
} as const;
export type SignalRange = keyof typeof SIGNAL_RANGES;

/** `[bucket start ms, min, avg, max]`. */
export type Point = [number, number, number, number];

export interface SignalHistory {
  range: SignalRange;
  from: string;
  to: string;
  bucketMs: number;
  receivers: {
    id: string;
    marginDb: Point[];
    cnDb: Point[];
    /** Signal level as the receiver reports it; `unit` says which (raw 0–255, dBm, dBµV). */
    level: { unit: string; points: Point[] } | null;
    /** Share of samples with lock, 0–1 (avg of the 0/1 lock samples). */
    lockRatio: Point[];
    bitrateBps: Point[];
  }[];
  diskFreeBytes: Point[];
}

interface Row {
  bucket: number;
  subject: string;
  metric: string;
  min: number;
  avg: number;
  max: number;
}

/** Reads the history of `stationId` for `range` ending at `toMs`. */
export function signalHistory(
  db: Database,
  stationId: string,
  range: SignalRange,
  toMs: number,
): SignalHistory {
  const { spanMs, bucketMs } = SIGNAL_RANGES[range];
  const fromMs = Math.floor((toMs - spanMs) / bucketMs) * bucketMs;
  const rows = db
    .prepare(
      `SELECT CAST(minute_ms / ? AS INTEGER) * ? AS bucket, subject, metric, MIN(min) AS min,
              SUM(avg * n) / SUM(n) AS avg, MAX(max) AS max
         FROM telemetry_minutes
        WHERE station_id = ? AND minute_ms >= ? AND minute_ms < ?
          AND (metric IN ('marginDb', 'cnDb', 'locked', 'bitrateBps', 'diskFreeBytes') OR metric LIKE 'level.%')
        GROUP BY bucket, subject, metric ORDER BY bucket`,
    )
    .all(bucketMs, bucketMs, stationId, fromMs, toMs) as Row[];
  const rx = new Map<string, SignalHistory['receivers'][number]>();
  const disk: Point[] = [];
  const round = (x: number) => Math.round(x * 1000) / 1000;
  for (const r of rows) {
    const p: Point = [r.bucket, round(r.min), round(r.avg), round(r.max)];
    if (r.subject === '') {
      if (r.metric === 'diskFreeBytes') disk.push([r.bucket, r.min, Math.round(r.avg), r.max]);
      continue;
    }
    let s = rx.get(r.subject);
    if (!s) {
      s = { id: r.subject, marginDb: [], cnDb: [], level: null, lockRatio: [], bitrateBps: [] };
      rx.set(r.subject, s);
    }
    if (r.metric === 'marginDb') s.marginDb.push(p);
    else if (r.metric === 'cnDb') s.cnDb.push(p);
    else if (r.metric === 'locked') s.lockRatio.push(p);
    else if (r.metric === 'bitrateBps') s.bitrateBps.push([r.bucket, r.min, Math.round(r.avg), r.max]);
    else if (r.metric.startsWith('level.')) {
      const unit = r.metric.slice(6);
      if (!s.level) s.level = { unit, points: [] };
      if (s.level.unit === unit) s.level.points.push(p);
    }
  }
  return {
    range,
    from: new Date(fromMs).toISOString(),
    to: new Date(toMs).toISOString(),
    bucketMs,
    receivers: [...rx.values()].sort((a, b) => a.id.localeCompare(b.id)),
    diskFreeBytes: disk,
  };
}
