/**
 * Edits that reach a running occurrence (DESIGN.md §5 identity; issue 4 tests): real broker, simulated
 * receiver, real ffmpeg.
 * - Extending a running recording (same entry, new rev, later end) keeps the occurrence's identity and
 *   the running recorder: one continuous recording, one manifest, no gap, no second `recording` state.
 * - A conference pushed while an operator recording runs on another service takes the only receiver: the
 *   recording is cut, reports `truncated (by "<conference>" …)`, and continues as a second part after it.
 */
import t, { type Test } from 'tap';
import type { StationEvent } from '../../protocol/messages/events.js';
import {
  agentConfig,
  ffmpegPidsWith,
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

type Manifest = Extract<StationEvent, { type: 'recording.manifest' }>;

async function setup(t: Test) {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl });
  const agent = await startTestAgent(t, config);
  headend.startClockExchanges(STATION);
  const storeId = agent.store.storeId;
  const events = () => headend.storeEvents(storeId);
  const states = (entryId: string) =>
    events()
      .filter((e) => e.type === 'occurrence.state' && e.entryId === entryId)
      .map((e) => (e.type === 'occurrence.state' ? e : null))
      .filter((e) => e !== null);
  const manifestOf = (entryId: string) =>
    until(
      () => events().find((e): e is Manifest => e.type === 'recording.manifest' && e.entryId === entryId),
      `the manifest of ${entryId}`,
      60_000,
      200,
    );
  return { config, rx, headend, agent, states, manifestOf };
}

t.test('extending a running recording: one continuous recording', async (t) => {
  const { config, rx, headend, states, manifestOf } = await setup(t);
  const start = Date.now() + 5000;
  const entry = { id: 'county-news', title: 'County news', service: 'cctv13', start, end: start + 10_000 };
  await headend.publishSchedule(STATION, scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [entry]));
  await until(
    () => states('county-news').some((s) => s.state === 'recording'),
    'the recording to start',
    20_000,
  );
  await sleep(Math.max(0, start + 4000 - Date.now()));
  const pids = await ffmpegPidsWith(config.recordingsDir);
  t.equal(pids.length, 1, 'one recorder running');

  // The operator extends the programme by 8 s while it records.
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 2 }, [{ ...entry, rev: 2, end: start + 18_000 }]),
  );
  await sleep(Math.max(0, start + 12_000 - Date.now()));
  t.same(await ffmpegPidsWith(config.recordingsDir), pids, 'still the same recorder after the old end');

  const m = await manifestOf('county-news');
  t.equal(m.nominalStart, new Date(start).toISOString(), 'same occurrence identity (entry, nominal start)');
  t.equal(m.outcome, 'completed', `completed (${m.reason ?? 'no reason'})`);
  t.equal(m.gapsMs, 0, 'no gap');
  // The recorder's edge tolerance (1.5 s late start is not a gap) bounds how little may be missing.
  t.ok(m.durationMs >= 16_000 && m.durationMs <= 20_500, `recorded ${m.durationMs} ms ≈ the extended 18 s`);
  const seq = states('county-news').map((s) => s.state);
  t.same(seq, ['tuning', 'ready', 'recording', 'completed'], 'one recording state: never restarted');
  t.equal(
    headend.storeEvents(m.storeId).filter((e) => e.type === 'recording.manifest').length,
    1,
    'one manifest',
  );
});

t.test('a conference arriving mid-recording truncates it, naming the conference', async (t) => {
  const { rx, headend, states, manifestOf } = await setup(t);
  const start = Date.now() + 5000;
  const recording = { id: 'farm-show', title: 'Farm show', service: 'cctv7', start, end: start + 24_000 };
  await headend.publishSchedule(STATION, scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [recording]));
  await until(
    () => states('farm-show').some((s) => s.state === 'recording'),
    'the recording to start',
    20_000,
  );
  await sleep(Math.max(0, start + 4000 - Date.now()));

  // The control room pushes a conference on another service, overlapping the middle of the recording.
  const conference = {
    id: 'county-meeting',
    title: 'County meeting',
    service: 'cctv13',
    kind: 'conference' as const,
    start: start + 10_000,
    end: start + 16_000,
  };
  await headend.publishSchedule(STATION, scheduleDoc(rx.lineup, { epoch: 1, n: 2 }, [recording, conference]));

  const conf = await manifestOf('county-meeting');
  t.not(conf.outcome, 'failed', `the conference was recorded (${conf.outcome}, ${conf.durationMs} ms)`);
  const m = await manifestOf('farm-show');
  t.match(m.reason ?? '', /truncated \(by "County meeting"/, `manifest reason: ${m.reason}`);
  t.not(m.outcome, 'failed', `the recording kept what it could (${m.outcome})`);
  t.ok(
    m.durationMs >= 12_000 && m.durationMs <= 19_000,
    `recorded ${m.durationMs} ms of the 18 s left to it`,
  );
  const farm = states('farm-show');
  t.ok(
    farm.some((s) => s.state === 'recording' && /part 2 of 2/.test(s.reason ?? '')),
    'continued as a second part after the conference',
  );
  t.match(
    farm.at(-1)?.reason ?? '',
    /truncated \(by "County meeting"/,
    'the terminal state names the conference too',
  );
  t.ok(
    states('county-meeting').some((s) => s.state === 'recording'),
    'the conference took the receiver',
  );
});
