/**
 * Fixes from the issue 8 review of the alarm engine: a margin trend survives a headend restart (rebuilt
 * from the stored per-minute margins), facts the station never clears (`outbox_quarantined`) clear on
 * acknowledgement, a recording damaged inside a predicted sun-outage window names the sun, and the
 * annotations restored after a restart (sun outage, rejected credentials) still end.
 */
import t from 'tap';
import { carrierLookupFromLineup } from '../../headend/alarms/carriers.js';
import { type AlarmEngine, createAlarmEngine } from '../../headend/alarms/engine.js';
import type { AlarmRecord, AlarmTransition, OutageWindow } from '../../headend/alarms/types.js';
import { defaultTiming as D, timingProfile } from '../../protocol/timing.js';
import { alarmRig, LINEUP, T0, telemetry } from '../helpers/alarm-rig.js';

const MIN = 60_000;
/** A 72-minute trend window: one-minute buckets, so a decline shows within the hour. */
const TREND = timingProfile({ alarmTrendWindowMs: 72 * MIN });
const PEERS = ['st-b', 'st-c', 'st-d'];

/** Engines built so far: ids stay unique across a simulated restart, as random UUIDs are. */
let engines = 0;

function engineWith(opts: {
  history?: Map<string, { at: number; marginDb: number }[]>;
  clock: () => number;
  out: AlarmTransition[];
}): AlarmEngine {
  const engineNo = ++engines;
  let n = 0;
  return createAlarmEngine({
    timing: TREND,
    clock: opts.clock,
    carrierOf: carrierLookupFromLineup(LINEUP),
    onTransition: (tr) => opts.out.push(tr),
    newId: () => `e${engineNo}-${++n}`,
    ...(opts.history
      ? {
          marginHistory: (station: string, rx: string, from: number, to: number) =>
            (opts.history?.get(`${station}|${rx}`) ?? []).filter((m) => m.at >= from && m.at < to),
        }
      : {}),
  });
}

t.test('a margin trend alarm survives a restart: same id, rebuilt from stored margins', async (t) => {
  let now = T0;
  const history = new Map<string, { at: number; marginDb: number }[]>();
  // st-a's margin falls 4 dB over the window while its peers on the same carrier hold 6 dB.
  const marginOf = (s: string, at: number) => (s === 'st-a' ? 8 - (4 * (at - T0)) / (72 * MIN) : 6);
  const feed = (engine: AlarmEngine, until: number) => {
    for (; now < until; now += 30_000) {
      for (const s of ['st-a', ...PEERS]) {
        const marginDb = marginOf(s, now);
        engine.observeTelemetry(s, telemetry(now, [{ marginDb }]), now);
        // What telemetry ingest keeps (headend/fleet/telemetry.ts): one row per minute.
        const rows = history.get(`${s}|rx1`) ?? [];
        if (now % MIN === 0) rows.push({ at: now, marginDb });
        history.set(`${s}|rx1`, rows);
      }
      engine.tick(now);
    }
  };
  const before: AlarmTransition[] = [];
  const first = engineWith({ clock: () => now, out: before });
  feed(first, T0 + 80 * MIN);
  const raised = before.filter((x) => x.type === 'raised' && x.alarm.kind === 'margin_trend');
  t.equal(raised.length, 1, 'the decline raised a trend alarm');
  t.equal(raised[0]?.alarm.station, 'st-a');
  const saved: AlarmRecord[] = first.active();

  const after: AlarmTransition[] = [];
  const second = engineWith({ history, clock: () => now, out: after });
  second.restore(saved);
  for (const s of ['st-a', ...PEERS]) second.observePresence(s, { online: true });
  feed(second, now + 30 * MIN);
  t.same(
    after.filter((x) => x.alarm.kind === 'margin_trend').map((x) => x.type),
    after.filter((x) => x.alarm.kind === 'margin_trend' && x.type === 'updated').map(() => 'updated'),
    'no cleared or raised transition for the trend after the restart (evidence updates only)',
  );
  t.same(
    second.active({ kind: 'margin_trend' }).map((a) => a.id),
    [raised[0]?.alarm.id],
    'the same alarm is still active half an hour after the restart',
  );
});

t.test('outbox_quarantined: a fact with no end, cleared by the acknowledgement', async (t) => {
  const rig = alarmRig();
  rig.engine.observeStationAlarm('st-001', {
    type: 'alarm.raised',
    alarmId: 'q-7',
    kind: 'outbox_quarantined',
    severity: 'warning',
    message: 'event seq 7 quarantined: payload too large',
    evidence: { seq: 7, storeId: 'abcdef0123456789' },
  });
  rig.run(60 * MIN, MIN);
  t.equal(rig.raised('outbox_quarantined').length, 1);
  t.equal(rig.cleared().length, 0, 'still there an hour later');
  const a = rig.raised('outbox_quarantined')[0]?.alarm as AlarmRecord;
  // Across a restart too: the restored fact stays until acknowledged, and the acknowledgement clears it.
  const out: AlarmTransition[] = [];
  const again = engineWith({ clock: rig.now, out });
  again.restore([a]);
  again.observePresence('st-001', { online: true });
  again.tick(rig.now() + 60 * MIN);
  t.equal(again.active().length, 1, 'restored, not cleared by the reconnect');
  rig.engine.acknowledge(a.id, 'zhao.tech');
  t.equal(rig.cleared('outbox_quarantined').length, 1, 'acknowledged: cleared');
  again.acknowledge(a.id, 'zhao.tech', rig.now() + 61 * MIN);
  t.same(
    out.map((x) => x.type),
    ['acknowledged', 'cleared'],
    'the restored one clears on acknowledgement too',
  );
});

