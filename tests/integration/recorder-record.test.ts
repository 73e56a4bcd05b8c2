import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { probeSegment } from '../../device/recorder/probe.js';
import { Recorder, type RecorderResult } from '../../device/recorder/recorder.js';
import { shortTiming } from '../../protocol/timing.js';
import { startTsSource, UdpGate } from '../helpers/recorder-source.js';

const SID = 301;

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

function tempRoot(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rec-int-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('a 20 s recording started during pre-roll covers 20 s ± 1 s of the right programme', async (t) => {
  const gate = await UdpGate.open();
  t.teardown(() => gate.close());
  const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => source.stop());
  // The receiver is tuned and streaming in pre-roll before the recorder starts (DESIGN.md §6).
  await waitFor(() => gate.forwarded > 50, 10_000);
  const root = tempRoot(t);
  const recorder = new Recorder({ spawn, clock: systemClock(), logger: silentLogger(), timing: shortTiming });
  t.teardown(() => recorder.stop());
  const firstByte: number[] = [];
  recorder.on('first_byte', (e) => firstByte.push(e.at));
  const plannedStart = Date.now() + shortTiming.recorderLeadMs;
  await recorder.start({
    url: `udp://127.0.0.1:${gate.toPort}`,
    serviceId: SID,
    root,
    dir: 'news/2026-03-01T1100',
    plannedStart,
    end: plannedStart + 20_000,
  });
  const result: RecorderResult = await recorder.finished;
  t.equal(result.outcome, 'completed', `outcome (${result.reason ?? 'no reason'})`);
  t.equal(result.quality, 100);
  t.same(result.gaps, []);
  t.equal(result.runs, 1, 'one ffmpeg run');
  t.ok(result.segments.length >= 2, `10 s segments: ${result.segments.length}`);
  // What a user notices: the files on disk, probed independently, hold 20 s of programme 301.
  let total = 0;
  for (const seg of result.segments) {
    const probe = await probeSegment(path.join(root, seg.file), { spawn, serviceId: SID });
    t.ok(probe.ok, `${seg.file} verifies: ${probe.error ?? 'ok'}`);
    t.ok(probe.programmeFound, `${seg.file} carries programme ${SID}`);
    t.ok(probe.streams.some((s) => s.type === 'video') && probe.streams.some((s) => s.type === 'audio'));
    total += probe.durationMs;
  }
  // The recording keeps a little pre-roll (under a GOP + 0.8 s) and says where the planned start is in it.
  const mark = result.plannedStartMarkMs ?? Number.NaN;
  t.ok(mark >= 0 && mark <= 1_500, `planned start ${mark} ms into the recording`);
  t.ok(Math.abs(total - mark - 20_000) <= 1_000, `ffprobe total ${total} ms − mark ${mark} ms is 20 s ± 1 s`);
  t.ok(total <= 22_000, 'and the pre-roll does not bloat it');
  t.ok(Math.abs(result.durationMs - total) <= 100, 'manifest duration = what is on disk');
  const files = readdirSync(path.join(root, 'news/2026-03-01T1100')).filter((f) => f.endsWith('.ts'));
  t.equal(files.length, result.segments.length, 'no stray segment files');
  // Started during pre-roll: the first byte reached disk before the planned start.
  t.ok(firstByte[0] !== undefined && firstByte[0] < plannedStart, 'first byte before the planned start');
  t.equal(
    result.bytes,
    result.segments.reduce((n, s) => n + s.bytes, 0),
  );
});
