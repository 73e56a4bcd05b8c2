/**
 * Telemetry ingest (DESIGN.md §4: `st/{id}/telemetry`, QoS 0, lossy by design): every sample is decoded
 * at the edge and folded into per-minute count / min / avg / max accumulators per station, subject (a
 * receiver id, or '' for the station itself) and metric; closed minutes are written to `telemetry_minutes`
 * in one short transaction. Late samples and the stations' offline `telemetry.summary` events merge into
 * the same rows (weighted average), so a restart or a late packet never overwrites a minute. The newest
 * sample of each station is kept in memory for the fleet board.
 */
import type { Logger } from 'pino';
import { decodePayload } from '../../protocol/messages/decode.js';
import type { EventOf } from '../../protocol/messages/events.js';
import { type Telemetry, Telemetry as TelemetrySchema } from '../../protocol/messages/telemetry.js';
import type { Store } from '../store/index.js';

const MINUTE = 60_000;

/** One downsampled row. */
export interface MinuteRow {
  stationId: string;
  minuteMs: number;
  subject: string;
  metric: string;
  n: number;
  min: number;
  avg: number;
  max: number;
}

export interface TelemetryIngest {
  /** One telemetry message (never throws; invalid samples are counted and dropped). */
  handle(stationId: string, payload: Buffer): boolean;
  /** Folds a `telemetry.summary` event into the rows (call inside the ingest transaction). */
  mergeSummary(stationId: string, e: EventOf<'telemetry.summary'>): void;
  /** Writes minutes that closed at least `lateMs` ago (all with `force`); returns rows written. */
  flush(force?: boolean): number;
  latest(stationId: string): { at: string; receivedAt: string; telemetry: Telemetry } | undefined;
  rows(stationId: string, fromMs: number, toMs: number, metric?: string): MinuteRow[];
  /** Deletes rows older than `beforeMs` (retention); returns rows deleted. */
  prune(beforeMs: number): number;
  stats(): { samples: number; invalid: number; unknownStation: number; buffered: number; written: number };
  /** Listens to every valid live sample (the alarm engine's signal rules); returns the remover. */
  onSample(listener: (stationId: string, t: Telemetry) => void): () => void;
}

interface Acc {
  stationId: string;
  minuteMs: number;
  subject: string;
  metric: string;
  n: number;
  min: number;
  max: number;
  sum: number;
}

