/**
 * Each alarm rule, table-driven on a fake clock with the production timing profile: the condition raises
 * exactly when its raise hold has run (not a second earlier), names the right severity and failure-table
 * row (DOMAIN.md §6), and clears exactly when its clear hold has run after the condition ends.
 */
import t from 'tap';
import type { AlarmEngine } from '../../headend/alarms/engine.js';
import { RECORDING_DEGRADED_KIND, RECORDING_FAILED_KIND } from '../../headend/alarms/rules.js';
import type { FailureId } from '../../protocol/failures.js';
import { AlarmClearedEvent, AlarmRaisedEvent } from '../../protocol/messages/events.js';
import type { AlarmKind, AlarmSeverity } from '../../protocol/registry.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, type RxInput, T0, type TmExtra, telemetry } from '../helpers/alarm-rig.js';

const S = 'st-001';
const tm = (e: AlarmEngine, now: number, rx: RxInput[] = [{}], extra?: TmExtra) =>
  e.observeTelemetry(S, telemetry(now, rx, extra), now);

interface Case {
  name: string;
  kind: AlarmKind;
  severity: AlarmSeverity;
  row: FailureId;
  raiseMs: number;
  clearMs: number;
  /** Condition present: called at onset, and every second when `periodic`. */
  bad: (e: AlarmEngine, now: number, i: number) => void;
  good: (e: AlarmEngine, now: number, i: number) => void;
  periodic: boolean;
  /** Text the evidence must contain. */
  evidence: RegExp;
  /** Healthy state 10 s before the onset (default: healthy telemetry). */
  start?: (e: AlarmEngine, now: number) => void;
}

