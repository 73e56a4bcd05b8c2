import t from 'tap';
import { ClockSync, DRIFT_PPM, FILTER_SIZE } from '../../device/link/clock.js';
import { FakeClock } from '../helpers/agent-fake-clock.js';

const MAX = 2000;

/**
 * Runs one exchange the way it happens on the wire: the headend (whose clock is `ahead` ms behind the
 * station's) sends at T1, the request takes `out` ms, the station answers after `work` ms, the response
 * takes `back` ms. Returns the rid; T4 is handed over as the next request would.
 */
function exchange(
  clock: FakeClock,
  sync: ClockSync,
  _rid: string,
  ahead: number,
  out: number,
  work: number,
  back: number,
) {
  const t1 = clock.now() - ahead;
  clock.advance(out);
  const t2 = clock.now();
  clock.advance(work);
  const t3 = clock.now();
  clock.advance(back);
  const t4 = clock.now() - ahead;
  // The headend computes the sample and hands it over in its next request.
  const { offsetMs, delayMs } = ClockSync.compute({ t1, t2, t3, t4 });
  return sync.addEstimate({ offsetMs, rttMs: delayMs });
}

t.test('NTP arithmetic: offset and delay of one symmetric exchange', async (t) => {
  // Station 500 ms ahead, 40 ms each way, 10 ms processing.
  const r = ClockSync.compute({ t1: 0, t2: 540, t3: 550, t4: 90 });
  t.same(r, { offsetMs: 500, delayMs: 80 });
});

t.test('unknown until the first completed exchange; then trusted when small', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  t.same(sync.estimate(), {
    known: false,
    offsetMs: 0,
    rttMs: null,
    uncertaintyMs: Infinity,
    trusted: false,
  });
  t.equal(sync.headendNow(), clock.now(), 'local time when unknown');
  const r = exchange(clock, sync, 'a', 300, 20, 5, 20);
  t.ok(r?.ok);
  const e = sync.estimate();
  t.equal(e.offsetMs, 300);
  t.equal(e.rttMs, 40);
  t.ok(e.trusted);
  t.equal(sync.headendNow(), clock.now() - 300, 'corrected time');
});

t.test('the minimum-RTT sample wins over asymmetric slow ones', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  const trueOffset = -750;
  // Queueing on one leg makes a sample's offset wrong by half the asymmetry.
  const legs: [number, number][] = [
    [400, 30],
    [30, 900],
    [25, 25],
    [200, 20],
    [20, 600],
  ];
  let rid = 0;
  for (const [out, back] of legs) {
    exchange(clock, sync, `r${rid++}`, trueOffset, out, 3, back);
    clock.advance(1000);
  }
  const e = sync.estimate();
  t.equal(e.rttMs, 50, 'the fastest exchange is chosen');
  t.equal(e.offsetMs, trueOffset, 'and it is the symmetric one');
  // A naive mean of the offsets would be off by hundreds of ms.
  t.ok(e.trusted);
});

t.test('large offsets are known but untrusted; age erodes trust', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  exchange(clock, sync, 'x', 5000, 10, 1, 10);
  t.equal(sync.estimate().offsetMs, 5000);
  t.equal(sync.estimate().trusted, false, 'beyond clockMaxOffsetMs');

  const sync2 = new ClockSync(clock, MAX);
  exchange(clock, sync2, 'y', 100, 10, 1, 10);
  t.ok(sync2.estimate().trusted);
  // Uncertainty = 10 ms + age × 20 ppm; it crosses 2000 ms after (2000 − 10) / 20e-6 ms ≈ 27.6 h.
  const limit = ((MAX - 10) / DRIFT_PPM) * 1e6;
  clock.advance(limit - 60_000);
  t.ok(sync2.estimate().trusted, 'still trusted a little before the drift allowance runs out');
  clock.advance(120_000);
  t.equal(sync2.estimate().trusted, false, 'untrusted after ~a day without an exchange');
  t.equal(sync2.estimate().offsetMs, 100, 'the value is still the best guess');
});

t.test('a step of the local clock is detected, reported and absorbed', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  const jumps: number[] = [];
  sync.onJump((j) => jumps.push(j.stepMs));
  exchange(clock, sync, 'a', 0, 10, 1, 10);
  const before = sync.headendNow();
  clock.stepWall(-3_600_000);
  const after = sync.headendNow();
  t.same(jumps, [-3_600_000]);
  t.equal(after, before, 'headend time continues across the step');
  t.equal(sync.estimate().offsetMs, -3_600_000);
  t.equal(sync.estimate().trusted, false, 'an hour off is not trusted');
  clock.stepWall(200);
  t.equal(sync.detectJump(), null, 'small slews are not jumps');
});

t.test('bad samples are refused', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  t.same(sync.addEstimate({ offsetMs: 10, rttMs: -1 }), { ok: false, reason: 'NEGATIVE_DELAY' });
  t.same(sync.addEstimate({ offsetMs: Number.POSITIVE_INFINITY, rttMs: 1 }), {
    ok: false,
    reason: 'NOT_FINITE',
  });
  t.same(sync.addSample({ t1: 1000, t2: 1000, t3: 1500, t4: 1200 }), { ok: false, reason: 'NEGATIVE_DELAY' });
  t.same(sync.addSample({ t1: Number.NaN, t2: 1, t3: 2, t4: 3 }), { ok: false, reason: 'NOT_FINITE' });
  t.equal(sync.estimate().known, false);
});

t.test('the filter forgets samples beyond its window', async (t) => {
  const clock = new FakeClock();
  const sync = new ClockSync(clock, MAX);
  exchange(clock, sync, 'fast', 0, 1, 0, 1);
  for (let i = 0; i < FILTER_SIZE; i++) exchange(clock, sync, `s${i}`, 0, 50, 0, 50);
  t.equal(sync.estimate().rttMs, 100, `only the last ${FILTER_SIZE} samples are kept`);
});
