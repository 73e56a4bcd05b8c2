/**
 * Test harness for the station agent (real parts, DESIGN.md §2 / STYLE.md guideline 10):
 * - a broker that can be RESTARTED on the same port: in-process aedes, or a spawned Mosquitto
 *   (`allow_anonymous true` in these tests; ACLs are tested with the headend's broker elsewhere). Neither
 *   keeps retained messages across a restart, as with an embedded broker that restarts;
 * - a simulated RX8200 on a socat pty with a real UDP MPEG-TS output (device/simulator);
 * - an agent with the short timing profile in a temp dir, in-process (`startTestAgent`) or as a child
 *   process (`spawnAgentProcess`, for kill -9);
 * - the headend side (`HeadendDouble`, `uplinkSwitch`) lives in agent-headend.ts and is re-exported here.
 * Everything started is stopped on teardown, by PID for processes.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Aedes, type AuthorizePublishHandler } from 'aedes';
import { pino } from 'pino';
import type { Test } from 'tap';
import { type Agent, startAgent } from '../../device/agent.js';
import { type AgentConfig, type AgentConfigInput, AgentConfigSchema } from '../../device/config.js';
import { systemClock } from '../../device/link/clock.js';
import { loadLineup } from '../../device/receiver/lineup-file.js';
import { openPtyLine } from '../../device/simulator/endpoints.js';
import { Rx8200Simulator } from '../../device/simulator/rx8200-sim.js';
import { StreamHub } from '../../device/simulator/stream-source.js';
import type { ScheduleDocumentInput } from '../../protocol/messages/schedule.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import { PLANNER_VERSION } from '../../protocol/planner/types.js';
import { shortTiming } from '../../protocol/timing.js';
import { type UplinkSwitch, until } from './agent-headend.js';
import { freeTcpPort, freeUdpPort } from './net.js';
import { createPtyPair } from './socat.js';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const LINEUP_FIXTURE = path.join(REPO, 'tests/fixtures/lineup/sample-lineup.json');

export {
  HeadendDouble,
  sleep,
  startHeadendDouble,
  type UplinkSwitch,
  until,
  uplinkSwitch,
} from './agent-headend.js';

export async function tempDir(t: Test, prefix = 'agent-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  // AGENT_TEST_KEEP=1 keeps the directory (logs, database, recordings) for a post-mortem.
  if (process.env.AGENT_TEST_KEEP) t.comment(`keeping ${dir}`);
  else t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------------- brokers

export interface TestBrokerHandle {
  kind: 'aedes' | 'mosquitto';
  url: string;
  port: number;
  running: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Stop and start again on the same port: connections drop, retained messages are gone. */
  restart(): Promise<void>;
}

/** In-process aedes on a fixed free port. `authorizePublish` lets a test refuse publishes. */
export async function startAedes(
  t: Test,
  opts: { authorizePublish?: AuthorizePublishHandler } = {},
): Promise<TestBrokerHandle> {
  const port = await freeTcpPort();
  let server: net.Server | null = null;
  let broker: Aedes | null = null;
  const sockets = new Set<net.Socket>();
  const handle: TestBrokerHandle = {
    kind: 'aedes',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    running: false,
    async start() {
      broker = await Aedes.createBroker(
        opts.authorizePublish ? { authorizePublish: opts.authorizePublish } : {},
      );
      const b = broker;
      server = net.createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        b.handle(s);
      });
      const srv = server;
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(port, '127.0.0.1', () => resolve());
      });
      handle.running = true;
    },
    async stop() {
      if (!handle.running) return;
      handle.running = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
      await new Promise<void>((resolve) => broker?.close(() => resolve()));
    },
    async restart() {
      await handle.stop();
      await handle.start();
    },
  };
  await handle.start();
  t.teardown(() => handle.stop());
  return handle;
}

