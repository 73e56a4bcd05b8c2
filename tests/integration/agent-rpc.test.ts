/**
 * Diagnostics RPC and the local control socket on a running agent (DESIGN.md §4 "RPC", §6):
 * - a redelivered `recordings.delete` (same rid) is answered from the journal and runs once;
 * - expiry is judged with the measured clock offset; unknown methods and bad params get typed errors;
 *   garbage without a readable rid is dropped without harm;
 * - `plan.explain`, `recordings.list`/`protect`, `disk.usage`, `receiver.status` answer;
 * - the on-site CLI's maintenance hold (control socket) pauses receiver methods, shows in the state, and
 *   ends by itself at its time limit.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import t from 'tap';
import type { Agent } from '../../device/agent.js';
import { controlSocketPath } from '../../device/config.js';
import {
  agentConfig,
  fileExists,
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

/** A finished recording in the catalogue with one file on disk (what a past recording leaves). */
async function pastRecording(
  agent: Agent,
  entryId: string,
  bytes: number,
): Promise<{ id: number; dir: string }> {
  const { recording } = agent.store.recordings.open({
    entryId,
    nominalStart: '2026-03-01T11:00:00.000Z',
    title: 'Old programme',
    service: 'cctv1',
    serviceId: 101,
    dir: path.join(entryId, '20260301T110000Z'),
    plannedStart: '2026-03-01T11:00:00.000Z',
    plannedEnd: '2026-03-01T11:30:00.000Z',
    startedAt: '2026-03-01T10:59:57.000Z',
    clockTrusted: true,
  });
  const dir = path.join(agent.config.recordingsDir, recording.dir);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'seg-00000.ts'), Buffer.alloc(bytes, 0x47));
  const seg = agent.store.recordings.addSegment(recording.id, {
    file: path.join(recording.dir, 'seg-00000.ts'),
    start: '2026-03-01T11:00:00.000Z',
  });
  agent.store.recordings.updateSegment(seg.id, { bytes, durationMs: 1_800_000, state: 'verified' });
  agent.store.transaction((tx) =>
    agent.store.recordings.finish(tx, recording.id, {
      outcome: 'completed',
      bytes,
      durationMs: 1_800_000,
      gapsMs: 0,
      quality: 100,
      clockTrusted: true,
      finishedAt: '2026-03-01T11:30:02.000Z',
    }),
  );
  return { id: recording.id, dir };
}

/** One request/answer over the control socket. */
function control(
  sock: string,
  req: object,
): Promise<{ ok: boolean; result?: unknown; error?: { code: string } }> {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        c.end();
        resolve(JSON.parse(buf.slice(0, nl)) as { ok: boolean });
      }
    });
    c.on('error', reject);
    c.write(`${JSON.stringify(req)}\n`);
  });
}

