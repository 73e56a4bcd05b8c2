import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { finaliseRecording, reconcileSegments } from '../../device/recorder/finalise.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { catalogueSink } from '../../device/recorder/sink.js';
import { killOrphans, readBootId, readProcessIdentity } from '../../device/recovery/orphans.js';
import { openStationStore } from '../../device/store/db.js';
import { shortTiming } from '../../protocol/timing.js';
import { startTsSource, UdpGate } from '../helpers/recorder-source.js';

const SID = 304;
const here = path.dirname(fileURLToPath(import.meta.url));
const childScript = path.join(here, '../fixtures/recorder-orphan-child.ts');
const clock = { now: () => Date.now() };

function alive(pid: number): boolean {
  const id = readProcessIdentity(pid);
  return id !== null && id.state !== 'Z';
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Starts the stand-in agent and resolves with its ffmpeg's PID once journalled. */
function startAgent(
  dbPath: string,
  root: string,
  port: number,
): Promise<{ agent: ChildProcess; ffmpegPid: number }> {
  const agent = spawn(
    process.execPath,
    ['--import=tsx', childScript, dbPath, root, `udp://127.0.0.1:${port}`, String(SID)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    agent.stdout?.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /\{"pid":(\d+)\}/.exec(out);
      if (m) resolve({ agent, ffmpegPid: Number(m[1]) });
    });
    agent.once('exit', (code) => reject(new Error(`agent exited early (${code})`)));
  });
}

/** A stand-in agent recording into a fresh store, kill -9'd mid-recording; its ffmpeg left running. */
async function killedAgent(t: { teardown(fn: () => unknown): void }) {
  const gate = await UdpGate.open();
  t.teardown(() => gate.close());
  const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => source.stop());
  await waitFor(() => gate.forwarded > 50, 10_000);
  const root = mkdtempSync(path.join(tmpdir(), 'rec-orphan-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const dbPath = path.join(root, 'station.db');
  const { agent, ffmpegPid } = await startAgent(dbPath, root, gate.toPort);
  t.teardown(() => killQuietly(ffmpegPid));
  await new Promise((r) => setTimeout(r, 4_000));
  agent.kill('SIGKILL');
  await new Promise<void>((r) => agent.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 1_000));
  return { gate, root, dbPath, ffmpegPid };
}

t.test(
  'kill -9 of the agent: its ffmpeg survives, recovery stops it by PID, the recording resumes',
  async (t) => {
    const { gate, root, dbPath, ffmpegPid } = await killedAgent(t);
    t.ok(alive(ffmpegPid), `ffmpeg ${ffmpegPid} survived its parent's kill -9 (it ignores SIGPIPE)`);

    const store = openStationStore(dbPath);
    t.teardown(() => store.close());
    t.same(
      store.processes.live().map((p) => p.pid),
      [ffmpegPid],
      'the journal names it',
    );
    const report = await killOrphans({
      journal: store.processes,
      logger: silentLogger(),
      clock,
      graceMs: 2_000,
    });
    t.match(
      report,
      [{ pid: ffmpegPid, action: 'killed', signal: 'SIGINT' }],
      'stopped with SIGINT (valid file)',
    );
    await waitFor(() => !alive(ffmpegPid), 3_000);
    t.notOk(alive(ffmpegPid), 'no ffmpeg from the old agent survives');
    t.same(store.processes.live(), [], 'journal rows closed');
    t.same(
      await killOrphans({ journal: store.processes, logger: silentLogger(), clock, graceMs: 500 }),
      [],
      'idempotent',
    );

    // Still in its window: resume as a new segment after the segments the old agent left.
    const rec = store.recordings.list()[0]!;
    const previous = await reconcileSegments({ store, recordingId: rec.id, root, spawn });
    t.ok(
      previous.length >= 1 && previous.every((s) => s.probe?.ok && s.bytes > 0),
      'the old segments verify',
    );
    await new Promise((r) => setTimeout(r, 1_500)); // the agent's restart takes a moment: a real gap
    const end = Date.now() + 5_000;
    store.recordings.setPlannedEnd(rec.id, new Date(end).toISOString());
    const recorder = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
      sink: catalogueSink(store, rec),
    });
    t.teardown(() => recorder.stop());
    await recorder.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: rec.dir,
      plannedStart: Date.parse(rec.plannedStart),
      end,
      previous,
    });
    const result = await recorder.finished;
    t.ok(result.segments.length > previous.length, `a second segment (${result.segments.length} in all)`);
    const resumed = result.segments[previous.length]!;
    t.ok(resumed.index > previous[previous.length - 1]!.index, 'numbering continues, nothing overwritten');
    t.ok(
      result.gapsMs > 0 && result.gaps.some((g) => g.cause === 'interruption'),
      `gap ${result.gapsMs} ms reported`,
    );
    t.equal(result.outcome, 'completed_with_errors', result.reason ?? '');
    const total = result.segments.reduce((n, s) => n + s.durationMs, 0);
    t.equal(result.durationMs, total, "the total counts both agents' segments");
    t.same(
      store.recordings.segments(rec.id).map((s) => s.state),
      result.segments.map(() => 'verified'),
    );
  },
);

