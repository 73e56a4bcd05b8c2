/**
 * A scrambled or vanished service starves the recorder just like a frozen receiver does (DOMAIN.md §6
 * "Scrambled service", "Service/PID reshuffle" vs "Receiver hangs: TS frozen while locked"). The receiver's
 * own alarms travel in the same telemetry message as the starved recorder (`receivers[].alarms`), so the
 * headend explains the freeze at once — no `stream_frozen` to race the station's held `scrambled` alarm —
 * while a real freeze still raises after the ordinary `alarmRaiseHoldMs` (production profile, fake clock).
 */
import t from 'tap';
import type { AlarmEngine } from '../../headend/alarms/engine.js';
import { AlarmRaisedEvent } from '../../protocol/messages/events.js';
import { Telemetry } from '../../protocol/messages/telemetry.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, type RxInput, T0, type TmExtra, telemetry } from '../helpers/alarm-rig.js';

const S = 'st-001';
const STEP = D.telemetryActiveMs;

/** A telemetry message whose receiver rx1 reports `alarms` (`undefined` = an older agent: no field). */
function tmWith(at: number, alarms: string[] | undefined, rx: RxInput[] = [{}], extra?: TmExtra) {
  const base = telemetry(at, rx, extra);
  if (alarms === undefined) return base;
  return Telemetry.parse({
    ...base,
    receivers: base.receivers.map((r) => (r.id === 'rx1' ? { ...r, alarms } : r)),
  });
}

const starved = (i: number): TmExtra => ({ recorders: [{ bitrateBps: 0, bytes: 1000 + i }] });
const stuck: TmExtra = { recorders: [{ bitrateBps: 8e6, bytes: 5e6 }] };
const flowing = (i: number): TmExtra => ({ recorders: [{ bitrateBps: 8e6, bytes: 1e6 * (i + 10) }] });

/** Feeds telemetry now and every `STEP` for `ms`, built by `make(now, i)`. */
function feed(rig: ReturnType<typeof alarmRig>, ms: number, make: (now: number, i: number) => Telemetry) {
  let i = 0;
  rig.engine.observeTelemetry(S, make(rig.now(), i), rig.now());
  rig.run(ms, STEP, (now) => rig.engine.observeTelemetry(S, make(now, ++i), now));
}

function scrambledEvent(at: number) {
  return AlarmRaisedEvent.parse({
    type: 'alarm.raised',
    storeId: 'abcdef0123456789',
    seq: 3,
    at: new Date(at).toISOString(),
    alarmId: 'sa-9',
    kind: 'scrambled',
    severity: 'critical',
    receiverId: 'rx1',
    message: 'rx1 reports cctv1 (service id 101) scrambled since 2026-11-27 02:00:00Z',
    evidence: { service: 'cctv1' },
  });
}

function healthyStart(e: AlarmEngine) {
  e.observeTelemetry(S, tmWith(T0 - STEP, [], [{}], flowing(0)), T0 - STEP);
}

t.test('a real freeze still raises stream_frozen after the ordinary raise hold', async (t) => {
  const rig = alarmRig();
  healthyStart(rig.engine);
  // Receiver alarms present but none of them a service fault: not an explanation.
  feed(rig, 10 * 60_000, (now, i) => tmWith(now, ['berThreshold'], [{}], starved(i)));
  const raised = rig.raised('stream_frozen');
  t.equal(raised.length, 1, 'raised once');
  t.equal(
    raised[0]?.alarm.raisedAt,
    T0 + D.alarmRaiseHoldMs,
    `raised ${D.alarmRaiseHoldMs / 1000} s after onset`,
  );
  t.equal(raised[0]?.alarm.cause.row, 'receiver-hangs');
  t.notMatch(raised[0]?.alarm.evidence.text, /explained/);
});

t.test('an older agent without receiver alarms: stream_frozen as before', async (t) => {
  const rig = alarmRig();
  healthyStart(rig.engine);
  feed(rig, 3 * 60_000, (now, i) => tmWith(now, undefined, [{}], starved(i)));
  t.equal(rig.raised('stream_frozen')[0]?.alarm.raisedAt, T0 + D.alarmRaiseHoldMs);
});

