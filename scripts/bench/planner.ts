/**
 * Planner bench (DESIGN.md §8): plan 14 days for 102 stations with 20 distinct recurring entries each,
 * no caching across stations (each station is one `plan()` call on its own parsed document, exactly as
 * the headend previews and each agent executes). Budget ≤ 50 ms total.
 *
 * Baseline: the same documents expanded by a bare loop that builds the same number of output objects
 * (same fields, same timestamp formatting) with a fixed UTC+8 offset and no zone lookup, no priority
 * order, no allocation and no window closure — the floor any planner producing this output pays.
 */
import { ScheduleDocument, type ScheduleDocumentInput } from '../../protocol/messages/schedule.js';
import { IsoFormatter } from '../../protocol/planner/iso.js';
import { DAY_MS, isoWeekday, MINUTE_MS, parseLocalDate } from '../../protocol/planner/local-time.js';
import { plan } from '../../protocol/planner/plan.js';
import type { Bench } from './bench.js';
import { measure } from './bench.js';

const STATIONS = 102;
const ENTRIES_PER_STATION = 20;
const WINDOW = { from: '2026-03-02T00:00:00Z', to: '2026-03-16T00:00:00Z' };

/** Deterministic PRNG (mulberry32) so every run plans the same fleet. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** 49 services on 7 C-band carriers (DOMAIN.md §1–2: sample line-up, not verified data). */
function lineup(): ScheduleDocumentInput['tuning'] {
  const tuning: ScheduleDocumentInput['tuning'] = {};
  for (let i = 0; i < 49; i++) {
    const key = `svc${String(i + 1).padStart(2, '0')}`;
    tuning[key] = {
      key,
      name: `Service ${i + 1}`,
      serviceId: 100 + i,
      transponder: {
        frequencyMHz: 3720 + 40 * (i % 7),
        polarisation: 'H',
        symbolRateKsps: 27500,
        system: 'DVB-S',
        modulation: 'QPSK',
        fec: '3/4',
        lnbLoMHz: 5150,
      },
    };
  }
  return tuning;
}

/** One station's document: 20 distinct weekly entries, operator-heavy, with some overlaps. */
export function stationDocument(station: number): ScheduleDocument {
  const r = rng(1000 + station);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const entries: ScheduleDocumentInput['entries'] = [];
  for (let i = 0; i < ENTRIES_PER_STATION; i++) {
    const cls = i < 2 ? 'conference' : i < 6 ? 'mandated' : 'operator';
    const days =
      i >= 18
        ? [1, 2, 3, 4, 5, 6, 7]
        : cls === 'operator'
          ? pick([
              [1, 2, 3, 4, 5],
              [6, 7],
              [1, 3, 5],
              [2, 4],
            ])
          : [1 + Math.floor(r() * 7)];
    const minute = 5 * Math.floor(r() * (18 * 12)) + 6 * 60;
    const base = {
      id: `st${station}-e${i}`,
      rev: 1,
      createdAt: `2026-01-${String(1 + (i % 28)).padStart(2, '0')}T0${i % 10}:00:00Z`,
      title: `Programme ${i}`,
      priority: Math.floor(r() * 3),
      service: `svc${String(1 + Math.floor(r() * 49)).padStart(2, '0')}`,
      padBeforeMs: 2 * MINUTE_MS,
      padAfterMs: 5 * MINUTE_MS,
      when: {
        type: 'weekly' as const,
        weekdays: days,
        startLocal: `${String(Math.floor(minute / 60) % 24).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`,
        durationMin: 15 + 5 * Math.floor(r() * 22),
        from: '2026-01-01',
      },
    };
    if (cls === 'conference') {
      entries.push({
        ...base,
        kind: 'conference',
        class: 'conference',
        record: r() < 0.5,
        preRollMs: 5 * MINUTE_MS,
      });
    } else {
      entries.push({ ...base, kind: 'recording', class: cls, record: true });
    }
  }
  const receivers: ScheduleDocumentInput['receivers'] =
    station % 3 === 0
      ? [
          { id: 'rx1', sharing: 'service' },
          { id: 'rx2', sharing: 'transponder' },
        ]
      : [{ id: 'rx1', sharing: station % 3 === 1 ? 'service' : 'transponder' }];
  return ScheduleDocument.parse({
    version: { epoch: 1, n: 1 },
    issuedAt: '2026-03-01T00:00:00Z',
    plannerVersion: 1,
    timeZone: 'Asia/Shanghai',
    receivers,
    tuning: lineup(),
    entries,
  });
}

