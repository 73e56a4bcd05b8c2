/**
 * Fleet correlation (DOMAIN.md §6 "Satellite/carrier change or satellite anomaly: lock lost at many
 * stations at once — tell fleet-wide events from local ones"; issue 8: "Carrier loss at many stations
 * yields one fleet alarm"). Fake clock, production timing, telemetry every 10 s per station.
 */
import t from 'tap';
import { fleetVerdict } from '../../headend/alarms/fleet.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { alarmRig, CARRIER_A, type RxInput, telemetry } from '../helpers/alarm-rig.js';

const ids = (n: number, prefix = 'st') =>
  Array.from({ length: n }, (_, i) => `${prefix}-${String(i + 1).padStart(3, '0')}`);

/** Stations on carrier A (cctv1); `bad(station, now)` says which have lost lock. */
function fleet(stations: string[], extra: string[] = []) {
  const rig = alarmRig();
  const all = [...stations, ...extra];
  const state = new Map<string, RxInput>();
  const step = (now: number) => {
    for (const s of all) rig.engine.observeTelemetry(s, telemetry(now, [state.get(s) ?? {}]), now);
  };
  rig.run(30_000, 10_000, step); // everyone healthy first
  return {
    rig,
    lose: (list: string[]) => {
      for (const s of list) state.set(s, { locked: false });
    },
    recover: (list: string[]) => {
      for (const s of list) state.delete(s);
    },
    run: (ms: number) => rig.run(ms, 10_000, step),
  };
}

t.test('37 stations losing one carrier at once: exactly one fleet alarm and no station alarms', async (t) => {
  const f = fleet(ids(37), ids(3, 'other'));
  f.lose(ids(37));
  f.run(10 * 60_000);
  const fleetAlarms = f.rig.raised('fleet_signal_lost');
  t.equal(fleetAlarms.length, 1, 'one fleet alarm');
  t.equal(f.rig.raised('signal_lost').length, 0, 'no station alarms');
  const a = fleetAlarms[0]?.alarm;
  t.equal(a?.scope, 'fleet');
  t.equal(a?.carrier, CARRIER_A);
  t.equal(a?.station, null);
  t.equal(a?.severity, 'critical');
  t.equal(a?.cause.row, 'carrier-change');
  t.match(
    a?.evidence.text,
    /^carrier lost at 37 stations — upstream or satellite: 37 of 40 stations on 3840 MHz H 27500 ks\/s/,
  );
  t.equal(a?.evidence.facts.lostStations, 37);
  t.same(
    f.rig.engine.active().map((x) => x.kind),
    ['fleet_signal_lost'],
    'the fleet board shows one alarm',
  );
});

t.test('2 stations losing the carrier: two station alarms, no fleet alarm', async (t) => {
  const f = fleet(ids(40));
  f.lose(ids(2));
  f.run(5 * 60_000);
  t.equal(f.rig.raised('fleet_signal_lost').length, 0);
  t.same(
    f.rig.raised('signal_lost').map((x) => x.alarm.station),
    ids(2),
  );
});

t.test('5 of 40 is too small a share for a fleet event (threshold ≥ 5 and ≥ 30 %)', async (t) => {
  const f = fleet(ids(40));
  f.lose(ids(5));
  f.run(5 * 60_000);
  t.equal(f.rig.raised('fleet_signal_lost').length, 0);
  t.equal(f.rig.raised('signal_lost').length, 5);
});

t.test('losses spread over days are local problems, not one fleet event', async (t) => {
  const f = fleet(ids(10));
  for (const s of ids(6)) {
    f.lose([s]);
    f.run(60 * 60_000);
  }
  t.equal(f.rig.raised('fleet_signal_lost').length, 0, 'onsets an hour apart never form a cluster');
  t.equal(f.rig.raised('signal_lost').length, 6);
});

t.test('fleet ends but a station stays bad: it is released to its own alarm', async (t) => {
  const f = fleet(ids(37));
  f.lose(ids(37));
  f.run(5 * 60_000);
  const fleetId = f.rig.raised('fleet_signal_lost')[0]?.alarm.id;
  t.ok(fleetId, 'fleet alarm up');
  f.recover(ids(37).slice(2));
  f.run(D.alarmClearHoldMs + 30_000);
  t.equal(f.rig.cleared('fleet_signal_lost').length, 1, 'fleet alarm cleared once the carrier came back');
  const released = f.rig.raised('signal_lost');
  t.same(
    released.map((x) => x.alarm.station),
    ids(2),
    'the two stations still without lock get their own alarms',
  );
  t.match(released[0]?.alarm.evidence.text, new RegExp(`still bad after fleet alarm ${fleetId} ended`));
  t.equal(released[0]?.alarm.cause.row, 'snow-ice-fade', 'now a local cause');
});

t.test('a station already alarmed before the fleet formed is linked, then unlinked', async (t) => {
  const f = fleet(ids(20));
  f.lose(['st-001']);
  f.run(3 * 60_000);
  const own = f.rig.raised('signal_lost');
  t.equal(own.length, 1, 'st-001 alarmed alone first');
  f.lose(ids(20));
  f.run(3 * 60_000);
  const fleetId = f.rig.raised('fleet_signal_lost')[0]?.alarm.id;
  t.ok(fleetId);
  t.equal(f.rig.raised('signal_lost').length, 1, 'no new station alarms');
  t.same(
    f.rig.of('linked').map((x) => [x.alarm.station, x.alarm.linkedTo]),
    [['st-001', fleetId]],
    'st-001 folded into the fleet alarm',
  );
  f.recover(ids(20).slice(1));
  f.run(D.alarmClearHoldMs + 30_000);
  t.same(
    f.rig.of('unlinked').map((x) => x.alarm.station),
    ['st-001'],
  );
  t.equal(f.rig.engine.active({ station: 'st-001' }).length, 1, 'its own alarm stays');
});

t.test('stations losing the carrier after the fleet alarm join it; the count grows', async (t) => {
  const f = fleet(ids(30));
  f.lose(ids(12));
  f.run(3 * 60_000);
  t.equal(f.rig.raised('fleet_signal_lost').length, 1);
  f.lose(ids(30));
  f.run(5 * 60_000);
  t.equal(f.rig.raised('signal_lost').length, 0, 'late stations fold into the fleet alarm');
  const upd = f.rig.of('updated', 'fleet_signal_lost').at(-1);
  t.equal(upd?.alarm.evidence.facts.lostStations, 30);
});

t.test('fleet verdict thresholds', async (t) => {
  const p = { minStations: 5, minShare: 0.3, windowMs: 120_000 };
  const lost = (n: number, gap = 1000) => ids(n).map((station, i) => ({ station, since: i * gap }));
  t.equal(fleetVerdict('X', lost(5), 10, false, p).on, true, '5 of 10 within the window');
  t.equal(fleetVerdict('X', lost(4), 4, false, p).on, false, 'fewer than 5');
  t.equal(fleetVerdict('X', lost(5), 20, false, p).on, false, '25 % < 30 %');
  t.equal(fleetVerdict('X', lost(5, 60_000), 10, false, p).on, false, 'onsets spread over 4 min');
  t.equal(fleetVerdict('X', lost(5, 60_000), 10, true, p).on, true, 'an active fleet alarm needs no cluster');
});
