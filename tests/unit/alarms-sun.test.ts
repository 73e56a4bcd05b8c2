/**
 * Sun-outage suppression (DOMAIN.md §6 "Sun outage: predicted calendar — suppress alarms in the window";
 * issue 8). Windows come from the real calculator (protocol/sun-outage.ts) for a 1.8 m dish at Pingliang
 * (35.5°N, 106.7°E) on ChinaSat 6B/6E at 115.5°E, 3840 MHz: in 2026 the 6 March window is about
 * 04:17:12–04:31:35 UTC (DOMAIN.md §2: peak about 6 March near 12:25 Beijing time).
 */
import t from 'tap';
import { createSunOutageCalendar } from '../../headend/alarms/sun-calendar.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, type RxInput, telemetry } from '../helpers/alarm-rig.js';

const PINGLIANG = {
  site: { latDeg: 35.5, lonDeg: 106.7 },
  dish: { diameterM: 1.8, frequencyMHz: 3840 },
  satelliteLonDeg: 115.5,
};
const calendar = () => createSunOutageCalendar((s) => (s.startsWith('st-') ? PINGLIANG : undefined));
const at = (hhmmss: string, day = '2026-03-06') => Date.parse(`${day}T${hhmmss}Z`);

/** Feeds one station every 10 s from `from` to `to`, with the signal `signal(now)` returns. */
function drive(
  rig: ReturnType<typeof alarmRig>,
  stations: string[],
  from: number,
  to: number,
  signal: (now: number) => RxInput,
) {
  rig.at(from);
  rig.run(to - from, 10_000, (now) => {
    for (const s of stations) rig.engine.observeTelemetry(s, telemetry(now, [signal(now)]), now);
  });
}

/** What a sun outage looks like at the receiver: margin sinks, lock drops for a few minutes, comes back. */
const outageAround = (day: string) => (now: number) => {
  if (now < at('04:16:30', day) || now >= at('04:31:30', day)) return { marginDb: 6 };
  if (now >= at('04:19:00', day) && now < at('04:29:00', day)) return { locked: false };
  return { marginDb: 0.4 };
};

t.test(
  'signal loss inside the predicted window raises no signal alarm, only the sun-outage annotation',
  async (t) => {
    const cal = calendar();
    const rig = alarmRig({ start: at('04:00:00'), sunOutage: cal.windows });
    drive(rig, ['st-001'], at('04:00:00'), at('05:00:00'), outageAround('2026-03-06'));
    t.equal(rig.raised('signal_lost').length, 0, 'no lock-loss alarm');
    t.equal(rig.raised('margin_low').length, 0, 'no margin alarm');
    const sun = rig.raised('sun_outage');
    t.equal(sun.length, 1, 'one annotation');
    t.equal(sun[0]?.alarm.severity, 'info');
    t.equal(sun[0]?.alarm.cause.row, 'sun-outage');
    t.match(
      sun[0]?.alarm.evidence.text,
      /^predicted sun outage 2026-03-06 04:17:\d\dZ – 2026-03-06 04:31:\d\dZ .*suppressed: margin_low on rx1$/,
    );
    t.match(
      rig.cleared('sun_outage')[0]?.alarm.evidence.text,
      /suppressed: margin_low on rx1, signal_lost on rx1$/,
      'the annotation lists everything suppressed in the window',
    );
    t.equal(rig.cleared('sun_outage').length, 1, 'the annotation ends with the window');
    t.same(rig.engine.active(), [], 'nothing left');
  },
);

t.test('the same loss outside any predicted window raises the alarm', async (t) => {
  const cal = calendar();
  // 20 March: past the season (DOMAIN.md §2: degraded roughly 2–10 March).
  const rig = alarmRig({ start: at('04:00:00', '2026-03-20'), sunOutage: cal.windows });
  drive(
    rig,
    ['st-001'],
    at('04:00:00', '2026-03-20'),
    at('05:00:00', '2026-03-20'),
    outageAround('2026-03-20'),
  );
  t.equal(rig.raised('signal_lost').length, 1, 'lock-loss alarm');
  t.equal(rig.raised('margin_low').length, 1, 'margin alarm');
  t.equal(rig.raised('sun_outage').length, 0, 'no annotation');
});

t.test('a loss that outlasts the window is raised after the window plus the raise hold', async (t) => {
  const cal = calendar();
  const w = cal.windows('st-001', at('04:00:00'), at('05:00:00'))[0];
  t.ok(w, 'a window that day');
  const rig = alarmRig({ start: at('04:00:00'), sunOutage: cal.windows });
  // Snow slid onto the dish during the outage: the lock never comes back.
  drive(rig, ['st-001'], at('04:00:00'), at('05:00:00'), (now) =>
    now >= at('04:19:00') ? { locked: false } : { marginDb: 6 },
  );
  const a = rig.raised('signal_lost')[0]?.alarm;
  t.ok(a, 'raised');
  const expected = (w?.endMs ?? 0) + D.sunOutageGuardMs + D.alarmRaiseHoldMs;
  t.ok(
    a && a.raisedAt >= expected && a.raisedAt < expected + 10_000,
    'at window end + guard + hold (next sample)',
  );
});

t.test('37 Pingliang stations losing lock in their sun outage: no fleet alarm either', async (t) => {
  const cal = calendar();
  const stations = Array.from({ length: 37 }, (_, i) => `st-${i + 1}`);
  const rig = alarmRig({ start: at('04:00:00'), sunOutage: cal.windows });
  drive(rig, stations, at('04:00:00'), at('04:50:00'), outageAround('2026-03-06'));
  t.equal(rig.raised('fleet_signal_lost').length, 0);
  t.equal(rig.raised('signal_lost').length, 0);
  t.equal(rig.raised('sun_outage').length, 37, 'each station annotated');
});

t.test('the station page calendar', async (t) => {
  const cal = calendar();
  const c = cal.calendar('st-001', 2026);
  if (!c.ok) throw new Error(c.message);
  t.equal(c.seasons.length, 2, 'spring and autumn seasons');
  const [spring, autumn] = c.seasons;
  t.equal(
    new Date(spring?.peak.peakMs ?? 0).toISOString().slice(0, 10),
    '2026-03-06',
    'spring peak on 6 March',
  );
  t.ok(
    (spring?.maxDurationS ?? 0) > 10 * 60 && (spring?.maxDurationS ?? 0) < 15 * 60,
    'up to ~13 minutes a day',
  );
  t.match(
    new Date(autumn?.peak.peakMs ?? 0).toISOString().slice(0, 10),
    /^2026-10-0[78]$/,
    'autumn peak on 7–8 October',
  );
  t.same(cal.calendar('st-001', 2026), c, 'cached');
  const unknown = cal.calendar('village-without-coordinates', 2026);
  t.same([unknown.ok, unknown.ok ? '' : unknown.code], [false, 'unknown-station']);
  const far = createSunOutageCalendar(() => ({ ...PINGLIANG, satelliteLonDeg: -60 })).calendar('st-1', 2026);
  t.same(
    [far.ok, far.ok ? '' : far.code],
    [false, 'satellite-below-horizon'],
    'a satellite below the horizon is a clear error',
  );
  t.same(
    cal.windows('village-without-coordinates', at('04:00:00'), at('05:00:00')),
    [],
    'no site: no suppression',
  );
});
