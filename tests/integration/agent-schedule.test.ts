/**
 * Desired state, not commands (DESIGN.md §4): the schedule is one retained document per station with a
 * version `{epoch, n}`. Against a real broker (aedes) and a running agent whose uplink is cut and restored:
 * - offline during three edits → on reconnect (clean session + retained) only the latest is applied;
 * - a document from a new epoch (headend restored) is applied even though its `n` is lower;
 * - a stale document (older epoch) is ignored;
 * - an invalid document (and garbage) is rejected with a reason in the state, the previous stays in force,
 *   and the same rejected bytes redelivered on reconnect are not reported twice.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { StationBirth } from '../../protocol/messages/state.js';
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
  uplinkSwitch,
} from '../helpers/agent-harness.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

t.test('schedule versions through an outage, a new epoch, a stale and an invalid document', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const uplink = await uplinkSwitch();
  const agent = await startTestAgent(
    t,
    agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl }),
    { mqttConnect: uplink.connect },
  );
  const storeId = agent.store.storeId;
  // Far in the future: this test is about documents, not recordings.
  const day = Date.now() + 3 * 86_400_000;
  const doc = (epoch: number, n: number, title: string) =>
    scheduleDoc(rx.lineup, { epoch, n }, [
      { id: 'weekly-news', title, service: 'cctv1', start: day, end: day + 60_000 },
    ]);
  const stateNow = () => {
    const s = StationBirth.safeParse(headend.latestState());
    return s.success ? s.data : null;
  };
  const appliedEvents = () =>
    headend
      .storeEvents(storeId)
      .filter((e) => e.type === 'schedule.applied')
      .map((e) => (e.type === 'schedule.applied' ? `${e.version.epoch}.${e.version.n}` : ''));

  const v11 = await headend.publishSchedule(STATION, doc(1, 1, 'first'));
  await until(() => agent.store.schedule.applied()?.version.n === 1, 'v1.1 applied');
  t.equal(agent.store.schedule.applied()?.hash, sha(v11), 'hash of the applied bytes');

  // Offline during three edits.
  uplink.cut();
  await until(() => !agent.link.connected, 'the agent to notice the cut');
  let v14 = '';
  for (const n of [2, 3, 4]) v14 = await headend.publishSchedule(STATION, doc(1, n, `edit ${n}`));
  await sleep(500);
  t.equal(agent.store.schedule.applied()?.version.n, 1, 'nothing applied while offline');
  uplink.restore();
  await until(() => agent.store.schedule.applied()?.version.n === 4, 'v1.4 applied after reconnect');
  await until(() => appliedEvents().length >= 2, 'the schedule.applied events at the headend');
  t.same(appliedEvents(), ['1.1', '1.4'], 'only the latest edit was applied: 1.2 and 1.3 never seen');
  const s14 = await until(() => {
    const s = stateNow();
    return s?.schedule && 'hash' in s.schedule && s.schedule.version.n === 4 ? s : null;
  }, 'the state reporting v1.4');
  t.equal((s14.schedule as { hash: string }).hash, sha(v14), 'state reports the hash of v1.4');

  // A restored headend starts a new epoch: {2, 1} is newer than {1, 4}.
  await headend.publishSchedule(STATION, doc(2, 1, 'after restore'));
  await until(() => agent.store.schedule.applied()?.version.epoch === 2, 'epoch 2 applied');
  const epochEvent = await until(
    () => headend.storeEvents(storeId).find((e) => e.type === 'schedule.applied' && e.version.epoch === 2),
    'the epoch-2 applied event',
  );
  t.same(
    epochEvent.type === 'schedule.applied' && epochEvent.previous,
    { epoch: 1, n: 4 },
    'previous version named',
  );

  // A stale document (an old epoch) is ignored.
  await headend.publishSchedule(STATION, doc(1, 99, 'stale'));
  await sleep(800);
  t.same(agent.store.schedule.applied()?.version, { epoch: 2, n: 1 }, 'stale {1, 99} ignored');
  t.equal(agent.store.schedule.rejection(), null, 'and not reported as a rejection');

  // An invalid document: the entry's service has no tuning in the document.
  const bad = doc(2, 2, 'broken');
  bad.entries[0] = { ...(bad.entries[0] as object), service: 'no-such-service' } as (typeof bad.entries)[0];
  await headend.publishSchedule(STATION, bad);
  const rejected = await until(() => {
    const s = stateNow();
    return s?.schedule && 'rejected' in s.schedule ? s.schedule : null;
  }, 'a state with the rejection');
  t.equal(rejected.rejected.code, 'INVALID');
  t.same(rejected.rejected.version, { epoch: 2, n: 2 });
  t.match(rejected.rejected.reason, /no-such-service|tuning/, `reason: ${rejected.rejected.reason}`);
  t.same(rejected.applied?.version, { epoch: 2, n: 1 }, 'the previous schedule stays in force (state)');
  t.same(agent.store.schedule.applied()?.version, { epoch: 2, n: 1 }, 'and in the store');
  t.same(agent.executor.appliedVersion, { epoch: 2, n: 1 }, 'and in the executor');

  // Redelivery of the same rejected bytes (reconnect) is not reported again.
  const rejectedCount = () =>
    headend.storeEvents(storeId).filter((e) => e.type === 'schedule.rejected').length;
  await until(() => rejectedCount() === 1, 'one schedule.rejected event');
  uplink.cut();
  await until(() => !agent.link.connected, 'cut again');
  uplink.restore();
  await until(() => agent.link.connected, 'reconnected');
  await sleep(800);
  t.equal(rejectedCount(), 1, 'the retained invalid copy redelivered on reconnect is not re-reported');

  // Garbage on the schedule topic: rejected as NOT_JSON; the agent keeps running on {2, 1}.
  await headend.publishSchedule(STATION, '{"version": {"epoch": 3, "n": 1}, "oops');
  await until(() => agent.store.schedule.rejection()?.code === 'NOT_JSON', 'NOT_JSON rejection');
  t.same(agent.store.schedule.applied()?.version, { epoch: 2, n: 1 }, 'still on {2, 1} after garbage');
  t.ok(agent.link.connected, 'and still connected');
});

t.test('several agents in one process keep to their own station (no singletons)', async (t) => {
  const broker = await startAedes(t);
  const headend = await startHeadendDouble(t, broker.url);
  const agents = [];
  for (const id of ['huating-01', 'jingning-07']) {
    const dir = await tempDir(t);
    const rx = await startSimReceiver(t);
    const agent = await startTestAgent(
      t,
      agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl, stationId: id }),
    );
    const day = Date.now() + 2 * 86_400_000;
    await headend.publishSchedule(
      id,
      scheduleDoc(rx.lineup, { epoch: 1, n: id === 'huating-01' ? 3 : 8 }, [
        { id: `only-${id}`, service: 'cctv1', start: day, end: day + 60_000 },
      ]),
    );
    agents.push(agent);
  }
  const [a, b] = agents as [(typeof agents)[0], (typeof agents)[0]];
  await until(() => a.store.schedule.applied() && b.store.schedule.applied(), 'both schedules applied');
  t.same(a.store.schedule.applied()?.version, { epoch: 1, n: 3 }, 'huating-01 applied its own document');
  t.same(b.store.schedule.applied()?.version, { epoch: 1, n: 8 }, 'jingning-07 applied its own document');
  t.not(a.store.storeId, b.store.storeId, 'each has its own store');
  t.same(
    a.executor.plannedOccurrences().map((o) => o.entryId),
    ['only-huating-01'],
    'and its own plan',
  );
});