/** A spawned Mosquitto 2 on a fixed free port, no persistence (retained messages die with it). */
export async function startMosquittoBroker(t: Test): Promise<TestBrokerHandle> {
  const port = await freeTcpPort();
  const dir = await tempDir(t, 'mosq-');
  const conf = path.join(dir, 'mosquitto.conf');
  // max_queued_messages sized up: the default 1000 silently drops QoS 1 to a slow subscriber (DESIGN.md §3).
  await writeFile(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 100000\nlog_type error\nlog_type warning\n`,
  );
  let proc: ChildProcess | null = null;
  const handle: TestBrokerHandle = {
    kind: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    port,
    running: false,
    async start() {
      const p = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      proc = p;
      let stderr = '';
      p.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      await until(
        () =>
          new Promise<boolean>((resolve) => {
            if (p.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`);
            const s = net.connect(port, '127.0.0.1');
            s.once('connect', () => {
              s.destroy();
              resolve(true);
            });
            s.once('error', () => resolve(false));
          }),
        'mosquitto to listen',
        10_000,
      );
      handle.running = true;
    },
    async stop() {
      const p = proc;
      proc = null;
      handle.running = false;
      if (!p || p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
    async restart() {
      await handle.stop();
      await handle.start();
    },
  };
  await handle.start();
  t.teardown(() => handle.stop());
  return handle;
}

// -------------------------------------------------------------------------------------------- simulator

export interface SimReceiver {
  /** The pty path the agent opens (the other end is the simulator's). */
  port: string;
  streamUrl: string;
  sim: Rx8200Simulator;
  hub: StreamHub;
  lineup: ServiceTuning[];
  close(): Promise<void>;
}

/** A simulated RX8200 on a socat pty, streaming real MPEG-TS (ffmpeg test source) to a UDP port. */
export async function startSimReceiver(t: Test): Promise<SimReceiver> {
  const pair = await createPtyPair();
  const lineup = await loadLineup(LINEUP_FIXTURE);
  const udpPort = await freeUdpPort();
  const streamUrl = `udp://127.0.0.1:${udpPort}`;
  const logger = pino({ level: 'silent' });
  const timers = { now: () => Date.now(), schedule: systemClock().schedule };
  const hub = new StreamHub({ spawn, timers, logger });
  const sim = new Rx8200Simulator(
    {
      address: 2,
      output: streamUrl,
      lineup,
      lockDelayMs: shortTiming.simulatorLockDelayMs,
      baudRate: 9600,
      seed: 7,
    },
    { timers, logger, hub },
  );
  sim.attach(await openPtyLine(pair.a, 9600, logger));
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await sim.close();
    await hub.close();
    await pair.close();
  };
  t.teardown(close);
  return { port: pair.b, streamUrl, sim, hub, lineup, close };
}

// ----------------------------------------------------------------------------------------------- agents

export const STATION = 'kongtong-01';

export function agentConfig(o: {
  dir: string;
  brokerUrl: string;
  port: string;
  streamUrl: string;
  stationId?: string;
  extra?: Partial<AgentConfigInput>;
}): AgentConfig {
  return AgentConfigSchema.parse({
    stationId: o.stationId ?? STATION,
    broker: { url: o.brokerUrl },
    receiver: { family: 'rx8200', transport: { type: 'serial', path: o.port } },
    streamUrl: o.streamUrl,
    recordingsDir: path.join(o.dir, 'recordings'),
    dataDir: path.join(o.dir, 'data'),
    disk: { quotaBytes: 0, minFreeBytes: 0 },
    timingBase: 'short',
    // The simulator starts its ffmpeg test source at lock: tune a little earlier than the short profile
    // so the stream flows before the recorder starts (a real receiver outputs as soon as it locks).
    timing: { tunePreRollMs: 4000 },
    logLevel: 'warn',
    ...o.extra,
  });
}

/** An in-process agent (JSON logs to `<dir>/agent.log`), stopped on teardown. */
export async function startTestAgent(
  t: Test,
  config: AgentConfig,
  opts: { logFile?: string; mqttConnect?: UplinkSwitch['connect'] } = {},
): Promise<Agent> {
  const dest = createWriteStream(opts.logFile ?? path.join(config.dataDir, '..', 'agent.log'), {
    flags: 'a',
  });
  const logger = pino({ level: process.env.AGENT_TEST_LOG ?? 'info' }, dest);
  const agent = await startAgent(config, {
    clock: systemClock(),
    logger,
    spawn,
    ...(opts.mqttConnect ? { mqttConnect: opts.mqttConnect } : {}),
  });
  t.teardown(async () => {
    await agent.stop();
    dest.end();
  });
  return agent;
}

