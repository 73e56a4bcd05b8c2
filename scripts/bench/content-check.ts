/**
 * Content check cost (DOMAIN.md §4 "black/silence detection as a separate analysis"; device/detect/
 * content-check.ts): CPU of ONE content check — the station's real `ContentCheck` reading the tail of the
 * segment being recorded and running ffmpeg blackdetect + silencedetect over the production window
 * (`contentCheckWindowMs` of defaultTiming) — expressed as % of a core at the production period
 * (`contentCheckPeriodMs`). Baseline: the recorder's own ffmpeg (stream copy into segments) recording the
 * same stream, measured in the same run, as % of a core. Budget: the check costs ≤ 25 % of the recorder.
 *
 * The stream is broadcast-like SD: 720×576 MPEG-2 at 25 fps, GOP 12 with two B-frames (IBBP…), ~7.6 Mbit/s
 * video + MP2 192 kbit/s muxed at 8 Mbit/s CBR, with film-grain noise so the encoder really spends the
 * bits. It is pre-encoded once and looped over UDP with `-c copy`, so the source costs almost nothing.
 *
 * A check's CPU is read from the shell's `times` (user + system of its finished child, clock ticks): the
 * check's ffmpeg exits within a second, too fast to sample /proc reliably.
 *
 * Run alone: `node --import=tsx scripts/bench/run.ts "content check"`.
 */
import { type ChildProcess, execFileSync, type SpawnOptions, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { AlarmSlots } from '../../device/detect/alarm-slots.js';
import { ContentCheck } from '../../device/detect/content-check.js';
import { systemClock } from '../../device/link/clock.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { defaultTiming } from '../../protocol/timing.js';
import type { Bench, BenchResult } from './bench.js';

const SID = 101;
/** Recorder CPU window. */
const WINDOW_MS = 30_000;
/** Content checks measured (each on a fresh tail of the segment being written). */
const CHECKS = 5;
const logger = pino({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU seconds of all threads of a running process (/proc/PID/task/TID/schedstat, ns resolution). */
function cpuSeconds(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  }
  return ns / 1e9;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}`))));
  });
}

function stopProcess(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
    p.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill('SIGINT');
  });
}

/** 30 s of broadcast-like SD MPEG-2 at 8 Mbit/s (see the header). */
async function makeClip(dir: string): Promise<string> {
  const clip = path.join(dir, 'sd8.ts');
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi'],
    ...['-i', 'testsrc2=size=720x576:rate=25,noise=alls=12:allf=t'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '30'],
    ...['-c:v', 'mpeg2video', '-b:v', '7.6M', '-minrate', '7.6M', '-maxrate', '7.6M', '-bufsize', '1835k'],
    ...['-g', '12', '-bf', '2', '-c:a', 'mp2', '-b:a', '192k'],
    ...['-f', 'mpegts', '-muxrate', '8M', '-mpegts_service_id', String(SID), '-y', clip],
  ]);
  return clip;
}

function playClip(clip: string, port: number): ChildProcess {
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip],
      ...['-map', '0', '-c', 'copy', '-f', 'mpegts', '-muxrate', '8M', '-mpegts_service_id', String(SID)],
      `udp://127.0.0.1:${port}?pkt_size=1316`,
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

/** The newest `.ts` file under `dir`: the segment the recorder is writing. */
function newestSegment(dir: string): string | null {
  let best: { file: string; mtime: number } | null = null;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !e.name.endsWith('.ts')) continue;
    const file = path.join(e.parentPath, e.name);
    const mtime = statSync(file).mtimeMs;
    if (!best || mtime > best.mtime) best = { file, mtime };
  }
  return best?.file ?? null;
}

/** What one measured check did. */
interface CheckFigures {
  cpuS: number;
  frames: number;
  mediaMs: number;
}

/**
 * Runs one content check with the station's own class on the segment being written and returns the CPU
 * of its ffmpeg. The spawn wrapper runs ffmpeg under `sh` and reads `times` on fd 3 after it exits.
 */
