/**
 * Station alarms outlive the agent, through the whole agent (device/agent.ts → device/agent/alarms.ts):
 * an alarm the previous run left active is restored at start — the headend is not told it cleared just
 * because the agent restarted — and, when no detector raises it again within its hold, it is cleared with
 * an event naming why. Offline first: the broker is unreachable here, so the events wait in the outbox.
 */
import { mkdir } from 'node:fs/promises';
import t from 'tap';
import { databasePath } from '../../device/config.js';
import { StationAlarms } from '../../device/link/alarms.js';
import { openStationStore, type StationStore } from '../../device/store/db.js';
import {
  agentConfig,
  sleep,
  startSimReceiver,
  startTestAgent,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

const events = (store: StationStore) =>
  store.outbox
    .pending({ limit: 100 })
    .map(
      (r) => JSON.parse(r.payload) as { type: string; kind?: string; alarmId?: string; evidence?: unknown },
    );

t.test('an alarm left active by the last run is restored, then cleared when not seen again', async (t) => {
  const dir = await tempDir(t, 'agent-alarms-restart-');
  const rx = await startSimReceiver(t);
  // Nothing listens on port 1: the agent runs offline.
  const config = agentConfig({
    dir,
    brokerUrl: 'mqtt://127.0.0.1:1',
    port: rx.port,
    streamUrl: rx.streamUrl,
  });

  // The previous run raised an LNB fault and died (no clean stop).
  const before = await (async () => {
    await mkdir(config.dataDir, { recursive: true });
    const store = openStationStore(databasePath(config), { clock: { now: () => Date.now() } });
    const alarms = new StationAlarms(
      (body, active) =>
        store.transaction((tx) => {
          store.outbox.appendEvent(tx, body);
          store.alarmState.save(tx, active);
        }),
      () => Date.now(),
    );
    alarms.raise('lnb_fault', 'LNB short on rx1', { lnb: 'short' }, 'rx1');
    const id = events(store).find((e) => e.type === 'alarm.raised')?.alarmId;
    store.close();
    return id;
  })();
  t.ok(before, 'the previous run raised it');

  const t0 = Date.now();
  const agent = await startTestAgent(t, config);
  const activeKinds = () => agent.store.alarmState.load().alarms.map((a) => a.kind);
  t.same(activeKinds(), ['lnb_fault'], 'restored at start');
  await sleep(1000);
  t.notOk(
    events(agent.store).some((e) => e.type === 'alarm.cleared'),
    'not cleared before the detectors had their hold',
  );

  const cleared = await until(
    () => events(agent.store).find((e) => e.type === 'alarm.cleared' && e.alarmId === before),
    'the restored alarm cleared',
    20_000,
  );
  t.match(JSON.stringify(cleared.evidence), /not seen again after the agent restarted/, 'says why');
  t.ok(Date.now() - t0 >= 3000, 'cleared only after the longest detector hold (short profile: 3.3 s)');
  t.same(activeKinds(), [], 'the stored active set is empty again');
});