t.test('after a crash whose window closed, the recording is finalised from its segments', async (t) => {
  const { root, dbPath, ffmpegPid } = await killedAgent(t);
  const store = openStationStore(dbPath);
  t.teardown(() => store.close());
  await killOrphans({ journal: store.processes, logger: silentLogger(), clock, graceMs: 2_000 });
  await waitFor(() => !alive(ffmpegPid), 3_000);
  const rec = store.recordings.list()[0]!;
  store.recordings.setPlannedEnd(rec.id, new Date().toISOString()); // the window is over
  const summary = await finaliseRecording({ store, recordingId: rec.id, root, spawn, clockTrusted: true });
  t.ok(summary, 'summarised');
  t.ok(
    summary!.bytes > 0 && summary!.durationMs > 3_000,
    `${summary!.durationMs} ms recorded before the crash`,
  );
  t.ok(
    summary!.segments.every((s) => s.probe?.ok),
    'every segment verified',
  );
  t.not(summary!.outcome, 'failed');
  t.same(
    store.recordings.segments(rec.id).map((s) => s.state),
    summary!.segments.map(() => 'verified'),
    'catalogue rows left "writing" by the crash are now verified',
  );
});

t.test(
  'a journalled PID now used by another program, or from an earlier boot, is never killed',
  async (t) => {
    const root = mkdtempSync(path.join(tmpdir(), 'rec-orphan2-'));
    t.teardown(() => rmSync(root, { recursive: true, force: true }));
    const store = openStationStore(path.join(root, 'station.db'));
    t.teardown(() => store.close());
    const bystander = spawn('sleep', ['30'], { stdio: 'ignore' });
    t.teardown(() => bystander.kill('SIGKILL'));
    await new Promise((r) => bystander.once('spawn', r));
    const pid = bystander.pid!;
    const id = readProcessIdentity(pid)!;
    // Same PID, but the journal recorded another start time and an ffmpeg command line: the PID was reused.
    store.processes.register({
      pid,
      startTicks: id.startTicks - 1,
      bootId: readBootId(),
      cmdline: 'ffmpeg\0-i\0udp://x',
      recordingId: 1,
      entryId: 'e',
      nominalStart: '2026-03-01T11:00:00.000Z',
      startedAt: '2026-03-01T10:59:57.000Z',
    });
    // Same PID and identity, but journalled in another boot.
    store.processes.register({
      pid,
      startTicks: id.startTicks,
      bootId: 'another-boot',
      cmdline: id.cmdline,
      recordingId: 2,
      entryId: 'e',
      nominalStart: '2026-03-01T11:00:00.000Z',
      startedAt: '2026-03-01T10:59:57.000Z',
    });
    const signals: string[] = [];
    const report = await killOrphans({
      journal: store.processes,
      logger: silentLogger(),
      clock,
      graceMs: 200,
      kill: (p, s) => {
        signals.push(`${p}:${String(s)}`);
        process.kill(p, s);
      },
    });
    t.same(
      report.map((r) => r.action),
      ['reused', 'earlier_boot'],
    );
    t.same(signals, [], 'no signal sent');
    t.ok(alive(pid), 'the bystander still runs');
    t.same(store.processes.live(), []);
  },
);

t.test('an unjournalled recorder writing into the recordings root is found by the scan', async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'rec-orphan3-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const store = openStationStore(path.join(root, 'station.db'));
  t.teardown(() => store.close());
  // An ffmpeg started by a parent that died before journalling it (reparented away from us).
  const shell = spawn(
    'sh',
    [
      '-c',
      `ffmpeg -nostdin -loglevel error -re -f lavfi -i testsrc=size=64x48:rate=5 -f mpegts -y ${root}/rec/seg-%05d.ts >/dev/null 2>&1 & echo $!`,
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const pid = await new Promise<number>((resolve) => {
    shell.stdout?.setEncoding('utf8').once('data', (d: string) => resolve(Number(d.trim())));
  });
  t.teardown(() => killQuietly(pid));
  await waitFor(() => alive(pid), 3_000);
  await waitFor(
    () => readProcessIdentity(pid)?.ppid !== process.pid && readProcessIdentity(pid)?.ppid !== shell.pid,
    3_000,
  ).catch(() => {});
  const report = await killOrphans({
    journal: store.processes,
    logger: silentLogger(),
    clock,
    graceMs: 2_000,
    scanRoot: root,
  });
  t.match(report, [{ pid, action: 'killed' }]);
  await waitFor(() => !alive(pid), 3_000);
  t.notOk(alive(pid));
});
