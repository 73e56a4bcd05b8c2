import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import t from 'tap';
import { systemClock } from '../../device/link/clock.js';
import { silentLogger } from '../../device/log.js';
import { FfmpegRun } from '../../device/recorder/ffmpeg-process.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { shortTiming } from '../../protocol/timing.js';
import { freeUdpPort } from '../helpers/net.js';
import { startTsSource, UdpGate } from '../helpers/recorder-source.js';

const SID = 305;

function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'rec-ctl-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function waitFor(cond: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A stand-in "ffmpeg": a shell script with the given body (the stop escalation does not care which binary). */
function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

t.test('stop escalates q → SIGINT → SIGKILL, each after the grace period', async (t) => {
  const dir = tempDir(t);
  const cases = [
    { name: 'quits-on-q', body: 'head -c 1 >/dev/null; exit 0', want: 'q', code: 0 },
    {
      name: 'ignores-q',
      body: 'trap "exit 255" INT; while :; do sleep 0.05; done',
      want: 'SIGINT',
      code: 255,
    },
    { name: 'ignores-all', body: 'trap "" INT; while :; do sleep 0.05; done', want: 'SIGKILL', code: null },
  ] as const;
  for (const c of cases) {
    const run = new FfmpegRun({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      ffmpegPath: script(dir, c.name, c.body),
      args: [],
      stopGraceMs: 300,
    });
    run.start();
    t.ok(await run.spawned, `${c.name} started`);
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const exit = await run.stop('end');
    const took = Date.now() - t0;
    t.equal(exit.stoppedWith, c.want, `${c.name}: ended by ${c.want}`);
    t.equal(exit.code, c.code);
    t.equal(exit.requested, 'end');
    if (c.want === 'SIGKILL') t.ok(took >= 550, `waited two grace periods (${took} ms)`);
  }
});

t.test('ffmpeg missing: start rejects with SPAWN_FAILED', async (t) => {
  const root = tempDir(t);
  const recorder = new Recorder({
    spawn,
    clock: systemClock(),
    logger: silentLogger(),
    timing: shortTiming,
    ffmpegPath: '/nonexistent/ffmpeg',
  });
  await t.rejects(
    recorder.start({
      url: 'udp://127.0.0.1:9',
      serviceId: SID,
      root,
      dir: 'x',
      plannedStart: Date.now(),
      end: Date.now() + 5000,
    }),
    { name: 'RecorderError', code: 'SPAWN_FAILED' },
  );
});

t.test('bad requests are refused before anything runs', async (t) => {
  const root = tempDir(t);
  const make = () =>
    new Recorder({ spawn, clock: systemClock(), logger: silentLogger(), timing: shortTiming });
  const now = Date.now();
  const ok = { url: 'udp://127.0.0.1:9', serviceId: SID, root, dir: 'x', plannedStart: now, end: now + 5000 };
  await t.rejects(make().start({ ...ok, end: now - 1 }), { code: 'BAD_REQUEST', message: /already over/ });
  await t.rejects(make().start({ ...ok, dir: '../escape' }), { code: 'BAD_REQUEST', message: /escapes/ });
  await t.rejects(make().start({ ...ok, root: 'relative' }), { code: 'BAD_REQUEST' });
  await t.rejects(make().start({ ...ok, serviceId: 0 }), { code: 'BAD_REQUEST' });
});

t.test('the service is not in the stream: retried with backoff, then failed with the reason', async (t) => {
  const gate = await UdpGate.open();
  t.teardown(() => gate.close());
  const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
  t.teardown(() => source.stop());
  await waitFor(() => gate.forwarded > 50, 10_000);
  const recorder = new Recorder({ spawn, clock: systemClock(), logger: silentLogger(), timing: shortTiming });
  t.teardown(() => recorder.stop());
  const now = Date.now();
  await recorder.start({
    url: `udp://127.0.0.1:${gate.toPort}`,
    serviceId: 999,
    root: tempDir(t),
    dir: 'x',
    plannedStart: now,
    end: now + 8_000,
  });
  const r = await recorder.finished;
  t.equal(r.outcome, 'failed');
  t.match(r.reason ?? '', /^service_not_found/);
  t.ok(r.runs >= 2 && r.runs <= 6, `retried ${r.runs} times in 8 s, not a hot loop`);
});

t.test('no stream at all: failed with the input timeout as the reason', async (t) => {
  const port = await freeUdpPort();
  const recorder = new Recorder({ spawn, clock: systemClock(), logger: silentLogger(), timing: shortTiming });
  t.teardown(() => recorder.stop());
  const now = Date.now();
  await recorder.start({
    url: `udp://127.0.0.1:${port}`,
    serviceId: SID,
    root: tempDir(t),
    dir: 'x',
    plannedStart: now,
    end: now + 5_000,
  });
  const r = await recorder.finished;
  t.equal(r.outcome, 'failed');
  t.match(r.reason ?? '', /^(input_timeout|no_data)/);
  t.same(r.segments, []);
  t.equal(r.gaps[0]?.cause, 'no_data');
});

t.test(
  'extend keeps one continuous recording; stop ends the window now without an early-end gap',
  async (t) => {
    const gate = await UdpGate.open();
    t.teardown(() => gate.close());
    const source = startTsSource({ port: gate.inPorts[0]!, serviceId: SID });
    t.teardown(() => source.stop());
    await waitFor(() => gate.forwarded > 50, 10_000);
    const root = tempDir(t);
    const extended = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
    });
    t.teardown(() => extended.stop());
    const p = Date.now() + 1_000;
    await extended.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: 'ext',
      plannedStart: p,
      end: p + 5_000,
    });
    await new Promise((r) => setTimeout(r, 3_000));
    extended.extend(p + 9_000);
    const r = await extended.finished;
    t.equal(r.runs, 1, 'one ffmpeg run: one continuous recording');
    t.equal(r.outcome, 'completed', r.reason ?? '');
    const mark = r.plannedStartMarkMs ?? 0;
    t.ok(
      Math.abs(r.durationMs - mark - 9_000) <= 1_000,
      `9 s recorded from the mark (${r.durationMs} − ${mark} ms)`,
    );

    const stopped = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
    });
    const q = Date.now() + 1_000;
    await stopped.start({
      url: `udp://127.0.0.1:${gate.toPort}`,
      serviceId: SID,
      root,
      dir: 'stop',
      plannedStart: q,
      end: q + 60_000,
    });
    await new Promise((r) => setTimeout(r, 5_000));
    const s = await stopped.stop();
    t.equal(s.outcome, 'completed', `cut short on purpose is not an error (${s.reason ?? ''})`);
    t.ok(s.durationMs > 3_000 && s.durationMs < 6_000, `${s.durationMs} ms`);
    t.equal(s.window.to - s.window.from < 6_000, true, 'the window ends at the stop');
  },
);

t.test(
  'a recorder stopped before it started is cancelled: start is refused, the result is empty',
  async (t) => {
    const recorder = new Recorder({
      spawn,
      clock: systemClock(),
      logger: silentLogger(),
      timing: shortTiming,
    });
    const r = await recorder.stop();
    t.match(r, { outcome: 'failed', runs: 0, segments: [], bytes: 0 });
    const now = Date.now();
    await t.rejects(
      recorder.start({
        url: 'udp://127.0.0.1:9',
        serviceId: SID,
        root: tempDir(t),
        dir: 'x',
        plannedStart: now,
        end: now + 5000,
      }),
      { code: 'STATE' },
    );
  },
);
