/**
 * A simulated fleet in ONE process (DESIGN.md §7 "the quick-start fleet runs many agents in one process and
 * one ffmpeg test source per service in use, fanned out to every recorder by a small relay"): per station a
 * REAL agent (device/agent.ts) driving a simulated RX8200 (device/simulator) over raw TCP, as it would a
 * ser2net device server, recording the simulator's real MPEG-TS with ffmpeg. All simulators share one stream
 * hub, so a conference on one service costs one ffmpeg test source whatever the number of stations.
 *
 * Faults are those of DOMAIN.md §6, injected per station (fleet-faults.ts): the uplink cut (the agent goes
 * on executing from its store, offline first) or any scripted fault of the simulated receiver (snow fade,
 * LNB short, hang, freeze, …). Each agent keeps its recent log lines in a small ring so `logs.tail` works
 * as on a real station. Every process spawned here is tracked by PID and killed on `stop()`.
 */
import { type ChildProcess, spawn as nodeSpawn, type SpawnOptions } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { type DestinationStream, type Logger, pino } from 'pino';
import { type Agent, startAgent } from '../../device/agent.js';
import { type AgentConfig, AgentConfigSchema } from '../../device/config.js';
import { LogRing } from '../../device/diagnostics/log-ring.js';
import { systemClock } from '../../device/link/clock.js';
import { listenTcpLine, type TcpLine } from '../../device/simulator/endpoints.js';
import { Rx8200Simulator } from '../../device/simulator/rx8200-sim.js';
import { StreamHub } from '../../device/simulator/stream-source.js';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import type { TimingProfile } from '../../protocol/timing.js';
import {
  type FleetFault,
  type FleetFaultKind,
  FleetFaultSchema,
  simulatorKind,
  simulatorStep,
} from './fleet-faults.js';

export type { FleetFault, FleetFaultKind } from './fleet-faults.js';

/** One station to run. */
export interface FleetMember {
  id: string;
  /** The broker password provisioning returned. */
  secret: string;
}

export interface SimFleetOptions {
  members: readonly FleetMember[];
  /** `mqtt://host:port` of the broker the stations use. */
  brokerUrl: string;
  /** Services the simulated sky carries (the line-up). */
  lineup: readonly ServiceTuning[];
  /** Root of the stations' files: `<dir>/<station>/{data,recordings}`. */
  dir: string;
  /**
   * Where the stations' databases go instead (`<dataRoot>/<station>`), e.g. a tmpfs: 102 agents in one
   * process share one disk and one event loop, so their `synchronous=FULL` commits queue behind each other,
   * which 102 real stations with a disk each never do.
   */
  dataRoot?: string;
  /** Agents' timing: `short` (tests) or `default`, with field overrides. */
  timingBase: 'default' | 'short';
  timing?: Partial<TimingProfile>;
  /** Simulated receivers' lock delay after a tune. */
  lockDelayMs: number;
  logger: Logger;
  /** Agent log level (their lines go to `logger`). */
  agentLogLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  /**
   * Lines each agent keeps in memory for the `logs.tail` RPC (device/diagnostics/log-ring.ts), at info
   * level whatever `agentLogLevel` writes to the file; 0 = no ring (the RPC answers REFUSED). Default 200:
   * enough for a technician's look at the last minutes, small enough for 102 agents in one process.
   */
  logRingLines?: number;
  /**
   * Where `logger` writes (its pino destination). With it, each agent's lines go to this file at
   * `agentLogLevel` and to its ring at info; without it, the ring gets the agent's lines and the file gets
   * them through `logger` at `agentLogLevel`.
   */
  logDestination?: DestinationStream;
  /** Agents started at once (each opens SQLite, a TCP link and an MQTT connection). */
  concurrency?: number;
  /** Receivers' clear-sky C/N, dB (DOMAIN.md §2; est. 12 dB for a 1.8 m dish). */
  clearSkyCnDb?: number;
}