const GiB = 2 ** 30;
const sched = { epoch: 1, n: 5 };
const cases: Case[] = [
  {
    name: 'station offline after the grace period',
    kind: 'station_offline',
    severity: 'warning',
    row: 'flaky-uplink',
    raiseMs: D.offlineGraceMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => e.observePresence(S, { online: false, at: now }),
    good: (e, now) => e.observePresence(S, { online: true, at: now }),
    periodic: false,
    evidence: /disconnected since 2026-11-27 02:00:00Z/,
  },
  {
    name: 'no lock while the receiver is tuned for the plan',
    kind: 'signal_lost',
    severity: 'critical',
    row: 'snow-ice-fade',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{ locked: false }]),
    good: (e, now) => tm(e, now),
    periodic: true,
    evidence: /rx1 has no lock on 3840 MHz H 27500 ks\/s \(service cctv1\)/,
  },
  {
    name: 'margin below 3 dB is a warning',
    kind: 'margin_low',
    severity: 'warning',
    row: 'snow-ice-fade',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{ marginDb: 2.2 }]),
    good: (e, now) => tm(e, now, [{ marginDb: 4 }]),
    periodic: true,
    evidence: /margin 2\.2 dB on rx1 on 3840 MHz H/,
  },
  {
    name: 'margin below 1 dB is critical',
    kind: 'margin_low',
    severity: 'critical',
    row: 'snow-ice-fade',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{ marginDb: 0.4 }]),
    good: (e, now) => tm(e, now, [{ marginDb: 4 }]),
    periodic: true,
    evidence: /margin 0\.4 dB/,
  },
  {
    name: 'margin from C/N and the carrier modulation/FEC when the station gives no margin',
    kind: 'margin_low',
    severity: 'critical',
    row: 'snow-ice-fade',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    // DVB-S QPSK 3/4 needs 6.91 dB (DOMAIN.md §2): 7.5 dB measured = 0.6 dB margin.
    bad: (e, now) => tm(e, now, [{ marginDb: null, cnDb: 7.5 }]),
    good: (e, now) => tm(e, now, [{ marginDb: null, cnDb: 11 }]),
    periodic: true,
    evidence: /margin 0\.6 dB \(C\/N 7\.5 dB, needs 6\.9 dB for DVB-S QPSK 3\/4\)/,
  },
  {
    name: 'no stream data while the receiver reports lock',
    kind: 'stream_frozen',
    severity: 'critical',
    row: 'receiver-hangs',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now, i) => tm(e, now, [{}], { recorders: [{ bitrateBps: 0, bytes: 1000 + i }] }),
    good: (e, now, i) => tm(e, now, [{}], { recorders: [{ bitrateBps: 8e6, bytes: 1e6 * (i + 10) }] }),
    periodic: true,
    evidence: /receives 0 bit\/s while rx1 reports lock/,
  },
  {
    name: 'recording file not growing while its input has data',
    kind: 'recorder_stalled',
    severity: 'warning',
    row: 'stream-stall',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{}], { recorders: [{ bitrateBps: 8e6, bytes: 5e6 }] }),
    good: (e, now, i) => tm(e, now, [{}], { recorders: [{ bitrateBps: 8e6, bytes: 6e6 + 1e6 * i }] }),
    // The file had grown to 5 MB; from the onset on it stays there.
    start: (e, now) => tm(e, now, [{}], { recorders: [{ bitrateBps: 8e6, bytes: 5e6 }] }),
    periodic: true,
    evidence: /stuck at 5000000 bytes while its input carries 8000 kbit\/s/,
  },
  {
    name: 'receiver does not answer on its control port',
    kind: 'receiver_unresponsive',
    severity: 'critical',
    row: 'receiver-hangs',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{ link: 'down' }]),
    good: (e, now) => tm(e, now),
    periodic: true,
    evidence: /receiver rx1 does not answer/,
  },
  {
    name: 'LNB supply short',
    kind: 'lnb_fault',
    severity: 'critical',
    row: 'lnb-cable-fault',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{ lnb: 'short' }]),
    good: (e, now) => tm(e, now),
    periodic: true,
    evidence: /LNB supply of rx1 reports short/,
  },
  {
    name: 'disk nearly full',
    kind: 'disk_low',
    severity: 'warning',
    row: 'disk-full',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{}], { disk: { freeBytes: 5 * GiB, usedBytes: 95 * GiB } }),
    good: (e, now) => tm(e, now, [{}], { disk: { freeBytes: 20 * GiB, usedBytes: 80 * GiB } }),
    periodic: true,
    evidence: /5 % free \(5\.0 GiB of 100 GiB\)/,
  },
  {
    name: 'disk full',
    kind: 'disk_full',
    severity: 'critical',
    row: 'disk-full',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => tm(e, now, [{}], { disk: { freeBytes: 1 * GiB, usedBytes: 99 * GiB } }),
    good: (e, now) => tm(e, now, [{}], { disk: { freeBytes: 50 * GiB, usedBytes: 50 * GiB } }),
    periodic: true,
    evidence: /recordings disk full: 1 % free/,
  },
  {
    name: 'clock offset beyond the limit (min-RTT filtered)',
    kind: 'clock_untrusted',
    severity: 'warning',
    row: 'clock-drift',
    raiseMs: D.alarmRaiseHoldMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) => e.observeClock(S, { offsetMs: 3400, rttMs: 40, trusted: true, at: now }),
    // Exchanges every 5 min: an old bad sample leaves the 8-exchange window only after 40 min, so the
    // good ones must win by their shorter round trip.
    good: (e, now) => e.observeClock(S, { offsetMs: 120, rttMs: 20, trusted: true, at: now }),
    periodic: true,
    evidence: /station clock 3\.4 s ahead of the headend \(best of \d+ exchanges, RTT 40 ms\); limit 2\.0 s/,
  },
  {
    name: 'schedule not applied while connected',
    kind: 'schedule_lag',
    severity: 'warning',
    row: 'schedule-not-applied',
    raiseMs: D.scheduleLagAlarmMs,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) =>
      e.observeSchedule(S, { desired: sched, applied: { epoch: 1, n: 4 }, issued: true, at: now }),
    good: (e, now) => e.observeSchedule(S, { desired: sched, applied: sched, issued: true, at: now }),
    periodic: false,
    evidence: /station runs e1\.n4 while the headend issued e1\.n5/,
  },
  {
    name: 'station reports a version the headend never issued',
    kind: 'schedule_unknown_version',
    severity: 'critical',
    row: 'schedule-unknown-version',
    raiseMs: 0,
    clearMs: D.alarmClearHoldMs,
    bad: (e, now) =>
      e.observeSchedule(S, {
        desired: sched,
        applied: { epoch: 1, n: 9 },
        appliedHash: 'ab'.repeat(32),
        issued: false,
        at: now,
      }),
    good: (e, now) => e.observeSchedule(S, { desired: sched, applied: sched, issued: true, at: now }),
    periodic: false,
    evidence: /reports schedule e1\.n9 \(sha256 abababababab…\), which this headend never issued/,
  },
  {
    name: 'station-reported scrambled service is relayed at once',
    kind: 'scrambled',
    severity: 'critical',
    row: 'scrambled-service',
    raiseMs: 0,
    clearMs: 0,
    bad: (e, now) => e.observeStationAlarm(S, stationAlarm('scrambled', 'critical', now), now),
    good: (e, now) =>
      e.observeStationAlarm(
        S,
        AlarmClearedEvent.parse({
          type: 'alarm.cleared',
          storeId: STORE,
          seq: 2,
          at: iso(now),
          alarmId: 'sa-1',
          kind: 'scrambled',
        }),
        now,
      ),
    periodic: false,
    evidence: /service cctv1 is scrambled/,
  },
];