export function createTelemetryIngest(deps: {
  store: Store;
  logger: Logger;
  now?: () => Date;
  /** How long after a minute closes late samples are still folded in memory (default 30 s). */
  lateMs?: number;
}): TelemetryIngest {
  const { store } = deps;
  const now = deps.now ?? (() => new Date());
  const lateMs = deps.lateMs ?? 30_000;
  const acc = new Map<string, Acc>();
  const latest = new Map<string, { at: string; receivedAt: string; telemetry: Telemetry }>();
  const counters = { samples: 0, invalid: 0, unknownStation: 0, written: 0 };
  const known = new Set<string>();
  const listeners = new Set<(stationId: string, t: Telemetry) => void>();
  const upsert =
    store.db.prepare(`INSERT INTO telemetry_minutes (station_id, minute_ms, subject, metric, n, min, avg, max)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (station_id, minute_ms, subject, metric) DO UPDATE SET
      avg = (telemetry_minutes.avg * telemetry_minutes.n + excluded.avg * excluded.n) / (telemetry_minutes.n + excluded.n),
      n = telemetry_minutes.n + excluded.n,
      min = MIN(telemetry_minutes.min, excluded.min),
      max = MAX(telemetry_minutes.max, excluded.max)`);

  const add = (
    stationId: string,
    minuteMs: number,
    subject: string,
    metric: string,
    v: number | null | undefined,
  ) => {
    if (v === null || v === undefined || !Number.isFinite(v)) return;
    const k = `${stationId}\u0000${minuteMs}\u0000${subject}\u0000${metric}`;
    const a = acc.get(k);
    if (a) {
      a.n++;
      a.sum += v;
      if (v < a.min) a.min = v;
      if (v > a.max) a.max = v;
    } else acc.set(k, { stationId, minuteMs, subject, metric, n: 1, min: v, max: v, sum: v });
  };

  const stationKnown = (id: string) => {
    if (known.has(id)) return true;
    if (!store.stations.get(id)) return false;
    known.add(id);
    return true;
  };

  const ingest: TelemetryIngest = {
    handle(stationId, payload) {
      if (!stationKnown(stationId)) {
        counters.unknownStation++;
        return false;
      }
      const d = decodePayload(TelemetrySchema, payload);
      if (!d.ok) {
        counters.invalid++;
        deps.logger.debug(
          { event: 'telemetry-invalid', stationId, err: d.error.message },
          'invalid telemetry dropped',
        );
        return false;
      }
      const t = d.value;
      counters.samples++;
      latest.set(stationId, { at: t.at, receivedAt: now().toISOString(), telemetry: t });
      const m = Math.floor(Date.parse(t.at) / MINUTE) * MINUTE;
      for (const r of t.receivers) {
        add(stationId, m, r.id, 'locked', r.locked ? 1 : 0);
        add(stationId, m, r.id, 'marginDb', r.marginDb);
        add(stationId, m, r.id, 'cnDb', r.cnDb);
        add(stationId, m, r.id, 'ber', r.ber);
        if (r.level) add(stationId, m, r.id, `level.${r.level.unit}`, r.level.value);
      }
      for (const rec of t.recorders) add(stationId, m, rec.receiverId, 'bitrateBps', rec.bitrateBps);
      add(stationId, m, '', 'diskFreeBytes', t.disk.freeBytes);
      add(stationId, m, '', 'cpuPct', t.host.cpuPct);
      add(stationId, m, '', 'memUsedBytes', t.host.memUsedBytes);
      for (const l of listeners) {
        try {
          l(stationId, t);
        } catch (err) {
          deps.logger.error(
            { event: 'telemetry-listener-failed', err: (err as Error).message },
            'a telemetry listener threw',
          );
        }
      }
      return true;
    },

    mergeSummary(stationId, e) {
      const m = Math.floor(Date.parse(e.from) / MINUTE) * MINUTE;
      const row = (
        subject: string,
        metric: string,
        s: { min: number; avg: number; max: number } | undefined,
      ) => {
        if (s) upsert.run(stationId, m, subject, metric, e.samples, s.min, s.avg, s.max);
      };
      for (const r of e.receivers) {
        const ratio = r.lockedRatio;
        row(r.id, 'locked', { min: ratio === 1 ? 1 : 0, avg: ratio, max: ratio > 0 ? 1 : 0 });
        row(r.id, 'marginDb', r.marginDb);
        row(r.id, 'cnDb', r.cnDb);
      }
      row('', 'diskFreeBytes', e.diskFreeBytes);
      row('', 'cpuPct', e.cpuPct);
    },

    flush(force = false) {
      const cutoff = now().getTime() - MINUTE - lateMs;
      const due = [...acc.entries()].filter(([, a]) => force || a.minuteMs < cutoff);
      if (due.length === 0) return 0;
      store.transaction(() => {
        for (const [, a] of due)
          upsert.run(a.stationId, a.minuteMs, a.subject, a.metric, a.n, a.min, a.sum / a.n, a.max);
      });
      for (const [k] of due) acc.delete(k);
      counters.written += due.length;
      return due.length;
    },

    latest: (stationId) => latest.get(stationId),

    rows(stationId, fromMs, toMs, metric) {
      const sql = `SELECT station_id, minute_ms, subject, metric, n, min, avg, max FROM telemetry_minutes
        WHERE station_id = ? AND minute_ms >= ? AND minute_ms < ? ${metric === undefined ? '' : 'AND metric = ?'}
        ORDER BY minute_ms, subject, metric`;
      const args: (string | number)[] = [stationId, fromMs, toMs];
      if (metric !== undefined) args.push(metric);
      return (
        store.db.prepare(sql).all(...args) as {
          station_id: string;
          minute_ms: number;
          subject: string;
          metric: string;
          n: number;
          min: number;
          avg: number;
          max: number;
        }[]
      ).map((r) => ({
        stationId: r.station_id,
        minuteMs: r.minute_ms,
        subject: r.subject,
        metric: r.metric,
        n: r.n,
        min: r.min,
        avg: r.avg,
        max: r.max,
      }));
    },

    prune: (beforeMs) =>
      store.db.prepare('DELETE FROM telemetry_minutes WHERE minute_ms < ?').run(beforeMs).changes,

    stats: () => ({ ...counters, buffered: acc.size }),
    onSample(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  return ingest;
}
