/**
 * The agent end to end on real parts (issue 4, first test): in-process aedes, the simulated RX8200 on a
 * socat pty streaming real MPEG-TS, real ffmpeg/ffprobe, the short timing profile. A 20 s recording
 * (no padding) starting 5 s ahead is recorded; ffprobe measures 20 s ± 1 s; the headend side receives the
 * lifecycle events in order and the manifest; the retained state carries the applied version and the
 * SHA-256 of the payload bytes.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import t from 'tap';
import { StationBirth } from '../../protocol/messages/state.js';
import { shortTiming } from '../../protocol/timing.js';
import {
  agentConfig,
  ffprobeFile,
  STATION,
  scheduleDoc,
  startAedes,
  startHeadendDouble,
  startSimReceiver,
  startTestAgent,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

t.test('a 20 s recording 5 s ahead: file, events in order, manifest, applied version and hash', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl });
  const agent = await startTestAgent(t, config);
  headend.startClockExchanges(STATION);

  const start = Date.now() + 5000;
  const end = start + 20_000;
  const payload = await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'news', title: 'Evening news', service: 'cctv13', start, end },
    ]),
  );
  const storeId = agent.store.storeId;

  const manifest = await until(
    () => headend.storeEvents(storeId).find((e) => e.type === 'recording.manifest'),
    'the recording manifest',
    45_000,
    200,
  );
  if (manifest.type !== 'recording.manifest') throw new Error('unreachable');
  t.equal(manifest.outcome, 'completed', `outcome (reason: ${manifest.reason ?? 'none'})`);
  t.ok(manifest.segments.length >= 2, `segmented (${manifest.segments.length} segments of 10 s)`);
  t.ok(manifest.clockTrusted, 'clock trusted (exchanges ran)');
  t.equal(manifest.service, 'cctv13');

  // ffprobe over every segment: together 20 s ± 1 s of the right programme.
  let total = 0;
  for (const seg of manifest.segments) {
    const probe = await ffprobeFile(path.join(config.recordingsDir, seg.file));
    total += probe.durationS;
    t.ok(probe.programs.includes(113), `${seg.file} carries programme 113 (cctv13)`);
  }
  // The recorder starts `recorderLeadMs` early so probing does not eat the planned start (DESIGN.md §6); what
  // it keeps of that lead is soft pre-roll, like padding, and the first segment's start says how much.
  const firstStart = Date.parse(manifest.segments[0]?.start ?? '');
  const preRollS = Math.max(0, (start - firstStart) / 1000);
  t.ok(
    preRollS <= shortTiming.recorderLeadMs / 1000 + 0.5,
    `kept pre-roll ${preRollS.toFixed(2)} s is within the recorder lead`,
  );
  t.ok(
    Math.abs(total - preRollS - 20) <= 1,
    `ffprobe total ${total.toFixed(2)} s = pre-roll ${preRollS.toFixed(2)} s + 20 s ± 1 s from the planned start`,
  );

  // Lifecycle events in order: tuning → ready → recording → completed, then nothing after the terminal.
  const states = headend
    .storeEvents(storeId)
    .filter((e) => e.type === 'occurrence.state' && e.entryId === 'news')
    .map((e) => (e.type === 'occurrence.state' ? e.state : ''));
  t.same(states, ['tuning', 'ready', 'recording', 'completed'], 'occurrence states in order');
  const seqs = headend.storeEvents(storeId).map((e) => e.seq);
  t.same(
    seqs,
    seqs.map((_, i) => i + 1),
    'events 1..N without gap',
  );

  // Telemetry (QoS 0) flowed while recording, with the recorder's figures.
  const withRecorder = headend.telemetry.find((x) =>
    (x as { recorders?: { bytes: number }[] }).recorders?.some((r) => r.bytes > 0),
  ) as { recorders: { entryId: string }[]; receivers: { locked: boolean }[] } | undefined;
  t.ok(withRecorder, 'telemetry reported the running recorder');
  t.equal(withRecorder?.recorders[0]?.entryId, 'news');
  t.ok(withRecorder?.receivers[0]?.locked, 'and a locked receiver');

  // Retained state: applied version and the SHA-256 of exactly the bytes published.
  const hash = createHash('sha256').update(payload).digest('hex');
  const state = await until(() => {
    const s = StationBirth.safeParse(headend.latestState());
    return s.success && s.data.schedule && 'hash' in s.data.schedule ? s.data : null;
  }, 'a state with the applied schedule');
  t.same(state.schedule, {
    version: { epoch: 1, n: 1 },
    hash,
    appliedAt: (state.schedule as { appliedAt: string }).appliedAt,
  });
  t.equal(state.storeId, storeId);
  t.ok(state.clock.trusted, 'clock reported trusted');

  // The outbox empties once the headend acked everything.
  await until(() => agent.store.outbox.stats().rows === 0, 'the outbox to empty after the ack');
});
