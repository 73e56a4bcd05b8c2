/**
 * Receiver hang (DOMAIN.md §6 "Receiver hangs: consecutive timeouts → soft reset over serial, then
 * escalate"). The simulated RX8200 stops answering on its serial port before a recording's pre-roll:
 * the agent climbs the recovery ladder (re-apply; the RX8200 documents no remote reset, so it escalates),
 * raises `receiver_unresponsive`, and reports the occurrence `missed` with that reason. When the receiver
 * answers again, the ladder clears the alarm and the next recording runs normally.
 */
import t from 'tap';
import {
  agentConfig,
  STATION,
  scheduleDoc,
  startAedes,
  startHeadendDouble,
  startSimReceiver,
  startTestAgent,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

t.test('receiver hang → ladder escalates, occurrence missed, alarm raised and cleared', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const agent = await startTestAgent(
    t,
    agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl }),
  );
  headend.startClockExchanges(STATION);
  const storeId = agent.store.storeId;
  const events = () => headend.storeEvents(storeId);

  rx.sim.faults.inject({ kind: 'hang' });
  const s = Date.now() + 6000;
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'during-hang', title: 'During the hang', service: 'cctv1', start: s, end: s + 6000 },
      { id: 'after-hang', title: 'After the hang', service: 'cctv1', start: s + 16_000, end: s + 24_000 },
    ]),
  );

  const raised = await until(
    () => events().find((e) => e.type === 'alarm.raised' && e.kind === 'receiver_unresponsive'),
    'the receiver_unresponsive alarm',
    20_000,
    100,
  );
  if (raised.type !== 'alarm.raised') throw new Error('unreachable');
  t.equal(raised.receiverId, 'rx1');
  t.match(raised.message, /reset|re-apply/, `ladder escalated: ${raised.message}`);

  const missed = await until(
    () =>
      events().find(
        (e) => e.type === 'occurrence.state' && e.entryId === 'during-hang' && e.state === 'missed',
      ),
    'the first occurrence to be missed',
    20_000,
    100,
  );
  t.match(
    missed.type === 'occurrence.state' ? missed.reason : '',
    /^receiver_unresponsive: /,
    'missed because the receiver did not answer',
  );

  // The receiver answers again (a technician power-cycled it, or it recovered on its own).
  rx.sim.faults.clear('hang');
  const cleared = await until(
    () => events().find((e) => e.type === 'alarm.cleared' && e.kind === 'receiver_unresponsive'),
    'the alarm to clear',
    20_000,
    100,
  );
  t.equal(
    cleared.type === 'alarm.cleared' && cleared.alarmId,
    raised.alarmId,
    'the same alarm instance cleared',
  );

  const manifest = await until(
    () => events().find((e) => e.type === 'recording.manifest' && e.entryId === 'after-hang'),
    'the next recording',
    40_000,
    200,
  );
  t.not(manifest.type === 'recording.manifest' && manifest.outcome, 'failed', 'the next recording ran');
});
