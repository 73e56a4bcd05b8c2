/**
 * Nothing flaps under noisy signal (DOMAIN.md §2: "Apply hysteresis and a hold time of 1–2 minutes so a
 * passing dip does not flap"; issue 8). Property tests with fast-check on a fake clock, production timing.
 */
import fc from 'fast-check';
import t from 'tap';
import { cause, evidence } from '../../headend/alarms/causes.js';
import { HoldTracker } from '../../headend/alarms/tracker.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, T0, telemetry } from '../helpers/alarm-rig.js';

const S = 'st-007';
const runs = { numRuns: 150 };

/** Samples: (gap to the previous sample in ms, margin dB). */
const samples = (min: number, max: number, n = 200) =>
  fc.array(fc.tuple(fc.integer({ min: 1000, max: 30_000 }), fc.double({ min, max, noNaN: true })), {
    minLength: 20,
    maxLength: n,
  });

function feed(rig: ReturnType<typeof alarmRig>, list: readonly (readonly [number, number])[]): void {
  let now = rig.now();
  for (const [gap, m] of list) {
    now += gap;
    rig.engine.observeTelemetry(S, telemetry(now, [{ marginDb: m }]), now);
    rig.at(now);
  }
}

t.test(
  'noise inside the warning hysteresis band never raises more than once, and never clears',
  async (t) => {
    // Warning below 3 dB, healthy again only at ≥ 3.5 dB: noise in [2.0, 3.5) stays one condition.
    fc.assert(
      fc.property(samples(2.0, 3.4999), (list) => {
        const rig = alarmRig();
        feed(rig, [[1000, 6]]);
        feed(rig, list);
        return rig.raised('margin_low').length <= 1 && rig.cleared('margin_low').length === 0;
      }),
      runs,
    );
    t.pass('property held');
  },
);

t.test(
  'a margin wandering slowly inside the band (spells longer than the holds) still raises once',
  async (t) => {
    // Holds alone cannot help here: each spell outlasts them. Only the hysteresis band keeps 3.2 dB after
    // 2.5 dB from clearing and raising again.
    const spells = fc.array(
      fc.tuple(fc.integer({ min: 10_000, max: 600_000 }), fc.double({ min: 2.0, max: 3.4999, noNaN: true })),
      {
        minLength: 2,
        maxLength: 30,
      },
    );
    fc.assert(
      fc.property(spells, (list) => {
        const rig = alarmRig();
        feed(rig, [[1000, 6]]);
        for (const [ms, m] of list)
          rig.run(ms, 10_000, (now) =>
            rig.engine.observeTelemetry(S, telemetry(now, [{ marginDb: m }]), now),
          );
        return rig.raised('margin_low').length <= 1 && rig.cleared('margin_low').length === 0;
      }),
      runs,
    );
    t.pass('property held');
  },
);

t.test('noise across the critical threshold changes severity at most once', async (t) => {
  fc.assert(
    fc.property(samples(0.2, 1.4999), (list) => {
      const rig = alarmRig();
      feed(rig, [[1000, 6]]);
      feed(rig, list);
      return (
        rig.raised('margin_low').length <= 1 &&
        rig.cleared('margin_low').length === 0 &&
        rig.of('severity', 'margin_low').length <= 1
      );
    }),
    runs,
  );
  t.pass('property held');
});

t.test('dips shorter than the raise hold never raise anything', async (t) => {
  // Alternating good and bad spells; every bad spell (lock lost or margin < 1 dB) is shorter than the hold.
  const spell = fc.record({
    goodMs: fc.integer({ min: 10_000, max: 600_000 }),
    badMs: fc.integer({ min: 1_000, max: D.alarmRaiseHoldMs - 11_000 }),
    unlocked: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(spell, { minLength: 1, maxLength: 30 }), (spells) => {
      const rig = alarmRig();
      for (const s of spells) {
        rig.run(s.goodMs, 10_000, (now) =>
          rig.engine.observeTelemetry(S, telemetry(now, [{ marginDb: 6 }]), now),
        );
        const bad = s.unlocked ? { locked: false } : { marginDb: 0.3 };
        rig.run(s.badMs, 10_000, (now) => rig.engine.observeTelemetry(S, telemetry(now, [bad]), now));
      }
      rig.run(60_000, 10_000, (now) =>
        rig.engine.observeTelemetry(S, telemetry(now, [{ marginDb: 6 }]), now),
      );
      return rig.transitions.length === 0;
    }),
    runs,
  );
  t.pass('property held');
});

