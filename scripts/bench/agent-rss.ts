/**
 * Agent memory while recording (DESIGN.md §8: "agent RSS while recording ≤ 80 MB (plus ffmpeg)").
 *
 * Value: the peak resident set of the station agent PROCESS, sampled every 250 ms while it records — the
 * agent as deployed (`node dist/device/main.js --config …`: the sources compiled by `tsconfig.build.json`
 * into a temporary directory, plain Node, no TypeScript loader) with the production timing profile (only
 * `tunePreRollMs` shortened to 10 s so the bench does not wait a minute). A real headend (headend/main.ts,
 * embedded broker, in this process) schedules a 45 s recording; the agent tunes a simulated RX8200 over raw
 * TCP (device/simulator, in this process), records its MPEG-TS with ffmpeg and reports to the headend.
 * The recorder's ffmpeg is not counted ("plus ffmpeg"); its RSS is in the note.
 *
 * Baseline: an idle bare Node process (`setInterval`) of the same binary, measured in the same run — what
 * the runtime costs before any of the agent's code.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { openSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, rmdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { systemClock } from '../../device/link/clock.js';
import { listenTcpLine } from '../../device/simulator/endpoints.js';
import { Rx8200Simulator } from '../../device/simulator/rx8200-sim.js';
import { StreamHub } from '../../device/simulator/stream-source.js';
import { databasePath, HeadendConfigSchema } from '../../headend/config.js';
import { occurrenceStatuses } from '../../headend/fleet/ingest.js';
import { silentLogger } from '../../headend/log.js';
import { type RunningHeadend, startHeadend } from '../../headend/main.js';
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import { openStore } from '../../headend/store/index.js';
import { ServiceTuning } from '../../protocol/messages/tuning.js';
import { defaultTiming } from '../../protocol/timing.js';
import type { Bench, BenchResult } from './bench.js';
import { freeTcpPort } from './mosquitto-process.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STATION = 'bench-rss-01';
const RECORD_MS = 45_000;
const LEAD_MS = 15_000;
const SERVICE: ServiceTuning = ServiceTuning.parse({
  key: 'cctv13',
  name: 'CCTV-13 新闻',
  serviceId: 113,
  transponder: {
    frequencyMHz: 3840,
    polarisation: 'H',
    symbolRateKsps: 27500,
    system: 'DVB-S',
    modulation: 'QPSK',
    fec: '3/4',
    lnbLoMHz: 5150,
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const mb = (bytes: number) => bytes / 2 ** 20;

/** VmRSS and VmHWM of `pid`, bytes (null when it is gone). */
function memOf(pid: number): { rss: number; hwm: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
  } catch {
    return null;
  }
}

/** PIDs whose parent is `pid` (the agent's ffmpeg/ffprobe). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** A UDP port that was free a moment ago on 127.0.0.1 (where the receiver's stream goes). */
function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = dgram.createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * The Node flags the agent's systemd unit starts it with (the words between the node binary and the script
 * in `ExecStart=`), so the bench measures the deployed configuration, V8 heap limits included.
 */
function deployedNodeFlags(): string[] {
  const unit = readFileSync(path.join(REPO, 'device/systemd/ruralsat-agent.service'), 'utf8');
  const words = /^ExecStart=(.*)$/m.exec(unit)?.[1]?.trim().split(/\s+/) ?? [];
  const script = words.findIndex((w) => w.endsWith('.js'));
  return script > 1 ? words.slice(1, script) : [];
}

