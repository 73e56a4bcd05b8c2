/**
 * Crash recovery (DESIGN.md §6; DOMAIN.md §6 "Power cut"): the agent runs in a CHILD process and is killed
 * with SIGKILL mid-recording. Its ffmpeg survives the parent (it ignores SIGPIPE) — the test sees it alive —
 * and the restarted agent kills it (checked by PID), resumes the occurrence as a new segment, reports the
 * gap, and finishes the occurrence `completed_with_errors` with segments and gap adding up to the window.
 */
import t from 'tap';
import {
  agentConfig,
  alive,
  ffmpegPidsWith,
  STATION,
  scheduleDoc,
  sleep,
  spawnAgentProcess,
  startAedes,
  startHeadendDouble,
  startSimReceiver,
  tempDir,
  until,
} from '../helpers/agent-harness.js';

t.test('kill -9 mid-recording: orphan killed by PID, second segment, gap reported', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl });
  const first = await spawnAgentProcess(t, config, 'agent-1');
  headend.startClockExchanges(STATION, 250);

  const start = Date.now() + 7000;
  const end = start + 30_000;
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'training', title: 'Training video', service: 'cctv2', start, end },
    ]),
  );
  const recording = await until(
    () =>
      [...headend.events.values()]
        .map((e) => e.event)
        .find((e) => e.type === 'occurrence.state' && e.state === 'recording'),
    'the recording to start',
    25_000,
    100,
  );
  const storeId = recording.storeId;
  await sleep(Math.max(0, start + 8000 - Date.now()));

  const before = await ffmpegPidsWith(config.recordingsDir);
  t.equal(before.length, 1, `one recorder running (pid ${before.join(',')})`);
  const orphan = before[0] ?? -1;
  first.proc.kill('SIGKILL');
  await first.exited;
  await sleep(1500);
  t.ok(await alive(orphan), `ffmpeg ${orphan} survived its parent's kill -9 (reparented)`);
  // Presence: the broker published the Will, with the counters of the connection that died.
  const will = await until(
    () => headend.states.find((s) => (s.payload as { online: boolean }).online === false),
    'the Will',
  );
  t.same(
    will.payload,
    { online: false, boot: { n: 1, conn: 1 } },
    'Will carries boot {n, conn} of that connection',
  );

  const second = await spawnAgentProcess(t, config, 'agent-2');
  const birth = await until(() => {
    const s = headend.latestState() as { online?: boolean; boot?: unknown } | undefined;
    return s?.online ? s : null;
  }, 'the new birth');
  t.same(
    birth.boot,
    { n: 2, conn: 2 },
    'the restarted agent is born with newer counters (a later Will is ignorable)',
  );
  await until(
    async () => !(await alive(orphan)),
    `orphan ${orphan} to be killed by the restarted agent`,
    15_000,
  );
  t.pass(`orphan ffmpeg ${orphan} is gone after the restart`);
  const resumed = await until(
    () =>
      headend
        .storeEvents(storeId)
        .find(
          (e) => e.type === 'occurrence.state' && e.state === 'recording' && /resumed/.test(e.reason ?? ''),
        ),
    'the occurrence to resume',
    20_000,
  );
  t.ok(resumed, `resumed: ${resumed.type === 'occurrence.state' ? resumed.reason : ''}`);
  const after = await ffmpegPidsWith(config.recordingsDir);
  t.notOk(after.includes(orphan), `the running recorder (${after.join(',')}) is a new process`);

  const manifest = await until(
    () => headend.storeEvents(storeId).find((e) => e.type === 'recording.manifest'),
    'the manifest',
    45_000,
    200,
  );
  if (manifest.type !== 'recording.manifest') throw new Error('unreachable');
  t.equal(manifest.outcome, 'completed_with_errors', `outcome (${manifest.reason})`);
  t.ok(manifest.segments.length >= 2, `${manifest.segments.length} segments: a new one after the restart`);
  t.ok(manifest.gapsMs > 0, `gap reported: ${manifest.gapsMs} ms`);
  const total = manifest.durationMs + manifest.gapsMs;
  t.ok(
    Math.abs(total - 30_000) <= 2500,
    `recorded ${manifest.durationMs} ms + gap ${manifest.gapsMs} ms ≈ the 30 s window`,
  );
  const terminal = await until(
    () =>
      headend
        .storeEvents(storeId)
        .find((e) => e.type === 'occurrence.state' && e.state === 'completed_with_errors'),
    'the terminal state',
  );
  t.ok(terminal, 'occurrence completed_with_errors');

  // No recorder of either agent is left behind once the window is over.
  await until(
    async () => (await ffmpegPidsWith(config.recordingsDir)).length === 0,
    'no recorder left',
    10_000,
  );
  second.proc.kill('SIGTERM');
  const exit = await second.exited;
  t.equal(exit.code, 0, 'SIGTERM → clean stop, exit 0');
});