const STORE = 'abcdef0123456789';
const iso = (ms: number) => new Date(ms).toISOString();
/** A station's alarm event, validated by the protocol schema. */
function stationAlarm(kind: 'scrambled' | 'black_or_silent', severity: AlarmSeverity, at: number) {
  return AlarmRaisedEvent.parse({
    type: 'alarm.raised',
    storeId: STORE,
    seq: 1,
    at: iso(at),
    alarmId: 'sa-1',
    kind,
    severity,
    receiverId: 'rx1',
    message: 'service cctv1 is scrambled',
    evidence: { service: 'cctv1' },
  });
}

for (const c of cases) {
  t.test(c.name, async (t) => {
    const rig = alarmRig();
    let i = 0;
    // A healthy start, so "cleared" means the condition ended, not that data was missing.
    if (c.start) c.start(rig.engine, T0 - 10_000);
    else if (c.kind !== 'station_offline') tm(rig.engine, T0 - 10_000);
    c.bad(rig.engine, T0, i);
    const step = 1000;
    const feed = (fn: Case['bad']) => (c.periodic ? (now: number) => fn(rig.engine, now, ++i) : undefined);
    if (c.raiseMs > 0) {
      rig.run(c.raiseMs - step, step, feed(c.bad));
      t.equal(rig.raised(c.kind).length, 0, `not raised 1 s before its hold of ${c.raiseMs / 1000} s`);
      rig.run(step, step, feed(c.bad));
    }
    const raised = rig.raised(c.kind);
    t.equal(raised.length, 1, 'raised once the hold has run');
    const a = raised[0]?.alarm;
    t.equal(a?.severity, c.severity, 'severity');
    t.equal(a?.cause.row, c.row, 'cause names its DOMAIN.md §6 row');
    t.equal(a?.raisedAt, T0 + c.raiseMs, 'raised at onset + hold');
    t.match(a?.evidence.text, c.evidence, 'evidence says what was seen');
    t.equal(a?.station, S);

    const goodFrom = rig.now();
    c.good(rig.engine, goodFrom, ++i);
    if (c.clearMs > 0) {
      rig.run(c.clearMs - step, step, feed(c.good));
      t.equal(
        rig.cleared(c.kind).length,
        0,
        `not cleared 1 s before its clear hold of ${c.clearMs / 1000} s`,
      );
      rig.run(step, step, feed(c.good));
    }
    t.equal(
      rig.cleared(c.kind).length,
      1,
      'cleared automatically once the condition ended for the clear hold',
    );
    t.equal(rig.cleared(c.kind)[0]?.alarm.clearedAt, goodFrom + c.clearMs);
    t.equal(rig.raised(c.kind).length, 1, 'raised exactly once in all');
    t.same(rig.engine.active(), [], 'nothing left active');
  });
}

