/**
 * Alarm engine cost inside telemetry ingest (DESIGN.md §8: "headend ingest of 10 000 stations' telemetry at
 * 30 s ≤ 20 % of one core", i.e. ≤ 6 s of CPU per 30 s round for the whole ingest). Measures one round —
 * 10 000 stations × 1 message (two receivers, a recorder, the disk) — through `engine.observeTelemetry` plus
 * one `tick`, with 40 % of the stations' carrier lost so fleet correlation runs too. Baseline: zod
 * validation of the same 10 000 messages, which ingest does anyway. Budget: ¼ of the ingest budget.
 */
import { carrierLookupFromLineup } from '../../headend/alarms/carriers.js';
import { createAlarmEngine } from '../../headend/alarms/engine.js';
import { Telemetry } from '../../protocol/messages/telemetry.js';
import { ServiceTuning } from '../../protocol/messages/tuning.js';
import { defaultTiming } from '../../protocol/timing.js';
import type { Bench } from './bench.js';

const T0 = Date.UTC(2026, 10, 27, 2);

const svc = (key: string, sid: number, frequencyMHz: number) =>
  ServiceTuning.parse({
    key,
    name: key,
    serviceId: sid,
    transponder: {
      frequencyMHz,
      polarisation: 'H',
      symbolRateKsps: 27500,
      system: 'DVB-S',
      modulation: 'QPSK',
      fec: '3/4',
      lnbLoMHz: 5150,
    },
  });
const carrierOf = carrierLookupFromLineup({ services: [svc('cctv1', 101, 3840), svc('cctv13', 113, 3880)] });

function message(i: number, at: number, lost: boolean): unknown {
  return {
    at: new Date(at).toISOString(),
    receivers: [
      {
        id: 'rx1',
        link: 'up',
        locked: !lost,
        service: 'cctv1',
        level: null,
        cnDb: lost ? null : 12 + (i % 7) * 0.1,
        marginDb: lost ? null : 5 + (i % 5) * 0.3,
        ber: null,
        lnb: 'ok',
      },
      {
        id: 'rx2',
        link: 'up',
        locked: true,
        service: 'cctv13',
        level: null,
        cnDb: 11.5,
        marginDb: 4.6,
        ber: null,
        lnb: 'ok',
      },
    ],
    recorders: [
      {
        entryId: 'e1',
        nominalStart: '2026-11-27T02:00:00Z',
        receiverId: 'rx2',
        bitrateBps: 8e6,
        bytes: 1e6 * (at - T0 + 1),
        ccErrors: 0,
      },
    ],
    disk: { freeBytes: 400e9, usedBytes: 100e9, quotaBytes: null },
    host: { cpuPct: 12, memUsedBytes: 2e8, memTotalBytes: 1e9 },
  };
}

/** The bench for `stations` stations (the table row uses 10 000, DESIGN.md §8). */
export function alarmsBenchFor(stations: number): Bench {
  return {
    name: `alarm engine: one 30 s telemetry round of ${stations} stations`,
    unit: 'ms',
    budget: { max: 1500 },
    baselineLabel: 'zod validation of the same messages',
    async run() {
      let transitions = 0;
      const engine = createAlarmEngine({
        timing: defaultTiming,
        clock: () => T0,
        carrierOf,
        onTransition: () => transitions++,
      });
      const ids = Array.from({ length: stations }, (_, i) => `st-${i}`);
      const engineMs: number[] = [];
      const parseMs: number[] = [];
      const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
      for (let round = 1; round <= 15; round++) {
        const at = T0 + round * 30_000;
        let t0 = process.hrtime.bigint();
        const msgs = ids.map((_, i) => Telemetry.parse(message(i, at, round > 2 && i % 5 < 2)));
        const p = ms(t0);
        t0 = process.hrtime.bigint();
        for (const [i, id] of ids.entries()) engine.observeTelemetry(id, msgs[i] as Telemetry, at);
        engine.tick(at);
        const e = ms(t0);
        if (round > 3) {
          parseMs.push(p);
          engineMs.push(e);
        }
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
      const stats = engine.stats();
      return {
        value: median(engineMs),
        baseline: median(parseMs),
        note: `${stations} stations × 2 receivers, 40 % lose carrier 3840H27500 from round 3 (one fleet alarm); median of 12 rounds (range ${Math.min(...engineMs).toFixed(0)}–${Math.max(...engineMs).toFixed(0)} ms); ${transitions} transitions, ${stats.active.critical} critical active, ${stats.tracked} tracked keys`,
      };
    },
  };
}

export const alarmsBench: Bench = alarmsBenchFor(10_000);

// `node --import=tsx scripts/bench/alarms.ts [--stations=N]` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = process.argv.find((a) => a.startsWith('--stations='));
  const bench = arg ? alarmsBenchFor(Number(arg.slice('--stations='.length))) : alarmsBench;
  const r = await bench.run();
  console.log(
    `${bench.name}: ${r.value.toFixed(0)} ms (baseline ${r.baseline.toFixed(0)} ms, ${bench.baselineLabel}); ${r.note}`,
  );
}