t.test('any signal, however wild: raises are bounded by the hold cycle', async (t) => {
  // A raise needs the condition for the raise hold and a clear needs its absence for the clear hold, so
  // in a span T there are at most T / (raise hold + clear hold) + 1 raises, whatever the signal does.
  fc.assert(
    fc.property(
      samples(-2, 8, 400),
      fc.array(fc.boolean(), { minLength: 400, maxLength: 400 }),
      (list, locks) => {
        const rig = alarmRig();
        let now = T0;
        list.forEach(([gap, m], i) => {
          now += gap;
          const locked = locks[i] !== false || i % 7 !== 0;
          rig.engine.observeTelemetry(S, telemetry(now, [locked ? { marginDb: m } : { locked: false }]), now);
          rig.at(now);
        });
        const span = now - T0;
        const bound = Math.floor(span / (D.alarmRaiseHoldMs + D.alarmClearHoldMs)) + 1;
        return rig.raised('margin_low').length <= bound && rig.raised('signal_lost').length <= bound;
      },
    ),
    { numRuns: 60 },
  );
  t.pass('property held');
});

t.test('a sustained low margin, however noisy, raises exactly once and clears exactly once', async (t) => {
  // The other properties say "at most": an engine that never raises would pass them. This one needs the
  // alarm: margin noise all below the 3 dB warning (never below the 1 dB alarm) for longer than the raise
  // hold raises one warning no earlier than the hold; healthy noise (≥ 3.5 dB) for longer than the clear
  // hold then clears it once, no earlier than that hold.
  const gaps = fc.array(fc.integer({ min: 1000, max: 30_000 }), { minLength: 1, maxLength: 40 });
  const phase = (lo: number, hi: number) =>
    fc.array(fc.double({ min: lo, max: hi, noNaN: true }), { minLength: 1, maxLength: 40 });
  fc.assert(
    fc.property(gaps, phase(1.2, 2.999), phase(3.5, 12), (gapList, bad, good) => {
      const rig = alarmRig();
      feed(rig, [[1000, 6]]);
      let i = 0;
      const run = (values: readonly number[], forMs: number) => {
        const start = rig.now();
        const list: [number, number][] = [];
        let elapsed = 0;
        while (elapsed < forMs) {
          const gap = gapList[i % gapList.length] as number;
          list.push([gap, values[i % values.length] as number]);
          elapsed += gap;
          i++;
        }
        feed(rig, list);
        return start;
      };
      const badFrom = run(bad, D.alarmRaiseHoldMs + 60_000) + (gapList[0] as number);
      const raised = rig.raised('margin_low');
      if (raised.length !== 1 || raised[0]?.alarm.severity !== 'warning') return false;
      if ((raised[0]?.at ?? 0) - badFrom < D.alarmRaiseHoldMs) return false;
      const goodFrom = rig.now();
      run(good, D.alarmClearHoldMs + 60_000);
      const cleared = rig.cleared('margin_low');
      if (cleared.length !== 1 || rig.raised('margin_low').length !== 1) return false;
      return (cleared[0]?.at ?? 0) - goodFrom >= D.alarmClearHoldMs;
    }),
    { numRuns: 100 },
  );
  t.pass('property held');
});

t.test('hold tracker: a level is granted only after the raise hold of continuous assertion', async (t) => {
  const c = cause('snow-ice-fade', 'x');
  const ev = evidence('x');
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 3 })), { maxLength: 60 }),
      (steps) => {
        const h = new HoldTracker();
        let now = 0;
        let current = 0;
        let onSince: number | null = null; // since when the reported level has been ≥ 1
        for (const [gap, level] of steps) {
          now += gap;
          h.report('s', { level, cause: c, evidence: ev, raiseHoldMs: 20, clearHoldMs: 30 }, now);
          if (level >= 1) onSince ??= now;
          else onSince = null;
          const next = h.heldLevel(current, now);
          if (current === 0 && next > 0 && (onSince === null || now - onSince < 20)) return false;
          current = next;
        }
        return true;
      },
    ),
    runs,
  );
  t.pass('property held');
});