t.test(
  'credentials rejected: raised at the threshold within the grace period, cleared after quiet',
  async (t) => {
    const rig = alarmRig();
    const reject = () =>
      rig.engine.observeCredentialsRejected({
        username: 'st-042',
        clientId: 'st-042',
        reason: 'wrong-secret',
      });
    reject();
    rig.run(1000, 1000);
    reject();
    t.equal(rig.raised().length, 0, 'two rejections: a typo during provisioning pages nobody');
    rig.run(2000, 1000);
    reject();
    const a = rig.raised('credentials_rejected')[0]?.alarm;
    t.equal(a?.station, 'st-042');
    t.equal(a?.cause.row, 'credentials-rejected');
    t.match(a?.cause.text, /wrong or rotated secret/);
    t.match(a?.evidence.text, /3 rejected connections for "st-042" within 10 min \(last: wrong-secret\)/);
    rig.run(D.offlineGraceMs + D.alarmClearHoldMs - 10_000, 1000);
    t.equal(rig.cleared().length, 0, 'still within the quiet period');
    rig.run(20_000, 1000);
    t.equal(
      rig.cleared('credentials_rejected').length,
      1,
      'cleared after a quiet grace period plus the clear hold',
    );
  },
);

t.test('credentials rejected under a name that is no station id is a fleet-scope alarm', async (t) => {
  const rig = alarmRig();
  for (let i = 0; i < 3; i++)
    rig.engine.observeCredentialsRejected({ username: null, clientId: 'Evil Client', reason: 'no-username' });
  const a = rig.raised('credentials_rejected')[0]?.alarm;
  t.equal(a?.station, null);
  t.equal(a?.scope, 'fleet');
  t.equal(a?.subject, 'Evil Client');
});

t.test('a schedule rejection raises at once, without waiting for the lag limit', async (t) => {
  const rig = alarmRig();
  rig.engine.observeSchedule(S, {
    desired: sched,
    applied: { epoch: 1, n: 4 },
    issued: true,
    rejection: { version: sched, code: 'UNKNOWN_RECEIVER', reason: 'receiver rx9 is not configured' },
  });
  const a = rig.raised('schedule_lag')[0]?.alarm;
  t.ok(a, 'raised');
  t.match(a?.evidence.text, /rejected schedule e1\.n5: UNKNOWN_RECEIVER — receiver rx9 is not configured/);
});

t.test('schedule lag counts only while connected, from the reconnect', async (t) => {
  const rig = alarmRig();
  rig.engine.observePresence(S, { online: true });
  rig.engine.observeSchedule(S, { desired: sched, applied: { epoch: 1, n: 4 }, issued: true });
  rig.run(60_000, 1000);
  rig.engine.observePresence(S, { online: false });
  rig.run(D.scheduleLagAlarmMs, 1000);
  t.equal(rig.raised('schedule_lag').length, 0, 'no lag alarm while disconnected');
  rig.engine.observePresence(S, { online: true });
  rig.engine.observeSchedule(S, { desired: sched, applied: { epoch: 1, n: 4 }, issued: true });
  rig.run(D.scheduleLagAlarmMs - 1000, 1000);
  t.equal(rig.raised('schedule_lag').length, 0, 'the time before the outage does not count');
  rig.run(1000, 1000);
  t.equal(rig.raised('schedule_lag').length, 1, 'raised a full lag limit after the reconnect');
});