/** A running station of the fleet. */
export interface FleetStation {
  id: string;
  agent: Agent;
  sim: Rx8200Simulator;
  config: AgentConfig;
  /** Where the simulated receiver's remote-control port listens. */
  receiverPort: number;
  /** The agent's recent log lines (`logs.tail`), when the fleet keeps them. */
  logs: LogRing | null;
  readonly uplinkCut: boolean;
}

export interface SimFleet {
  readonly stations: ReadonlyMap<string, FleetStation>;
  readonly hub: StreamHub;
  /** PIDs of the processes spawned (ffmpeg sources and recorders, ffprobe) still running. */
  runningPids(): number[];
  /** Injects a fault (fleet-faults.ts); throws a zod error naming the field when it is not one. */
  inject(stationId: string, fault: FleetFault): void;
  /** Ends a fault (the uplink comes back, the snow melts, the receiver answers again). */
  clear(stationId: string, kind: FleetFaultKind): void;
  stop(): Promise<void>;
}

/** An mqtt.js `connect` that can be cut: while cut, it dials a port where nothing listens. */
class Uplink {
  cut = false;
  private readonly clients = new Set<MqttClient>();
  constructor(private readonly deadUrl: string) {}
  connect = (url: string, opts: IClientOptions): MqttClient => {
    const c = mqtt.connect(this.cut ? this.deadUrl : url, opts);
    this.clients.add(c);
    c.on('close', () => this.clients.delete(c));
    return c;
  };
  down(): void {
    this.cut = true;
    // No DISCONNECT: the broker publishes the Will, as when a 4G link drops (DESIGN.md §4 Presence).
    for (const c of this.clients) c.stream?.destroy();
  }
  up(): void {
    this.cut = false;
  }
}

/** A spawn that remembers its children, so nothing outlives the fleet. */
function trackingSpawn(children: Set<ChildProcess>) {
  return (command: string, args: readonly string[], options: SpawnOptions): ChildProcess => {
    const child = nodeSpawn(command, args, options);
    children.add(child);
    child.once('exit', () => children.delete(child));
    return child;
  };
}

/** A UDP port free now and not handed out before in this process. */
async function freshUdpPort(used: Set<number>): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        const p = s.address().port;
        s.close(() => resolve(p));
      });
    });
    if (!used.has(port)) {
      used.add(port);
      return port;
    }
  }
}

async function inBatches<T>(
  items: readonly T[],
  size: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(fn));
}