function oneCheck(segment: string, bitrateBps: number): Promise<CheckFigures> {
  return new Promise((resolve, reject) => {
    let started = false;
    const wrap = (command: string, args: readonly string[], options: SpawnOptions): ChildProcess => {
      started = true;
      const child = spawn('sh', ['-c', '"$0" "$@"; s=$?; times >&3; exit $s', command, ...args], {
        ...options,
        stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      });
      let times = '';
      let progress = '';
      child.stdio[3]?.on('data', (b: Buffer) => {
        times += b.toString();
      });
      child.stdout?.on('data', (b: Buffer) => {
        progress = (progress + b.toString()).slice(-4000);
      });
      child.once('close', (code) => {
        // `times`: the shell's own user/system, then its children's ("0m0.412000s 0m0.020000s").
        const kids = times.trim().split('\n')[1] ?? '';
        const secs = [...kids.matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
        const last = (key: string) =>
          Math.max(0, ...[...progress.matchAll(new RegExp(`^${key}=(\\d+)`, 'gm'))].map((m) => Number(m[1])));
        if (code !== 0 || secs.length !== 2)
          reject(new Error(`content check ffmpeg: code ${code}, times ${times}`));
        else
          resolve({
            cpuS: (secs[0] ?? 0) + (secs[1] ?? 0),
            frames: last('frame'),
            mediaMs: last('out_time_us') / 1000,
          });
      });
      return child;
    };
    const check = new ContentCheck({
      recordings: () => [
        {
          key: 'bench@1',
          receiverId: 'rx1',
          service: 'sd8',
          segmentFile: () => segment,
          bitrateBps: () => bitrateBps,
        },
      ],
      receiver: () => ({ locked: true, marginDb: 6 }),
      slots: new AlarmSlots({ raise: () => undefined, clear: () => undefined }),
      clock: systemClock(),
      now: Date.now,
      timing: defaultTiming,
      spawn: wrap,
      logger,
    });
    check.tick(); // a fresh instance: the whole window is new, as once a period in production
    setTimeout(() => {
      if (!started) reject(new Error('the content check started no ffmpeg (segment too small?)'));
    }, 2000);
  });
}

async function benchRun(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-content-'));
  const port = await freePort();
  const clip = await makeClip(dir);
  const source = playClip(clip, port);
  const recorder = new Recorder({ spawn, clock: systemClock(), logger, timing: defaultTiming });
  const windowMs = defaultTiming.contentCheckWindowMs;
  const periodMs = defaultTiming.contentCheckPeriodMs;
  try {
    const start = Date.now();
    // Enough recorded before the first check for a whole window (the check sizes its tail at 1.25×).
    const warmupMs = Math.ceil(windowMs * 1.5) + 2_000;
    await recorder.start({
      url: `udp://127.0.0.1:${port}`,
      serviceId: SID,
      root: dir,
      dir: 'rec',
      plannedStart: start,
      end: start + warmupMs + WINDOW_MS + 10_000,
    });
    await sleep(warmupMs);
    const pid = recorder.status().pid;
    if (pid === undefined) throw new Error('the recorder ffmpeg did not start');
    const r0 = cpuSeconds(pid);
    const b0 = recorder.status().bytes;
    const t0 = Date.now();
    const checks: CheckFigures[] = [];
    for (let i = 0; i < CHECKS; i++) {
      const segment = newestSegment(path.join(dir, 'rec'));
      if (!segment) throw new Error('no segment being written');
      const bps = ((recorder.status().bytes - b0) * 8 * 1000) / Math.max(1, Date.now() - t0) || 8e6;
      checks.push(await oneCheck(segment, bps));
      await sleep(Math.max(0, t0 + ((i + 1) * WINDOW_MS) / CHECKS - Date.now()));
    }
    await sleep(Math.max(0, t0 + WINDOW_MS - Date.now()));
    const recCpu = cpuSeconds(pid) - r0;
    const elapsedS = (Date.now() - t0) / 1000;
    const mbps = ((recorder.status().bytes - b0) * 8) / elapsedS / 1e6;
    const cpuS = median(checks.map((c) => c.cpuS));
    const recPct = (recCpu / elapsedS) * 100;
    const checkPct = (cpuS / (periodMs / 1000)) * 100;
    return {
      value: checkPct,
      baseline: recPct,
      note:
        `one check = ${cpuS.toFixed(2)} CPU s (median of ${CHECKS}: ${checks.map((c) => c.cpuS.toFixed(2)).join('/')}; ` +
        `${median(checks.map((c) => c.frames))} pictures, ${(median(checks.map((c) => c.mediaMs)) / 1000).toFixed(1)} s ` +
        `of media decoded) every ${periodMs / 1000} s over a ${windowMs / 1000} s window; recorder ffmpeg ` +
        `${recCpu.toFixed(2)} CPU s over ${elapsedS.toFixed(0)} s at ${mbps.toFixed(1)} Mbit/s ` +
        `(SD MPEG-2 720×576, GOP 12 IBBP); ${1000 / CLK_TCK} ms tick resolution on the check`,
    };
  } finally {
    await recorder.stop();
    await stopProcess(source);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const contentCheckBench: Bench = {
  name: 'content check CPU (% of a core)',
  unit: '%',
  budget: { maxRatio: 0.25 },
  baselineLabel: "the recorder's ffmpeg, same stream",
  run: benchRun,
};