/** The floor: same output objects from a bare arithmetic loop (fixed +8 h, no allocation). */
function baselineExpand(doc: ScheduleDocument, from: number, to: number): unknown[] {
  const iso = new IsoFormatter();
  const out: unknown[] = [];
  const offset = 8 * 3_600_000;
  for (const e of doc.entries) {
    if (e.when.type !== 'weekly') continue;
    const w = e.when;
    const minute = Number(w.startLocal.slice(0, 2)) * 60 + Number(w.startLocal.slice(3));
    const fromDay = parseLocalDate(w.from);
    const lead = e.kind === 'conference' ? Math.max(e.padBeforeMs, e.preRollMs) : e.padBeforeMs;
    for (let day = Math.floor(from / DAY_MS) - 1; day <= Math.floor(to / DAY_MS); day++) {
      if (day < fromDay || !w.weekdays.includes(isoWeekday(day))) continue;
      const s = day * DAY_MS + minute * MINUTE_MS - offset;
      const en = s + w.durationMin * MINUTE_MS;
      if (s - lead >= to || en + e.padAfterMs <= from) continue;
      const ps = iso.format(s - lead);
      const pe = iso.format(en + e.padAfterMs);
      out.push({
        entryId: e.id,
        rev: e.rev,
        kind: e.kind,
        class: e.class,
        title: e.title,
        service: e.service,
        record: e.record,
        nominalStart: iso.format(s),
        nominalEnd: iso.format(en),
        paddedStart: ps,
        paddedEnd: pe,
        receiverId: doc.receivers[0]!.id,
        sharingKey: `service:${e.service}`,
        parts: [{ start: ps, end: pe }],
        outcome: 'planned',
        reason: null,
        cuts: [],
      });
    }
  }
  return out;
}

export const plannerBench: Bench = {
  name: 'planner: 14 d × 102 stations × 20 weekly entries',
  unit: 'ms CPU',
  budget: { max: 50 },
  baselineLabel: 'bare expansion loop, same output objects',
  async run() {
    const docs = Array.from({ length: STATIONS }, (_, i) => stationDocument(i));
    const from = Date.parse(WINDOW.from);
    const to = Date.parse(WINDOW.to);
    let occurrences = 0;
    let notPlanned = 0;
    for (const d of docs) {
      for (const o of plan(d, WINDOW).occurrences) {
        occurrences++;
        if (o.outcome !== 'planned') notPlanned++;
      }
    }
    // Each station's plan is used (counted) and released before the next, as the agent and the headend's
    // per-station preview do; retaining all 102 plans at once is measured too, for the note.
    const planEach = () => {
      let n = 0;
      for (const d of docs) n += plan(d, WINDOW).occurrences.length;
      return n;
    };
    const floorEach = () => {
      let n = 0;
      for (const d of docs) n += baselineExpand(d, from, to).length;
      return n;
    };
    const planned = measure(planEach, 21, 5);
    const floor = measure(floorEach, 21, 5);
    const retained = measure(() => docs.map((d) => plan(d, WINDOW)), 11, 3);
    const floorRetained = measure(() => docs.map((d) => baselineExpand(d, from, to)), 11, 3);
    return {
      // CPU time, not wall time: see `Samples.cpuMedian` (wall figures are in the note).
      value: planned.cpuMedian,
      baseline: floor.cpuMedian,
      note:
        `${occurrences} occurrences (${notPlanned} shared/truncated/dropped); CPU ms per run, median of ` +
        `${planned.runs}; wall: median ${planned.median.toFixed(1)}, min ${planned.min.toFixed(1)}, max ` +
        `${planned.max.toFixed(1)} ms (baseline ${floor.median.toFixed(1)}). With all 102 results kept alive ` +
        `at once (GC copies the retained output), CPU: planner ${retained.cpuMedian.toFixed(1)} ms, baseline ` +
        `${floorRetained.cpuMedian.toFixed(1)} ms`,
    };
  },
};