/** A predicted window 04:17–04:31 on 6 March 2026 (the Pingliang window of alarms-sun.test.ts). */
const W: OutageWindow = {
  startMs: Date.parse('2026-03-06T04:17:12Z'),
  endMs: Date.parse('2026-03-06T04:31:35Z'),
  peakMs: Date.parse('2026-03-06T04:24:20Z'),
};
const sunOutage = (_s: string, from: number, to: number) => (from < W.endMs && to > W.startMs ? [W] : []);

t.test('a recording damaged inside a predicted sun outage names the sun, as info', async (t) => {
  const end = Date.parse('2026-03-06T05:00:00Z');
  const rig = alarmRig({ sunOutage, start: end });
  rig.engine.observeRecording('st-001', {
    recordingId: 'r1',
    entryId: 'news',
    nominalStart: '2026-03-06T04:00:00Z',
    outcome: 'completed_with_errors',
    quality: 80,
    reason: 'stream stalled 2 times',
    durationMs: 50 * MIN,
    gapsMs: 10 * MIN,
    segments: [
      { start: '2026-03-06T04:00:00Z', end: '2026-03-06T04:19:00Z', gaps: 0 },
      { start: '2026-03-06T04:29:00Z', end: '2026-03-06T05:00:00Z', gaps: 0 },
    ],
  });
  const a = rig.raised('recording_degraded')[0]?.alarm;
  t.equal(a?.severity, 'info', 'expected loss: info, not a warning');
  t.equal(a?.cause.row, 'sun-outage', `cause: ${a?.cause.text}`);
  t.notMatch(a?.cause.text, /stall/, 'never blamed on a stream stall');
  t.match(a?.evidence.text, /sun outage/);

  // The same damage on a day without a window is still the stall it looks like.
  const other = alarmRig({ sunOutage, start: Date.parse('2026-03-20T05:00:00Z') });
  other.engine.observeRecording('st-001', {
    recordingId: 'r2',
    entryId: 'news',
    nominalStart: '2026-03-20T04:00:00Z',
    outcome: 'completed_with_errors',
    quality: 80,
    reason: 'stream stalled 2 times',
    segments: [
      { start: '2026-03-20T04:00:00Z', end: '2026-03-20T04:19:00Z', gaps: 0 },
      { start: '2026-03-20T04:29:00Z', end: '2026-03-20T05:00:00Z', gaps: 0 },
    ],
  });
  const b = other.raised('recording_degraded')[0]?.alarm;
  t.equal(b?.severity, 'warning');
  t.equal(b?.cause.row, 'stream-stall');

  // Gaps only outside the window (a stall at 04:45, after it): not the sun's doing.
  const late = alarmRig({ sunOutage, start: end });
  late.engine.observeRecording('st-001', {
    recordingId: 'r3',
    entryId: 'news',
    nominalStart: '2026-03-06T04:00:00Z',
    outcome: 'completed_with_errors',
    quality: 80,
    reason: 'stream stalled',
    segments: [
      { start: '2026-03-06T04:00:00Z', end: '2026-03-06T04:45:00Z', gaps: 0 },
      { start: '2026-03-06T04:47:00Z', end: '2026-03-06T05:00:00Z', gaps: 0 },
    ],
  });
  t.equal(late.raised('recording_degraded')[0]?.alarm.cause.row, 'stream-stall');
});

t.test('a sun-outage annotation restored after a restart still ends with its window', async (t) => {
  const start = Date.parse('2026-03-06T04:18:00Z');
  const rig = alarmRig({ sunOutage, start });
  rig.run(12 * MIN, 10_000, (now) =>
    rig.engine.observeTelemetry('st-001', telemetry(now, [{ locked: false }]), now),
  );
  const sun = rig.raised('sun_outage')[0]?.alarm as AlarmRecord;
  t.ok(sun, 'annotated');
  const out: AlarmTransition[] = [];
  let now = rig.now();
  const again = engineWith({ clock: () => now, out });
  again.restore(rig.engine.active({ kind: 'sun_outage' }));
  now = W.endMs + D.sunOutageGuardMs - 1000;
  again.tick(now);
  t.equal(again.active({ kind: 'sun_outage' }).length, 1, 'kept while the window lasts');
  now = W.endMs + D.sunOutageGuardMs + 1000;
  again.tick(now);
  t.same(
    out.map((x) => [x.type, x.alarm.id]),
    [['cleared', sun.id]],
    'ended with the window (plus guard)',
  );
});

t.test('a credentials alarm restored after a restart clears once the rejections stay away', async (t) => {
  const rig = alarmRig();
  for (let i = 0; i < 3; i++)
    rig.engine.observeCredentialsRejected({ username: 'st-042', clientId: 'st-042', reason: 'wrong-secret' });
  const a = rig.raised('credentials_rejected')[0]?.alarm as AlarmRecord;
  t.ok(a, 'raised');
  const out: AlarmTransition[] = [];
  let now = rig.now();
  const again = engineWith({ clock: () => now, out });
  again.restore([a]);
  for (; now < rig.now() + D.offlineGraceMs + D.alarmClearHoldMs + 2 * MIN; now += 10_000) again.tick(now);
  t.same(
    out.map((x) => x.type),
    ['cleared'],
    'cleared after the quiet grace period and clear hold',
  );
  t.match(out[0]?.at, Number, 'at a definite time');
  t.ok((out[0]?.at ?? 0) - rig.now() >= D.offlineGraceMs, 'not before a quiet grace period');
});