t.test("the receiver's scrambled status explains a starved recorder: no stream_frozen", async (t) => {
  const rig = alarmRig();
  healthyStart(rig.engine);
  // The first starved sample can predate the receiver poll that sees the scrambling (DOMAIN.md §6).
  rig.engine.observeTelemetry(S, tmWith(T0, [], [{}], starved(0)), T0);
  rig.at(T0 + STEP);
  feed(rig, 10 * 60_000, (now, i) => tmWith(now, ['scrambled'], [{}], starved(i)));
  t.same(rig.raised(), [], 'nothing raised from telemetry: the station raises scrambled itself');
  // The station's held alarm arrives later and is the one the technician sees.
  rig.engine.observeStationAlarm(S, scrambledEvent(rig.now()), rig.now());
  feed(rig, 5 * 60_000, (now, i) => tmWith(now, ['scrambled'], [{}], starved(i)));
  t.same(
    rig.raised().map((x) => x.alarm.kind),
    ['scrambled'],
    'exactly the scrambled alarm',
  );
});

t.test("the receiver's serviceMissing status explains a stalled recorder", async (t) => {
  const rig = alarmRig();
  healthyStart(rig.engine);
  feed(rig, 10 * 60_000, (now) => tmWith(now, ['serviceMissing', 'scrambled'], [{}], stuck));
  t.same(rig.raised(), [], 'no recorder_stalled while the service is missing');
  // The service is back but the recorder stays stuck: now it is the recorder.
  const from = rig.now();
  feed(rig, 3 * 60_000, (now) => tmWith(now, [], [{}], stuck));
  const a = rig.raised('recorder_stalled')[0]?.alarm;
  t.ok(a, 'recorder_stalled once the service is back');
  t.ok(
    a && a.raisedAt - from <= D.alarmRaiseHoldMs + STEP && a.raisedAt - from >= D.alarmRaiseHoldMs,
    `raised one hold after the explanation ended (${a ? (a.raisedAt - from) / 1000 : '-'} s)`,
  );
});

t.test(
  'a freeze raised first, then the receiver reports scrambled: the alarm says so and clears',
  async (t) => {
    const rig = alarmRig();
    healthyStart(rig.engine);
    feed(rig, D.alarmRaiseHoldMs + STEP, (now, i) => tmWith(now, [], [{}], starved(i)));
    const a = rig.raised('stream_frozen')[0]?.alarm;
    t.ok(a, 'a real freeze raised');
    const from = rig.now();
    feed(rig, D.alarmClearHoldMs + 2 * STEP, (now, i) => tmWith(now, ['scrambled'], [{}], starved(i)));
    const upd = rig.of('updated', 'stream_frozen');
    t.equal(upd.length, 1, 'one evidence update');
    t.match(
      upd[0]?.alarm.evidence.text,
      /^recorder of rec-1 receives 0 bit\/s while rx1 reports lock .* — explained by the receiver's scrambled status \(rx1\)$/,
    );
    t.equal(upd[0]?.alarm.evidence.facts.explainedBy, 'scrambled');
    t.equal(upd[0]?.alarm.evidence.facts.explainedFrom, 'receiver-status');
    const c = rig.cleared('stream_frozen')[0];
    t.ok(c, 'cleared');
    t.ok(c && c.at - from >= D.alarmClearHoldMs, 'after the clear hold, not at once (no flapping)');
  },
);

t.test('telemetry receiver alarms are bounded by the schema', async (t) => {
  const base = telemetry(T0);
  const rx = base.receivers[0];
  const bad = (alarms: unknown) => Telemetry.safeParse({ ...base, receivers: [{ ...rx, alarms }] }).success;
  t.notOk(bad(Array.from({ length: 17 }, (_, i) => `a${i}`)), '17 names refused');
  t.notOk(bad(['x'.repeat(33)]), 'a 33-character name refused');
  t.notOk(bad(['']), 'an empty name refused');
  t.ok(bad(Array.from({ length: 16 }, () => 'x'.repeat(32))), '16 names of 32 characters accepted');
});