t.test('a receiver the plan does not need may be unlocked', async (t) => {
  const rig = alarmRig();
  rig.run(10 * 60_000, 10_000, (now) =>
    rig.engine.observeTelemetry(S, telemetry(now, [{ locked: false, service: null }]), now),
  );
  t.same(rig.raised(), [], 'idle receiver without lock: no alarm');
});

t.test('margin escalates warning → critical and back, never silently', async (t) => {
  const rig = alarmRig();
  const feed = (m: number) => (now: number) => tm(rig.engine, now, [{ marginDb: m }]);
  rig.run(2 * 60_000, 10_000, feed(2));
  rig.run(2 * 60_000, 10_000, feed(0.5));
  rig.run(3 * 60_000, 10_000, feed(2));
  const sev = rig.of('severity', 'margin_low');
  t.same(
    sev.map((s) => [s.previousSeverity, s.alarm.severity]),
    [
      ['warning', 'critical'],
      ['critical', 'warning'],
    ],
  );
  t.equal(rig.raised('margin_low').length, 1, 'one alarm throughout');
});

t.test('while a station is disconnected its signal alarms keep their state', async (t) => {
  const rig = alarmRig();
  rig.run(2 * 60_000, 10_000, (now) => tm(rig.engine, now, [{ locked: false }]));
  t.equal(rig.raised('signal_lost').length, 1);
  rig.engine.observePresence(S, { online: false });
  rig.run(30 * 60_000, 10_000);
  t.equal(rig.cleared('signal_lost').length, 0, 'no telemetry is not "recovered"');
  t.equal(rig.raised('station_offline').length, 1, 'the offline alarm speaks for the station');
});

t.test('recording outcomes', async (t) => {
  const rig = alarmRig();
  const m = { recordingId: 'r1', entryId: 'e1', nominalStart: '2026-11-27T01:00:00Z', quality: 40 };
  rig.engine.observeRecording(S, { ...m, outcome: 'failed', reason: 'no space left on device' });
  rig.engine.observeRecording(S, { ...m, recordingId: 'r2', outcome: 'completed_with_errors', quality: 80 });
  const failed = rig.raised(RECORDING_FAILED_KIND)[0]?.alarm;
  t.equal(failed?.cause.row, 'disk-full', 'a failure for lack of space points at the disk row');
  t.equal(rig.raised(RECORDING_DEGRADED_KIND).length, 1);
  rig.engine.observeRecording(S, { ...m, recordingId: 'r3', outcome: 'completed', quality: 100 });
  t.equal(rig.cleared().length, 2, 'a good recording clears both');
});

t.test('event conflicts latch until acknowledged', async (t) => {
  const rig = alarmRig();
  rig.engine.observeCondition({ station: S, kind: 'event_conflict', active: true });
  rig.engine.observeCondition({ station: S, kind: 'event_conflict', active: false });
  rig.run(60 * 60_000, 60_000);
  t.equal(rig.cleared().length, 0, 'a conflict has no end: it stays');
  const id = rig.raised('event_conflict')[0]?.alarm.id as string;
  rig.engine.acknowledge(id, 'li.tech');
  t.equal(rig.cleared('event_conflict').length, 1, 'cleared by the acknowledgement');
});

t.test('clock: the minimum-RTT filter ignores exchanges delayed on a slow uplink', async (t) => {
  const rig = alarmRig();
  // Every 5 min an exchange: mostly 30 ms round trips showing 0.1 s; every third one took 2.5 s over a
  // congested 3G link, and its asymmetric delay shows as a 4 s "offset".
  let i = 0;
  rig.run(60 * 60_000, 10_000, (now) => {
    if ((now - T0) % D.clockExchangeMs !== 0) return; // ticks every 10 s, exchanges every 5 min
    const slow = ++i % 3 === 0;
    rig.engine.observeClock(S, {
      offsetMs: slow ? 4000 : 100,
      rttMs: slow ? 2500 : 30,
      trusted: true,
      at: now,
    });
  });
  t.same(rig.raised(), [], 'no clock alarm from the delayed exchanges');
});