export interface AgentProcess {
  proc: ChildProcess;
  pid: number;
  log(): Promise<string>;
  /** Resolves on exit. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The agent as a child process (`node --import tsx device/main.ts --config <file>`), for kill -9 tests. */
export async function spawnAgentProcess(
  t: Test,
  config: AgentConfig,
  name = 'agent-proc',
): Promise<AgentProcess> {
  const dir = path.dirname(config.dataDir);
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  await writeFile(file, JSON.stringify(config));
  const logPath = path.join(dir, `${name}.log`);
  const out = createWriteStream(logPath, { flags: 'a' });
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'device/main.ts'), '--config', file],
    {
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, RURALSAT_LOG_LEVEL: process.env.AGENT_TEST_LOG ?? 'info' },
    },
  );
  proc.stdout?.pipe(out);
  proc.stderr?.pipe(out);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('exit', (code, signal) => resolve({ code, signal })),
  );
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    out.end();
  });
  return { proc, pid: proc.pid ?? -1, log: () => readFile(logPath, 'utf8'), exited };
}

// -------------------------------------------------------------------------------------------- schedules

export interface EntrySpec {
  id: string;
  title?: string;
  service?: string;
  start: number;
  end: number;
  kind?: 'recording' | 'conference';
  klass?: 'conference' | 'mandated' | 'operator';
  rev?: number;
  record?: boolean;
}

/** A schedule document for the simulator's line-up, one receiver `rx1` (decoder output). */
export function scheduleDoc(
  lineup: readonly ServiceTuning[],
  version: { epoch: number; n: number },
  entries: EntrySpec[],
): ScheduleDocumentInput {
  const tuning: Record<string, ServiceTuning> = {};
  for (const e of entries) {
    const s = lineup.find((l) => l.key === (e.service ?? 'cctv1'));
    if (s) tuning[s.key] = s;
  }
  return {
    version,
    issuedAt: new Date().toISOString(),
    plannerVersion: PLANNER_VERSION,
    timeZone: 'Asia/Shanghai',
    receivers: [{ id: 'rx1', sharing: 'service' }],
    tuning,
    entries: entries.map((e) => {
      const conference = (e.kind ?? 'recording') === 'conference';
      const base = {
        id: e.id,
        rev: e.rev ?? 1,
        createdAt: '2026-01-01T00:00:00.000Z',
        title: e.title ?? e.id,
        priority: 0,
        service: e.service ?? 'cctv1',
        padBeforeMs: 0,
        padAfterMs: 0,
        when: {
          type: 'once' as const,
          start: new Date(e.start).toISOString(),
          end: new Date(e.end).toISOString(),
        },
      };
      return conference
        ? {
            ...base,
            kind: 'conference' as const,
            class: 'conference' as const,
            record: e.record ?? true,
            preRollMs: 0,
          }
        : {
            ...base,
            kind: 'recording' as const,
            class: e.klass === 'mandated' ? ('mandated' as const) : ('operator' as const),
            record: true as const,
          };
    }),
  };
}

/** PIDs of live ffmpeg processes whose command line mentions `needle`. */
export async function ffmpegPidsWith(needle: string): Promise<number[]> {
  const { readdir } = await import('node:fs/promises');
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8');
      const stat = await readFile(`/proc/${name}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state !== 'Z' && cmd.split('\0')[0]?.endsWith('ffmpeg') && cmd.includes(needle))
        pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Whether a PID is alive (and not a zombie). */
export async function alive(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** ffprobe of a recorded file: duration and programmes. */
export function ffprobeFile(file: string): Promise<{ durationS: number; programs: number[] }> {
  return new Promise((resolve, reject) => {
    execFile(
      'ffprobe',
      ['-v', 'error', '-print_format', 'json', '-show_format', '-show_programs', file],
      { timeout: 20_000 },
      (err, stdout) => {
        if (err) return reject(err);
        const j = JSON.parse(stdout) as {
          format?: { duration?: string };
          programs?: { program_id?: number }[];
        };
        resolve({
          durationS: Number(j.format?.duration ?? 0),
          programs: (j.programs ?? []).map((p) => p.program_id ?? -1),
        });
      },
    );
  });
}

export async function fileExists(p: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  return stat(p).then(
    () => true,
    () => false,
  );
}
