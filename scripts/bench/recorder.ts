/**
 * Recorder benches (DESIGN.md §8):
 *
 * - `recorder CPU`: CPU of the recorder's ffmpeg (segment muxer, flush per packet, -progress, the
 *   agent's watchdog reading it) beside a bare `ffmpeg -c copy` of the same programme to one file, both
 *   fed the SAME UDP stream at the same time (an ffmpeg tee sends each datagram to both) and both read from
 *   /proc/<pid>/stat over the same window. Budget ≤ 1.1× the bare copy. The stream is a broadcast-like
 *   720×576 MPEG-2 at ~6 Mbit/s + MP2, pre-encoded once and looped with `-c copy` so the source costs
 *   almost nothing.
 * - `recorder start accuracy`: how far from the planned start the recording begins (|first kept segment
 *   start − planned start|; it begins slightly BEFORE, the pre-roll it keeps, never after) when the recorder
 *   is started `recorderLeadMs` early in pre-roll with the receiver already streaming. Baseline: the same
 *   recorder started AT the planned start (no pre-roll): how late its first byte is — the ~1.2 s probe
 *   DESIGN.md §3 warns about. Budget ≤ 1 s (DESIGN.md §8 "first recorded byte vs planned start").
 *
 * Run alone: `node --import=tsx scripts/bench/run.ts recorder` (once registered in registry.ts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { systemClock } from '../../device/link/clock.js';
import { buildBareCopyArgs, DEFAULT_UDP_OPTIONS } from '../../device/recorder/ffmpeg-args.js';
import { Recorder } from '../../device/recorder/recorder.js';
import { defaultTiming } from '../../protocol/timing.js';
import type { Bench, BenchResult } from './bench.js';

const SID = 101;
const WARMUP_MS = 4_000;
const WINDOW_MS = 30_000;
const logger = pino({ level: 'silent' });

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** utime + stime of a process in seconds (/proc/PID/stat fields 14 and 15; clock-tick resolution). */
function statCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[14 - 3]) + Number(f[15 - 3])) / CLK_TCK;
}

/**
 * CPU time of all threads of a process in seconds, at nanosecond resolution (/proc/PID/task/TID/schedstat
 * first field). At well under 1 % of a core, /proc/PID/stat's 10 ms ticks are too coarse to compare two
 * processes over a 20 s window; both figures are reported.
 */
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

