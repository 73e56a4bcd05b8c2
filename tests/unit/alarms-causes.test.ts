/**
 * Every alarm names a probable cause from the failure table and the evidence for it (issue 8: "margin fell
 * 4 dB over 3 days while other stations on the same carrier held steady → dish alignment or snow"). One
 * test per DOMAIN.md §6 row the engine can tell apart from the evidence.
 */
import t, { type Test } from 'tap';
import { RULES, ruleOf } from '../../headend/alarms/rules.js';
import type { AlarmTransition } from '../../headend/alarms/types.js';
import { FAILURES } from '../../protocol/failures.js';
import { AlarmRaisedEvent } from '../../protocol/messages/events.js';
import { ALARM_KIND_NAMES, ALARM_KINDS } from '../../protocol/registry.js';
import { alarmRig, CARRIER_A, type RxInput, T0, telemetry } from '../helpers/alarm-rig.js';

const DAY = 86_400_000;

/** The cause text of every raised alarm is the failure-table row's, verbatim. */
function verbatim(t: Test, transitions: AlarmTransition[]): void {
  for (const tr of transitions) {
    const row = FAILURES[tr.alarm.cause.row];
    t.equal(tr.alarm.cause.failure, row.failure, `${tr.alarm.kind}: failure text from the table`);
    t.equal(tr.alarm.cause.respond, row.respond, `${tr.alarm.kind}: response text from the table`);
  }
}

t.test('dish misaligned: slow decline at one station while its carrier peers hold steady', async (t) => {
  const rig = alarmRig();
  const peers = ['st-002', 'st-003', 'st-004', 'st-005'];
  // Every 10 min for 3 days: st-001 loses 4 dB (7.9 → 3.9 dB, never below the 3 dB warning: the trend is
  // the only early sign); its peers wobble ±0.2 dB around 8 dB.
  rig.run(3 * DAY + 3_600_000, 10 * 60_000, (now) => {
    const days = (now - T0) / DAY;
    rig.engine.observeTelemetry('st-001', telemetry(now, [{ marginDb: 7.9 - (4 * days) / 3 }]), now);
    peers.forEach((p, i) => {
      rig.engine.observeTelemetry(p, telemetry(now, [{ marginDb: 8 + 0.2 * Math.sin(days * 7 + i) }]), now);
    });
  });
  const trend = rig.raised('margin_trend');
  t.equal(trend.length, 1, 'one trend alarm');
  const a = trend[0]?.alarm;
  t.equal(a?.station, 'st-001', 'at the declining station only');
  t.equal(a?.cause.row, 'dish-misaligned');
  t.equal(a?.cause.text, 'dish alignment or snow load');
  t.ok((a?.raisedAt ?? 0) - T0 < 2 * DAY, 'raised as soon as half the window shows the 2 dB decline');
  const peersText = 'while 4 other stations on 3840 MHz H 27500 ks/s held steady';
  t.match(a?.evidence.text, /^margin fell 2\.\d dB over 1\.\d days \(.+ dB\) on rx1 /);
  t.match(a?.evidence.text, peersText);
  const latest = rig.of('updated', 'margin_trend').at(-1)?.alarm;
  t.match(
    latest?.evidence.text,
    /^margin fell (3\.[7-9]|4\.0) dB over (2\.[89]|3\.0) days \(7\.\d → [34]\.\d dB\) on rx1 while 4 other stations on 3840 MHz H 27500 ks\/s held steady \(median change [+−]0\.\d dB\) → dish alignment or snow$/,
    'the evidence follows the decline',
  );
  t.equal(rig.raised('margin_low').length, 0, 'margin itself never went low');
  verbatim(t, trend);
});

t.test('the same decline at every station on the carrier is no dish problem', async (t) => {
  const rig = alarmRig();
  const all = ['st-001', 'st-002', 'st-003', 'st-004'];
  rig.run(3.5 * DAY, 10 * 60_000, (now) => {
    const m = 7.9 - (4 * Math.min((now - T0) / DAY, 3)) / 3;
    for (const s of all) rig.engine.observeTelemetry(s, telemetry(now, [{ marginDb: m }]), now);
  });
  t.equal(rig.raised('margin_trend').length, 0, 'fleet-wide decline: weather or uplink, not a local trend');
});

t.test('margin low: regional fade vs local fade', async (t) => {
  const feed = (rig: ReturnType<typeof alarmRig>, margins: Record<string, number>) =>
    rig.run(3 * 60_000, 10_000, (now) => {
      for (const [s, m] of Object.entries(margins))
        rig.engine.observeTelemetry(s, telemetry(now, [{ marginDb: m }]), now);
    });
  const regional = alarmRig();
  feed(regional, { 'st-001': 0.8, 'st-002': 1.5, 'st-003': 2.1, 'st-004': 7 });
  const r1 = regional.raised('margin_low').find((x) => x.alarm.station === 'st-001')?.alarm;
  t.equal(r1?.cause.row, 'snow-ice-fade');
  t.match(
    r1?.cause.text,
    /^regional: 2 of 3 other stations on 3840 MHz H 27500 ks\/s are low too \(weather or uplink\)$/,
  );

  const local = alarmRig();
  feed(local, { 'st-001': 0.8, 'st-002': 7, 'st-003': 7.5, 'st-004': 7 });
  const l1 = local.raised('margin_low')[0]?.alarm;
  t.equal(l1?.cause.text, 'local fade: snow or ice on the dish or feed');
  t.match(
    l1?.evidence.text,
    /^margin 0\.8 dB on rx1 on 3840 MHz H 27500 ks\/s; warning below 3\.0 dB, critical below 1\.0 dB$/,
  );
  verbatim(t, [...regional.raised(), ...local.raised()]);
});