async function until<T>(f: () => T | undefined | null | false, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(200);
  }
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { cwd: REPO, timeout: 180_000 }, (err, stdout, stderr) => {
      if (err)
        reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stdout}${stderr}`.slice(0, 2000)));
      else resolve();
    });
  });
}

/** Kills `child` (SIGTERM, SIGKILL after 10 s) and waits for it. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export const agentRssBench: Bench = {
  name: 'agent RSS while recording',
  unit: 'MB',
  budget: { max: 80 },
  baselineLabel: 'idle bare node process',
  async run(): Promise<BenchResult> {
    const cleanups: (() => Promise<void> | void)[] = [];
    const cleanup = async () => {
      for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
    };
    try {
      // The deployed form: compiled JS under the repository (so `node_modules` resolves), removed afterwards.
      const scratch = path.join(REPO, 'tmp'); // git-ignored
      await mkdir(scratch, { recursive: true });
      cleanups.push(() => rmdir(scratch).catch(() => undefined)); // only when nothing else is in it
      const build = await mkdtemp(path.join(scratch, 'bench-agent-build-'));
      cleanups.push(() => rm(build, { recursive: true, force: true }));
      // tsc exits non-zero on type errors anywhere in the tree but still emits; the entry must exist.
      await run(process.execPath, [
        path.join(REPO, 'node_modules/typescript/bin/tsc'),
        '-p',
        'tsconfig.build.json',
        '--outDir',
        build,
      ]).catch(() => undefined);
      const main = path.join(build, 'device/main.js');
      readFileSync(main); // throws with the path when the build produced nothing

      const dir = await mkdtemp(path.join(tmpdir(), 'bench-agent-rss-'));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      const dataDir = path.join(dir, 'headend');
      await mkdir(dataDir);
      const store = openStore(databasePath({ dataDir }));
      store.lineup.replace({
        transponders: [{ id: 't3840h', tuning: SERVICE.transponder }],
        services: [
          { key: SERVICE.key, name: SERVICE.name, serviceId: SERVICE.serviceId, transponderId: 't3840h' },
        ],
      });
      const { secret } = provisionStation(
        { store, iterations: 10_000, headendUsername: 'headend', actor: 'bench' },
        { id: STATION, name: STATION, county: 'kongtong' },
      );
      store.close();
      const mqttPort = await freeTcpPort();
      const running: RunningHeadend = await startHeadend(
        HeadendConfigSchema.parse({
          dataDir,
          http: { host: '127.0.0.1', port: 0 },
          mqtt: { host: '127.0.0.1', port: mqttPort },
          logLevel: 'silent',
        }),
        { logger: silentLogger() },
      );
      cleanups.push(() => running.stop());
      const cp = running.controlPlane;

      // The simulated receiver and its stream (an ffmpeg test source started at lock).
      const logger = pino({ level: 'silent' });
      const timers = { now: () => Date.now(), schedule: systemClock().schedule };
      const hub = new StreamHub({ spawn, timers, logger });
      cleanups.push(() => hub.close());
      const udpPort = await freeUdpPort();
      const streamUrl = `udp://127.0.0.1:${udpPort}`;
      const sim = new Rx8200Simulator(
        {
          address: 2,
          output: streamUrl,
          lineup: [SERVICE],
          lockDelayMs: defaultTiming.simulatorLockDelayMs,
          baudRate: 9600,
          seed: 7,
        },
        { timers, logger, hub },
      );
      cleanups.push(() => sim.close());
      const line = await listenTcpLine(0, '127.0.0.1', logger);
      sim.attach(line);

      const configFile = path.join(dir, 'agent.json');
      await writeFile(
        configFile,
        JSON.stringify({
          stationId: STATION,
          broker: { url: `mqtt://127.0.0.1:${mqttPort}`, password: secret },
          receiver: { family: 'rx8200', transport: { type: 'tcp', host: '127.0.0.1', port: line.port } },
          streamUrl,
          recordingsDir: path.join(dir, 'recordings'),
          dataDir: path.join(dir, 'agent'),
          disk: { quotaBytes: 0, minFreeBytes: 0 },
          timingBase: 'default',
          timing: { tunePreRollMs: 10_000 },
          logLevel: 'info',
        }),
      );
      const logFd = openSync(path.join(dir, 'agent.log'), 'a');
      const flags = deployedNodeFlags();
      const agent = spawn(process.execPath, [...flags, main, '--config', configFile], {
        cwd: REPO,
        stdio: ['ignore', logFd, logFd],
      });
      cleanups.push(() => stopChild(agent));
      const agentPid = agent.pid ?? -1;
      const bare = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
      cleanups.push(() => stopChild(bare));
      const logTail = () =>
        readFileSync(path.join(dir, 'agent.log'), 'utf8').split('\n').slice(-6).join('\n');

      await until(
        () => cp.tracker.status(STATION).inSync && cp.tracker.status(STATION).applied,
        30_000,
        `the agent applied its first document; agent log:\n${logTail()}`,
      );
      await sleep(3000);
      const idle = memOf(agentPid);
      const baseline = memOf(bare.pid ?? -1);
      if (!idle || !baseline) throw new Error(`agent or bare node exited; agent log:\n${logTail()}`);

      const start = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
      const saved = cp.scheduling.create(
        {
          kind: 'recording',
          title: '新闻联播',
          service: SERVICE.key,
          padBeforeMs: 0,
          padAfterMs: 0,
          when: { type: 'once', start: iso(start), end: iso(start + RECORD_MS) },
          target: { type: 'station', stationId: STATION },
        },
        'bench',
      );
      const recording = () =>
        occurrenceStatuses(running.store, { stationId: STATION }).find(
          (o) => o.entryId === saved.entry.id && o.state === 'recording',
        );
      await until(recording, LEAD_MS + 30_000, `the agent recording; agent log:\n${logTail()}`);
      let peak = 0;
      let ffmpegPeak = 0;
      let samples = 0;
      while (Date.now() < start + RECORD_MS - 1000 && recording()) {
        const m = memOf(agentPid);
        if (!m) throw new Error(`the agent exited while recording; agent log:\n${logTail()}`);
        peak = Math.max(peak, m.rss);
        for (const c of childrenOf(agentPid)) ffmpegPeak = Math.max(ffmpegPeak, memOf(c)?.rss ?? 0);
        samples++;
        await sleep(250);
      }
      if (samples < 40) throw new Error(`recording ended after ${samples} samples; agent log:\n${logTail()}`);
      const rec = await until(
        () => running.store.recordings.list({ stationId: STATION }).find((r) => r.entryId === saved.entry.id),
        30_000,
        `the recording catalogued at the headend; agent log:\n${logTail()}`,
      );
      // A recorder that never got a stream is not "recording": its memory says nothing about the budget.
      if (!/^completed/.test(rec.status))
        throw new Error(`the recording ended ${rec.status}; agent log:\n${logTail()}`);
      const hwm = memOf(agentPid)?.hwm ?? 0;
      return {
        value: mb(peak),
        baseline: mb(baseline.rss),
        note:
          `peak of ${samples} samples over a ${RECORD_MS / 1000} s recording (catalogued ${rec.status}); agent ` +
          `idle before it ${mb(idle.rss).toFixed(1)} MB, lifetime high-water mark ${mb(hwm).toFixed(1)} MB; ` +
          `recorder ffmpeg ${mb(ffmpegPeak).toFixed(1)} MB on top; compiled JS on node ` +
          `${process.version} with the unit's flags (${flags.join(' ') || 'none'}), production timing (tunePreRollMs 10 s)`,
      };
    } finally {
      await cleanup();
    }
  },
};
