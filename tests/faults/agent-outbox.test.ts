/**
 * An outbox row the broker keeps refusing (DESIGN.md §4: "the embedded broker disconnects on a denied
 * publish, so an outbox row that keeps causing disconnects is quarantined and reported, not retried
 * forever"). aedes here refuses one kind of event (as an ACL mistake would) and closes the connection each
 * time; after `outboxQuarantineAfter` disconnects with that row in flight it is quarantined, the alarm
 * reaches the headend, the link stays up, and later events flow again.
 */
import t from 'tap';
import {
  agentConfig,
  STATION,
  scheduleDoc,
  sleep,
  startAedes,
  startHeadendDouble,
  startSimReceiver,
  startTestAgent,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

t.test('a row that keeps causing disconnects is quarantined and reported', async (t) => {
  const dir = await tempDir(t);
  let refusals = 0;
  const broker = await startAedes(t, {
    authorizePublish: (client, packet, done) => {
      if (client?.id === STATION && packet.payload.toString().includes('"type":"schedule.rejected"')) {
        refusals++;
        done(new Error('denied by ACL'));
        return;
      }
      done(null);
    },
  });
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const agent = await startTestAgent(
    t,
    agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl }),
  );
  await until(() => agent.link.connected, 'connected');
  const storeId = agent.store.storeId;
  const quarantineAfter = agent.timing.outboxQuarantineAfter;

  // An invalid schedule: the agent's `schedule.rejected` event is the one the broker refuses.
  await headend.publishSchedule(STATION, '{"not":"a schedule"}');
  const alarm = await until(
    () =>
      headend.storeEvents(storeId).find((e) => e.type === 'alarm.raised' && e.kind === 'outbox_quarantined'),
    'the outbox_quarantined alarm at the headend',
    20_000,
    100,
  );
  t.equal(
    refusals,
    quarantineAfter,
    `refused ${refusals} times, then quarantined (outboxQuarantineAfter = ${quarantineAfter})`,
  );
  const quarantined = agent.store.outbox.quarantined();
  t.equal(quarantined.length, 1, 'one row quarantined');
  t.equal(quarantined[0]?.type, 'schedule.rejected', 'the refused event');
  t.same(
    alarm.type === 'alarm.raised' && alarm.evidence,
    { seq: quarantined[0]?.seq ?? -1, storeId },
    'the alarm names the quarantined row',
  );

  // The link is stable again and later events flow.
  const connects = agent.link.stats.connects;
  const day = Date.now() + 86_400_000;
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'later', service: 'cctv1', start: day, end: day + 60_000 },
    ]),
  );
  await until(
    () => headend.storeEvents(storeId).some((e) => e.type === 'schedule.applied'),
    'a later event to reach the headend',
  );
  await sleep(1500);
  t.equal(agent.link.stats.connects, connects, 'no more disconnects');
  t.equal(refusals, quarantineAfter, 'the quarantined row is not sent again');
});
