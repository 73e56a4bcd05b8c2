import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { shortTiming } from '../../protocol/timing.js';
import { startTsSource, UdpGate } from '../helpers/recorder-source.js';

const SID = 302;

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function setup(t: { teardown(fn: () => unknown): void }, inputs = 1) {
  const gate = await UdpGate.open(inputs);
  t.teardown(() => gate.close());
  const root = mkdtempSync(path.join(tmpdir(), 'rec-freeze-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const recorder = new Recorder({ spawn, clock: systemClock(), logger: silentLogger(), timing: shortTiming });
  t.teardown(() => recorder.stop());
  return { gate, root, recorder };
}

t.test(
  'a frozen stream: the watchdog restarts the recorder, the gap is counted, completed_with_errors',
  async (t) => {
    const { gate, root, recorder } = await setup(t);
    const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
    t.teardown(() => source.stop());
    await waitFor(() => gate.forwarded > 50, 10_000);
    const restarts: string[] = [];
    recorder.on('restart', (e) => restarts.push(e.cause));
    const plannedStart = Date.now() + 1_000;
    await recorder.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: 'freeze',
      plannedStart,
      end: plannedStart + 20_000,
    });
    // Freeze the receiver's output for 5 s (longer than the 3 s stall limit of the short profile).
    await new Promise((r) => setTimeout(r, plannedStart + 6_000 - Date.now()));
    gate.pause();
    const frozeAt = Date.now();
    await new Promise((r) => setTimeout(r, 5_000));
    gate.resume();
    const resumedAt = Date.now();
    const result = await recorder.finished;

    t.ok(restarts.length >= 1, `recorder restarted (${restarts.join(', ')})`);
    t.ok(result.runs >= 2, `${result.runs} ffmpeg runs`);
    t.equal(result.outcome, 'completed_with_errors', result.reason ?? '');
    t.match(result.reason ?? '', /missing in 1 gap \(interruption\)/);
    const gap = result.gaps[0];
    t.equal(result.gaps.length, 1, 'one gap');
    t.equal(gap?.cause, 'interruption');
    const frozeMs = resumedAt - frozeAt;
    t.ok(gap && Math.abs(gap.ms - frozeMs) <= 1_500, `gap ${gap?.ms} ms ≈ freeze ${frozeMs} ms`);
    t.ok(
      gap && gap.from >= frozeAt - 1_500 && gap.to <= resumedAt + 2_000,
      'the gap sits where the freeze was',
    );
    t.equal(result.gapsMs, gap?.ms);
    t.ok(result.quality < 95, `quality ${result.quality} marks it damaged`);
    t.ok(Math.abs(result.durationMs - (20_000 - frozeMs)) <= 2_000, `recorded ${result.durationMs} ms`);
    // The new segment after the freeze starts after the gap and is verified.
    const after = result.segments.filter((s) => s.start >= (gap?.to ?? 0) - 100);
    t.ok(after.length >= 1 && after.every((s) => s.probe?.ok), 'segments after the freeze verify');
    t.ok(
      (after[0]?.gapBeforeMs ?? 0) > 3_000,
      `first segment after the freeze reports gapBefore ${after[0]?.gapBeforeMs}`,
    );
  },
);

t.test('a PID reshuffle (PMT change) starts a new segment that records the new PIDs', async (t) => {
  const { gate, root, recorder } = await setup(t, 2);
  const a = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => a.stop());
  const b = startTsSource({ port: gate.inPorts[1]!, serviceId: SID, startPid: 0x300, pmtPid: 0x1200 });
  t.teardown(() => b.stop());
  await waitFor(() => gate.forwarded > 50, 10_000);
  const pmtChanges: number[] = [];
  recorder.on('pmt_change', (e) => pmtChanges.push(e.run));
  const plannedStart = Date.now() + 500;
  await recorder.start({
    url: `udp://127.0.0.1:${gate.toPort}`,
    serviceId: SID,
    root,
    dir: 'pmt',
    plannedStart,
    end: plannedStart + 14_000,
  });
  await new Promise((r) => setTimeout(r, 6_000));
  gate.select(1); // same programme number, new PIDs and PMT PID
  const result = await recorder.finished;
  t.same(pmtChanges, [1], 'PMT change detected in run 1');
  t.equal(result.runs, 2);
  const last = result.segments[result.segments.length - 1];
  t.ok(last?.probe?.ok, 'the segment after the change verifies');
  t.ok(
    last?.probe?.streams.some((s) => s.type === 'video'),
    'and holds video again',
  );
  t.ok(result.gapsMs < 3_000, `a short gap (${result.gapsMs} ms), not a stall`);
  t.ok(result.durationMs > 10_000, `recorded ${result.durationMs} ms`);
});

t.test('lost datagrams are counted as continuity errors on the recorded programme', async (t) => {
  const { gate, root, recorder } = await setup(t);
  const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => source.stop());
  await waitFor(() => gate.forwarded > 50, 10_000);
  gate.dropEvery = 40;
  const plannedStart = Date.now() + 500;
  await recorder.start({
    url: `udp://127.0.0.1:${gate.toPort}`,
    serviceId: SID,
    root,
    dir: 'cc',
    plannedStart,
    end: plannedStart + 8_000,
  });
  const result = await recorder.finished;
  const cc = result.segments.reduce((n, s) => n + s.ccErrors, 0);
  t.ok(cc > 0, `${cc} corrupt packets counted`);
  t.equal(result.outcome, 'completed_with_errors');
  t.match(result.reason ?? '', /corrupt packet/);
});