t.test('lock lost with the LNB supply shorted points at the LNB or cable', async (t) => {
  const rig = alarmRig();
  rig.run(3 * 60_000, 10_000, (now) =>
    rig.engine.observeTelemetry('st-001', telemetry(now, [{ locked: false, lnb: 'short' }]), now),
  );
  const lost = rig.raised('signal_lost')[0]?.alarm;
  t.equal(lost?.cause.row, 'lnb-cable-fault');
  t.equal(lost?.cause.text, 'LNB or cable fault (LNB supply short)');
  t.equal(lost?.cause.respond, 'LNB power off/on once; raise site-visit alarm; no reboot loops');
  const lnb = rig.raised('lnb_fault')[0]?.alarm;
  t.equal(lnb?.cause.text, 'short circuit on the LNB cable or LNB');
  verbatim(t, rig.raised());
});

t.test('lock lost on every carrier at one station: LNB, cable or dish', async (t) => {
  const rig = alarmRig();
  const both: RxInput[] = [
    { id: 'rx1', locked: false, service: 'cctv1' },
    { id: 'rx2', locked: false, service: 'cctv13' },
  ];
  rig.run(3 * 60_000, 10_000, (now) => rig.engine.observeTelemetry('st-001', telemetry(now, both), now));
  const causes = rig
    .raised('signal_lost')
    .map((x) => [x.alarm.subject, x.alarm.cause.row, x.alarm.cause.text]);
  t.same(causes, [
    ['rx1', 'lnb-cable-fault', 'lock lost on every carrier at this station: LNB, cable or dish'],
    ['rx2', 'lnb-cable-fault', 'lock lost on every carrier at this station: LNB, cable or dish'],
  ]);
});

t.test('black or silent programme: upstream when peers on the service see the same', async (t) => {
  const rig = alarmRig();
  const ev = (alarmId: string, at: number) =>
    AlarmRaisedEvent.parse({
      type: 'alarm.raised',
      storeId: 'abcdef0123456789',
      seq: 7,
      at: new Date(at).toISOString(),
      alarmId,
      kind: 'black_or_silent',
      severity: 'warning',
      receiverId: 'rx1',
      message: 'black picture for 45 s with margin 6.0 dB',
      evidence: { blackSeconds: 45, marginDb: 6 },
    });
  rig.engine.observeTelemetry('st-001', telemetry(T0), T0);
  rig.engine.observeTelemetry('st-002', telemetry(T0), T0);
  rig.engine.observeStationAlarm('st-001', ev('b1', T0), T0);
  rig.engine.observeStationAlarm('st-002', ev('b2', T0 + 5000), T0 + 5000);
  const [first, second] = rig.raised('black_or_silent').map((x) => x.alarm);
  t.equal(first?.cause.text, 'only this station on cctv1 so far: upstream likely; check the decoder output');
  t.equal(second?.cause.text, 'upstream: 1 other station on cctv1 sees the same');
  t.equal(second?.cause.respond, "report as upstream, don't touch local equipment");
  t.equal(second?.evidence.text, 'black picture for 45 s with margin 6.0 dB');
  t.equal(second?.evidence.facts.stationAlarmId, 'b2');
  t.equal(second?.carrier, CARRIER_A);
});

t.test('station offline names the uplink row and says the station keeps recording', async (t) => {
  const rig = alarmRig();
  rig.engine.observePresence('st-001', { online: false });
  rig.run(11 * 60_000, 10_000);
  const a = rig.raised('station_offline')[0]?.alarm;
  t.equal(a?.cause.row, 'flaky-uplink');
  t.equal(a?.cause.respond, 'keep executing the local schedule; store and forward');
  t.match(a?.evidence.text, /keeps executing its local schedule/);
});

t.test('every rule names a registry kind, and every kind has a rule with holds', async (t) => {
  for (const kind of Object.keys(RULES))
    t.ok(ALARM_KIND_NAMES.includes(kind as never), `${kind} is a registry kind`);
  for (const kind of ALARM_KIND_NAMES) {
    const r = ruleOf(kind);
    t.ok(r.detect.length > 10, `${kind}: says what it watches`);
    t.ok(Object.hasOwn(FAILURES, ALARM_KINDS[kind].row), `${kind} maps to a failure row`);
  }
});
