/**
 * Station alarms outlive the agent (device/link/alarms.ts, device/store/alarm-state.ts): the active set is
 * committed with each event, a new run restores it, and what no detector raises again is cleared by
 * `reconcile()` — so an alarm raised before a power cut cannot stay active at the headend for good.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { StationAlarms } from '../../device/link/alarms.js';
import { openStationStore, type StationStore } from '../../device/store/db.js';

const T = Date.UTC(2026, 10, 27, 6, 0, 0);

async function station(t: Test): Promise<{ open: () => StationStore }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'ruralsat-alarm-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return { open: () => openStationStore(path.join(dir, 'station.db'), { clock: { now: () => T } }) };
}

function agentAlarms(store: StationStore, now = () => T): StationAlarms {
  const r = store.alarmState.load();
  return new StationAlarms(
    (body, active) =>
      store.transaction((tx) => {
        store.outbox.appendEvent(tx, body);
        store.alarmState.save(tx, active);
      }),
    now,
    r.alarms,
  );
}

const events = (store: StationStore) =>
  store.outbox.pending({ limit: 100 }).map((r) => JSON.parse(r.payload) as Record<string, unknown>);

t.test('an alarm raised before a crash is restored, and cleared when nothing raises it again', async (t) => {
  const s = await station(t);
  const first = s.open();
  const a1 = agentAlarms(first);
  a1.raise('serial_port_missing', 'port /dev/serial/by-id/x missing', { path: '/dev/serial/by-id/x' }, 'rx1');
  a1.raise('scrambled', 'cctv1 scrambled', {}, 'rx1');
  a1.clear('scrambled', {}, 'rx1');
  const raisedId = (events(first)[0] as { alarmId: string }).alarmId;
  first.close(); // the process dies here: no clean stop

  const second = s.open();
  const a2 = agentAlarms(second, () => T + 60_000);
  t.ok(a2.isRaised('serial_port_missing', 'rx1'), 'the port alarm is active again after the restart');
  t.notOk(a2.isRaised('scrambled', 'rx1'), 'the cleared one is not');
  t.same(
    a2.unconfirmed().map((a) => a.kind),
    ['serial_port_missing'],
    'remembered, not yet seen by this run',
  );
  const before = events(second).length;
  const cleared = a2.reconcile();
  t.same(
    cleared.map((a) => a.kind),
    ['serial_port_missing'],
  );
  const last = events(second).at(-1) as { type: string; alarmId: string; evidence: { reason: string } };
  t.equal(events(second).length, before + 1, 'one clearing event');
  t.equal(last.type, 'alarm.cleared');
  t.equal(last.alarmId, raisedId, 'it clears the alarm the headend knows, by its id');
  t.match(last.evidence.reason, /not seen again after the agent restarted/);
  t.same(second.alarmState.load().alarms, [], 'and the stored set is empty');
  second.close();
});

t.test('an alarm a detector raises again after the restart stays, with its original id', async (t) => {
  const s = await station(t);
  const first = s.open();
  agentAlarms(first).raise('lnb_fault', 'LNB short', {}, 'rx1');
  first.close();
  const second = s.open();
  const a2 = agentAlarms(second);
  const before = events(second).length;
  a2.raise('lnb_fault', 'LNB short again', {}, 'rx1');
  t.equal(events(second).length, before, 'no second alarm.raised for the same alarm');
  t.same(a2.reconcile(), [], 'reconcile keeps it');
  t.ok(a2.isRaised('lnb_fault', 'rx1'));
  a2.clear('lnb_fault', { reason: 'LNB ok' }, 'rx1');
  const last = events(second).at(-1) as { type: string; alarmId: string };
  t.equal(last.type, 'alarm.cleared');
  t.equal(last.alarmId, (events(second)[0] as { alarmId: string }).alarmId, 'same id as before the restart');
  second.close();
});

t.test('facts survive reconciliation; a damaged stored set reads as none, never a crash', async (t) => {
  const s = await station(t);
  const first = s.open();
  agentAlarms(first).raise('outbox_quarantined', 'event seq 4 quarantined', { seq: 4 });
  first.close();
  const second = s.open();
  const a2 = agentAlarms(second);
  t.same(a2.reconcile(), [], 'a quarantined event is a fact, not a condition to re-check');
  t.ok(a2.isRaised('outbox_quarantined'));
  second.db.prepare("UPDATE meta SET value = '{not json' WHERE key = 'active_alarms'").run();
  t.same(second.alarmState.load(), { alarms: [], damaged: true });
  second.db
    .prepare(
      `UPDATE meta SET value = '[{"alarmId":"x","kind":"no_such_kind","raisedAt":"y"}]' WHERE key = 'active_alarms'`,
    )
    .run();
  t.same(second.alarmState.load(), { alarms: [], damaged: true }, 'an unknown kind is refused, not restored');
  second.close();
});