t.test('RPC: idempotent delete, expiry, typed errors, explain, list, protect, disk', async (t) => {
  const dir = await tempDir(t);
  const broker = await startAedes(t);
  const rx = await startSimReceiver(t);
  const headend = await startHeadendDouble(t, broker.url);
  const agent = await startTestAgent(
    t,
    agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl }),
  );
  headend.startClockExchanges(STATION);
  await until(() => agent.clockSync.estimate().trusted, 'a trusted clock');
  const storeId = agent.store.storeId;

  const old = await pastRecording(agent, 'old-news', 188 * 1000);
  const del = await headend.rpc(
    STATION,
    'recordings.delete',
    { recordingId: String(old.id) },
    { rid: 'del-1' },
  );
  t.same(
    del,
    { rid: 'del-1', ok: true, result: { recordingId: String(old.id), freedBytes: 188_000 } },
    'deleted',
  );
  t.notOk(await fileExists(old.dir), 'files gone');

  // The same request again (a redelivery): the first answer, and nothing runs — a file that appeared in
  // the same place meanwhile is not touched.
  await mkdir(old.dir, { recursive: true });
  await writeFile(path.join(old.dir, 'keep-me'), 'x');
  const again = await headend.rpc(
    STATION,
    'recordings.delete',
    { recordingId: String(old.id) },
    { rid: 'del-1' },
  );
  t.same(again, del, 'redelivery answered from the journal');
  t.ok(await fileExists(path.join(old.dir, 'keep-me')), 'and not run a second time');
  await until(
    () => headend.storeEvents(storeId).filter((e) => e.type === 'rpc.executed').length === 1,
    'one rpc.executed event',
  );
  await sleep(300);
  t.equal(headend.storeEvents(storeId).filter((e) => e.type === 'rpc.executed').length, 1, 'executed once');

  // A different rid for the now-missing recording: a typed NOT_FOUND.
  const gone = await headend.rpc(
    STATION,
    'recordings.delete',
    { recordingId: String(old.id) },
    { rid: 'del-2' },
  );
  t.equal(gone.error?.code, 'NOT_FOUND');

  // Expiry judged in headend time: sent 10 s ago with a 1 s ttl.
  const late = await headend.rpc(
    STATION,
    'disk.usage',
    {},
    { sentAt: new Date(Date.now() - 10_000).toISOString(), ttlMs: 1000 },
  );
  t.equal(late.error?.code, 'EXPIRED', 'expired request refused');
  t.equal((await headend.rpc(STATION, 'no.such.method', {})).error?.code, 'UNKNOWN_METHOD');
  t.equal(
    (await headend.rpc(STATION, 'recordings.protect', { recordingId: 7 })).error?.code,
    'INVALID_PARAMS',
  );

  const kept = await pastRecording(agent, 'keeper', 188 * 10);
  const prot = await headend.rpc(STATION, 'recordings.protect', {
    recordingId: String(kept.id),
    protect: true,
  });
  t.same(prot.result, { recordingId: String(kept.id), protected: true });
  const list = await headend.rpc(STATION, 'recordings.list', { limit: 10 });
  const recs = (list.result as { recordings: { recordingId: string; protected: boolean }[] }).recordings;
  t.same(
    recs.map((r) => [r.recordingId, r.protected]),
    [[String(kept.id), true]],
    'list shows the protected recording',
  );
  const disk = await headend.rpc(STATION, 'disk.usage', {});
  t.ok(disk.ok && (disk.result as { freeBytes: number }).freeBytes > 0, 'disk.usage answers');

  const day = Date.now() + 86_400_000;
  await headend.publishSchedule(
    STATION,
    scheduleDoc(rx.lineup, { epoch: 1, n: 1 }, [
      { id: 'tomorrow', service: 'cctv2', start: day, end: day + 600_000 },
    ]),
  );
  await until(() => agent.store.schedule.applied(), 'the schedule');
  const explain = await headend.rpc(STATION, 'plan.explain', {
    from: new Date(day - 3_600_000).toISOString(),
    to: new Date(day + 3_600_000).toISOString(),
  });
  const plan = (explain.result as { plan: { occurrences: { entryId: string; outcome: string }[] } }).plan;
  t.same(
    plan.occurrences.map((o) => [o.entryId, o.outcome]),
    [['tomorrow', 'planned']],
    "plan.explain shows the station's own plan",
  );

  const status = await headend.rpc(STATION, 'receiver.status', {});
  t.ok(status.ok, `receiver.status answers (${JSON.stringify(status.error ?? '')})`);

  // Garbage on rpc/req: no answer possible without a rid, and no harm done.
  await headend.retain(`ruralsat/v1/st/${STATION}/rpc/req`, 'not json at all');
  await sleep(300);
  t.ok(agent.link.connected, 'still connected after garbage');
});

t.test(
  'maintenance hold over the control socket: receiver methods paused, state shows it, time limit',
  async (t) => {
    const dir = await tempDir(t);
    const broker = await startAedes(t);
    const rx = await startSimReceiver(t);
    const headend = await startHeadendDouble(t, broker.url);
    const config = agentConfig({ dir, brokerUrl: broker.url, port: rx.port, streamUrl: rx.streamUrl });
    const agent = await startTestAgent(t, config);
    await until(() => agent.link.connected, 'connected');
    const sock = controlSocketPath(config);

    const refused = await control(sock, { cmd: 'receiver', request: { op: 'lnb', on: false } });
    t.equal(refused.error?.code, 'NOT_HELD', 'changing the receiver needs the hold');
    const held = await control(sock, {
      id: 1,
      cmd: 'hold',
      holder: 'tech-wang',
      durationMs: 3000,
      reason: 'dish check',
    });
    t.ok(held.ok, 'hold taken');
    const state = await until(() => {
      const s = headend.latestState() as { maintenance?: { holder: string } } | undefined;
      return s?.maintenance ? s : null;
    }, 'the hold in the state');
    t.equal(state.maintenance?.holder, 'tech-wang', 'the headend sees who holds the station');
    const busy = await headend.rpc(STATION, 'receiver.status', {});
    t.equal(busy.error?.code, 'MAINTENANCE_HOLD', 'remote receiver access paused');
    const other = await control(sock, { cmd: 'hold', holder: 'someone-else' });
    t.equal(other.error?.code, 'HELD_BY_OTHER');
    const st = await control(sock, { cmd: 'receiver', request: { op: 'status' } });
    t.ok(st.ok, 'the technician reads the receiver through the agent');
    const bad = await control(sock, { cmd: 'fly' });
    t.equal(bad.error?.code, 'BAD_REQUEST');

    // The hold ends by itself.
    await until(() => !agent.hold.active, 'the hold to expire', 6000);
    await until(
      () => !(headend.latestState() as { maintenance?: unknown }).maintenance,
      'the state without the hold',
    );
    t.ok((await headend.rpc(STATION, 'receiver.status', {})).ok, 'remote access back after the time limit');
  },
);