/** A broadcast-like programme: 720×576 MPEG-2 ~6 Mbit/s, GOP 12, MP2 192k, 20 s. */
async function makeClip(dir: string): Promise<string> {
  const clip = path.join(dir, 'clip.ts');
  await run('ffmpeg', [
    ...['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=25'],
    ...['-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '20'],
    ...['-c:v', 'mpeg2video', '-b:v', '6M', '-maxrate', '6M', '-bufsize', '1835k', '-g', '12'],
    ...['-c:a', 'mp2', '-b:a', '192k', '-f', 'mpegts', '-mpegts_service_id', String(SID), '-y', clip],
  ]);
  return clip;
}

/** Loops the clip in real time to every port (an ffmpeg tee: each datagram to each output). */
function playClip(clip: string, ports: number[]): ChildProcess {
  const outs = ports
    .map((p) => `[f=mpegts:mpegts_service_id=${SID}:onfail=ignore]udp://127.0.0.1:${p}?pkt_size=1316`)
    .join('|');
  return spawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-stream_loop', '-1', '-i', clip],
      ...['-map', '0', '-c', 'copy', '-f', 'tee', outs],
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
}

async function cpuRun(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-rec-'));
  const [recPort, barePort] = [await freePort(), await freePort()];
  const clip = await makeClip(dir);
  const source = playClip(clip, [recPort, barePort]);
  const udp = { ...DEFAULT_UDP_OPTIONS, timeoutUs: defaultTiming.recorderStallMs * 1000 };
  const bare = spawn(
    'ffmpeg',
    buildBareCopyArgs(`udp://127.0.0.1:${barePort}`, SID, path.join(dir, 'bare.ts'), udp),
    {
      stdio: ['pipe', 'ignore', 'inherit'],
    },
  );
  const recorder = new Recorder({ spawn, clock: systemClock(), logger, timing: defaultTiming });
  const nodeCpu0 = process.cpuUsage();
  try {
    const now = Date.now();
    await recorder.start({
      url: `udp://127.0.0.1:${recPort}`,
      serviceId: SID,
      root: dir,
      dir: 'rec',
      plannedStart: now,
      end: now + WARMUP_MS + WINDOW_MS + 10_000,
    });
    await sleep(WARMUP_MS);
    const recPid = recorder.status().pid;
    if (recPid === undefined || bare.pid === undefined) throw new Error('ffmpeg did not start');
    const r0 = cpuSeconds(recPid);
    const b0 = cpuSeconds(bare.pid);
    const rs0 = statCpuSeconds(recPid);
    const bs0 = statCpuSeconds(bare.pid);
    const node0 = process.cpuUsage(nodeCpu0);
    await sleep(WINDOW_MS);
    const r1 = cpuSeconds(recPid);
    const b1 = cpuSeconds(bare.pid);
    const rs1 = statCpuSeconds(recPid);
    const bs1 = statCpuSeconds(bare.pid);
    const node1 = process.cpuUsage(nodeCpu0);
    const bytes = recorder.status().bytes;
    const pct = (s: number) => (s / (WINDOW_MS / 1000)) * 100;
    const nodePct = pct((node1.user + node1.system - node0.user - node0.system) / 1e6);
    const mbps = (bytes * 8) / ((WARMUP_MS + WINDOW_MS) / 1000) / 1e6;
    return {
      value: pct(r1 - r0),
      baseline: pct(b1 - b0),
      note:
        `${(WINDOW_MS / 1000).toFixed(0)} s window, ~${mbps.toFixed(1)} Mbit/s; /proc/PID/stat (${1000 / CLK_TCK} ms ` +
        `ticks) says ${pct(rs1 - rs0).toFixed(2)} % vs ${pct(bs1 - bs0).toFixed(2)} %; ` +
        `whole bench Node process (watchdog, progress parsing) ${nodePct.toFixed(2)} % of a core`,
    };
  } finally {
    await recorder.stop();
    await Promise.all([stopProcess(bare), stopProcess(source)]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One recording; returns (recording start − planned start) and (first byte − planned start), signed. */
async function startOnce(
  url: string,
  root: string,
  leadMs: number,
): Promise<{ offsetMs: number; firstByteLateMs: number }> {
  const recorder = new Recorder({ spawn, clock: systemClock(), logger, timing: defaultTiming });
  const plannedStart = Date.now() + leadMs;
  await recorder.start({
    url,
    serviceId: SID,
    root,
    dir: `start-${leadMs}-${plannedStart}`,
    plannedStart,
    end: plannedStart + 5_000,
  });
  const r = await recorder.finished;
  const first = r.segments[0];
  if (!first || r.firstByteAt === null) throw new Error(`nothing recorded (${r.reason ?? ''})`);
  return { offsetMs: first.start - plannedStart, firstByteLateMs: r.firstByteAt - plannedStart };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startRun(): Promise<BenchResult> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-start-'));
  const port = await freePort();
  const clip = await makeClip(dir);
  const source = playClip(clip, [port]);
  try {
    await sleep(1_500); // the receiver is locked and streaming in pre-roll
    const url = `udp://127.0.0.1:${port}`;
    const lead: number[] = [];
    const leadFirst: number[] = [];
    const noLead: number[] = [];
    for (let i = 0; i < 3; i++) {
      const a = await startOnce(url, dir, defaultTiming.recorderLeadMs);
      lead.push(a.offsetMs);
      leadFirst.push(a.firstByteLateMs);
      noLead.push((await startOnce(url, dir, 0)).firstByteLateMs);
    }
    return {
      value: Math.abs(median(lead)),
      baseline: median(noLead),
      note:
        `3 runs each; started ${defaultTiming.recorderLeadMs} ms early, the recording begins ` +
        `${lead.map((x) => -x).join('/')} ms BEFORE the planned start (pre-roll kept, the mark says where) and ` +
        `its first byte was on disk ${-median(leadFirst)} ms before it; started at the planned start, the ` +
        `first byte came ${noLead.join('/')} ms late`,
    };
  } finally {
    await stopProcess(source);
    rmSync(dir, { recursive: true, force: true });
  }
}

export const recorderCpuBench: Bench = {
  name: 'recorder CPU (% of a core)',
  unit: '%',
  budget: { maxRatio: 1.1 },
  baselineLabel: 'bare ffmpeg -c copy, same stream',
  run: cpuRun,
};

export const recorderStartBench: Bench = {
  name: 'recorder start accuracy',
  unit: 'ms',
  budget: { max: 1000 },
  baselineLabel: 'first byte late without pre-roll',
  run: startRun,
};