/** Starts the fleet; on failure everything already started is stopped again. */
export async function startSimFleet(opts: SimFleetOptions): Promise<SimFleet> {
  const log = opts.logger;
  const children = new Set<ChildProcess>();
  const spawn = trackingSpawn(children);
  const clock = systemClock();
  const timers = { now: () => Date.now(), schedule: clock.schedule };
  const hub = new StreamHub({ spawn, timers, logger: log.child({ module: 'device/simulator/stream' }) });
  const stations = new Map<string, FleetStation & { uplink: Uplink; line: TcpLine }>();
  const usedPorts = new Set<number>();
  const deadPort = await freshUdpPort(usedPorts); // a UDP port: no MQTT broker ever listens on its TCP twin
  const agentLevel = opts.agentLogLevel ?? 'warn';
  const agentLog = log.child({ module: 'fleet' });
  agentLog.level = agentLevel;
  const ringLines = opts.logDestination ? (opts.logRingLines ?? 200) : 0;
  /** One agent's logger: its ring at info (for `logs.tail`) and the fleet's file at `agentLevel`. */
  const loggerOf = (station: string): { logger: Logger; logs: LogRing | null } => {
    if (ringLines === 0 || !opts.logDestination) return { logger: agentLog, logs: null };
    const logs = new LogRing(ringLines);
    const streams: { level: 'debug' | 'info' | 'warn' | 'error'; stream: DestinationStream }[] = [
      { level: 'info', stream: logs },
    ];
    if (agentLevel !== 'silent') streams.push({ level: agentLevel, stream: opts.logDestination });
    const logger = pino(
      { level: agentLevel === 'debug' ? 'debug' : 'info', base: { app: 'ruralsat-fleet', station } },
      pino.multistream(streams),
    );
    return { logger, logs };
  };

  const startOne = async (m: FleetMember) => {
    const dir = path.join(opts.dir, m.id);
    mkdirSync(dir, { recursive: true });
    const udp = await freshUdpPort(usedPorts);
    const streamUrl = `udp://127.0.0.1:${udp}`;
    const sim = new Rx8200Simulator(
      {
        address: 2,
        output: streamUrl,
        lineup: opts.lineup,
        lockDelayMs: opts.lockDelayMs,
        baudRate: 9600,
        seed: stations.size + 1,
        signal: { defaultCnDb: opts.clearSkyCnDb ?? 12 },
      },
      { timers, logger: log.child({ module: 'device/simulator', station: m.id }), hub },
    );
    const line = await listenTcpLine(
      0,
      '127.0.0.1',
      log.child({ module: 'device/simulator', station: m.id }),
    );
    sim.attach(line);
    const config = AgentConfigSchema.parse({
      stationId: m.id,
      broker: { url: opts.brokerUrl, password: m.secret },
      receiver: { family: 'rx8200', transport: { type: 'tcp', host: '127.0.0.1', port: line.port } },
      streamUrl,
      recordingsDir: path.join(dir, 'recordings'),
      dataDir: opts.dataRoot ? path.join(opts.dataRoot, m.id) : path.join(dir, 'data'),
      disk: { quotaBytes: 0, minFreeBytes: 0 },
      timingBase: opts.timingBase,
      timing: opts.timing ?? {},
      logLevel: opts.agentLogLevel ?? 'warn',
    });
    const uplink = new Uplink(`mqtt://127.0.0.1:${deadPort}`);
    const { logger, logs } = loggerOf(m.id);
    let agent: Agent;
    try {
      agent = await startAgent(config, {
        clock,
        logger,
        spawn,
        controlSocket: false,
        mqttConnect: uplink.connect,
        ...(logs ? { logs } : {}),
      });
    } catch (err) {
      await sim.close();
      throw err;
    }
    stations.set(m.id, {
      id: m.id,
      agent,
      sim,
      config,
      receiverPort: line.port,
      logs,
      line,
      uplink,
      get uplinkCut() {
        return uplink.cut;
      },
    });
  };

  const stop = async () => {
    const all = [...stations.values()];
    // Agents first (they stop their recorders with `q`, then SIGINT), then the receivers and their sources.
    await Promise.allSettled(all.map((s) => s.agent.stop()));
    await Promise.allSettled(all.map((s) => s.sim.close()));
    await hub.close();
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    }
  };

  try {
    await inBatches(opts.members, opts.concurrency ?? 8, startOne);
  } catch (err) {
    await stop();
    throw err;
  }

  const get = (id: string) => {
    const s = stations.get(id);
    if (!s) throw new Error(`no station ${id} in the fleet`);
    return s;
  };
  return {
    stations,
    hub,
    runningPids: () => [...children].filter((c) => c.exitCode === null && c.pid).map((c) => c.pid as number),
    inject(id, input) {
      const s = get(id);
      const fault = FleetFaultSchema.parse(input);
      const step = simulatorStep(fault);
      if (step) s.sim.faults.inject(step);
      else s.uplink.down();
      log.info({ event: 'fault-injected', station: id, fault }, `fault ${fault.kind} at ${id}`);
    },
    clear(id, kind) {
      const s = get(id);
      const simKind = simulatorKind(kind);
      if (simKind) s.sim.faults.clear(simKind);
      else s.uplink.up();
      log.info({ event: 'fault-cleared', station: id, kind }, `fault ${kind} cleared at ${id}`);
    },
    stop,
  };
}
