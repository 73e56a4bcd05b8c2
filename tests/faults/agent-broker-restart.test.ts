/**
 * Exactly-once events through broker restarts (DESIGN.md §4 "Events are exactly-once end to end,
 * acknowledged by the headend, not the broker"), on both brokers the project supports: the broker is
 * RESTARTED (its retained messages and sessions gone) before the recording starts and again mid-way, and
 * the headend's subscriber is down for part of it. The recording still happens; the headend-side store
 * ends with exactly seq 1..N of the station's store (no gap; duplicates only as resends of identical
 * bytes, never conflicting); the agent's outbox keeps its rows while only the broker has PUBACKed them,
 * and empties once the headend's ack covers them.
 */
import t, { type Test } from 'tap';
import {
  agentConfig,
  STATION,
  scheduleDoc,
  sleep,
  startAedes,
  startHeadendDouble,
  startMosquittoBroker,
  startSimReceiver,
  startTestAgent,
  type TestBrokerHandle,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

async function scenario(t: Test, broker: TestBrokerHandle): Promise<void> {
  const dir = await tempDir(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const agent = await startTestAgent(
    t,
    agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl }),
  );
  headend.startClockExchanges(STATION);
  const storeId = agent.store.storeId;

  const start = Date.now() + 8000;
  const end = start + 20_000;
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'farming', title: 'Farming skills', service: 'cctv7', start, end },
    ]),
  );
  await until(() => agent.store.schedule.applied(), 'the schedule to be applied');

  // 1. Restart the broker before the recording starts.
  await sleep(2000);
  await broker.restart();
  t.pass(`${broker.kind} restarted before the start`);
  await until(() => agent.link.connected && headend.connected, 'agent and headend to reconnect');

  // 2. The headend's subscriber goes away once the recording runs.
  await until(
    () => headend.storeEvents(storeId).some((e) => e.type === 'occurrence.state' && e.state === 'recording'),
    'the recording to start',
    20_000,
  );
  await headend.down();
  const seqBefore = agent.store.outbox.lastSeq();

  // 3. Restart the broker mid-way, with the headend still down.
  await sleep(3000);
  await broker.restart();
  t.pass(`${broker.kind} restarted mid-recording`);
  await until(() => agent.link.connected, 'the agent to reconnect');

  // Events made meanwhile were PUBACKed by the broker, yet stay in the outbox: no headend ack covers them.
  await until(() => agent.store.outbox.lastSeq() > seqBefore, 'new events while the headend is down', 20_000);
  await sleep(1500);
  t.ok(
    agent.store.outbox.stats().rows > 0,
    `outbox holds ${agent.store.outbox.stats().rows} rows the headend has not acked`,
  );

  await sleep(Math.max(0, start + 14_000 - Date.now()));
  await headend.up();

  const manifest = await until(
    () => headend.storeEvents(storeId).find((e) => e.type === 'recording.manifest'),
    'the manifest at the headend',
    40_000,
    200,
  );
  if (manifest.type !== 'recording.manifest') throw new Error('unreachable');
  t.not(
    manifest.outcome,
    'failed',
    `the recording happened (${manifest.outcome}, ${manifest.durationMs} ms)`,
  );
  t.ok(manifest.durationMs >= 18_000, `recorded ${manifest.durationMs} ms of the 20 s`);

  await until(() => agent.store.outbox.stats().rows === 0, 'the outbox to empty after the ack', 20_000);
  const last = agent.store.outbox.lastSeq();
  const seqs = headend.storeEvents(storeId).map((e) => e.seq);
  t.same(
    seqs,
    Array.from({ length: last }, (_, i) => i + 1),
    `headend store holds exactly seq 1..${last}: no gap, no duplicate`,
  );
  t.same(headend.conflicts, [], 'no key ever arrived with different bytes');
  t.ok(headend.duplicates.length >= 0, `${headend.duplicates.length} resends recognised as duplicates`);
}

t.test('embedded broker (aedes) restarted twice, headend down meanwhile', async (t) => {
  await scenario(t, await startAedes(t));
});

t.test('Mosquitto restarted twice, headend down meanwhile', async (t) => {
  await scenario(t, await startMosquittoBroker(t));
});
