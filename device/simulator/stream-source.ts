/**
 * Real MPEG-TS for simulated receivers: one ffmpeg test source per line-up service IN USE, shared by every
 * simulated receiver tuned to that service through a UDP relay (relay.ts). The programme number of the
 * stream is the service id (`-mpegts_service_id`), so a recorder selecting `-map 0:p:<sid>` finds it
 * exactly as on a real receiver (DOMAIN.md §4). Low bitrate (320×240 MPEG-2 + MP2, ~0.4 Mbit/s, ~4 % of a
 * core measured here) because the demo runs 102 receivers on 2 cores (DESIGN.md §7).
 *
 * A source starts with its first subscriber and stops `lingerMs` after its last one leaves (a receiver
 * that loses lock for a second does not restart ffmpeg). A source that dies while in use restarts with
 * backoff.
 */
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import type { Logger } from 'pino';
import type { Cancel, Timers } from '../receiver/timers.js';
import { Backoff } from '../receiver/transports/backoff.js';
import { type DatagramTransform, type RelayOutput, UdpRelay, type UdpTarget } from './relay.js';

/** The service a source plays (a subset of the line-up's ServiceTuning). */
export interface SourceService {
  /** Line-up key; sources are shared per key. */
  key: string;
  name: string;
  /** DVB service id = programme number of the generated stream. */
  serviceId: number;
  /**
   * `black`: the same service (same id and PIDs) with a black picture and silence — what a station
   * receives when the broadcaster's feed goes black (DOMAIN.md §6). Default: the normal test picture.
   */
  variant?: 'normal' | 'black';
}

/** Spawns a process; `child_process.spawn` in production (DESIGN.md §2: process spawners are passed in). */
export type SpawnFn = (command: string, args: readonly string[], options: SpawnOptions) => ChildProcess;

export interface TestSourceOptions {
  ffmpegPath?: string;
  width?: number;
  height?: number;
  frameRate?: number;
  videoBitrateK?: number;
}

/**
 * ffmpeg arguments for the test source of one service (pure). `-re` paces the output in real time like a
 * broadcast; `pkt_size=1316` = 7 TS packets per datagram (DOMAIN.md §4); each service gets its own tone so
 * two services are told apart by ear.
 */
export function testSourceArgs(
  service: SourceService,
  relayPort: number,
  options: TestSourceOptions = {},
): string[] {
  const w = options.width ?? 320;
  const h = options.height ?? 240;
  const fps = options.frameRate ?? 25;
  const tone = 400 + (service.serviceId % 12) * 100;
  const black = service.variant === 'black';
  return [
    '-hide_banner',
    '-nostats',
    '-nostdin',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    black ? `color=c=black:size=${w}x${h}:rate=${fps}` : `testsrc=size=${w}x${h}:rate=${fps}`,
    '-f',
    'lavfi',
    '-i',
    // Same audio layout (mono, 48 kHz) either way, so the PMT and PIDs do not change with the variant.
    black ? 'anullsrc=channel_layout=mono:sample_rate=48000' : `sine=frequency=${tone}:sample_rate=48000`,
    '-c:v',
    'mpeg2video',
    '-b:v',
    `${options.videoBitrateK ?? 300}k`,
    '-g',
    String(fps),
    '-c:a',
    'mp2',
    '-b:a',
    '64k',
    '-f',
    'mpegts',
    '-mpegts_service_id',
    String(service.serviceId),
    '-metadata',
    `service_name=${service.name}`,
    '-metadata',
    'service_provider=ruralsat simulator',
    `udp://127.0.0.1:${relayPort}?pkt_size=1316`,
  ];
}

export interface StreamHubDeps {
  spawn: SpawnFn;
  timers: Timers;
  logger: Logger;
  source?: TestSourceOptions;
  /** Keep a source running this long after its last subscriber leaves. */
  lingerMs?: number;
  /** Restart backoff for a source that dies while in use. */
  restartMinMs?: number;
  restartMaxMs?: number;
}

/** A running source, for diagnostics and tests (the "one ffmpeg per service" assertion). */
export interface SourceInfo {
  key: string;
  serviceId: number;
  pid: number | null;
  relayPort: number;
  subscribers: number;
  datagramsIn: number;
  restarts: number;
}

/** One receiver's subscription to a service's stream. */
export interface StreamSubscription {
  readonly output: RelayOutput;
  /** Pause/resume forwarding (unlock, freeze fault). */
  setPaused(paused: boolean): void;
  /** Rewrite what this subscriber receives (scrambled / service-missing faults), or null for the clear stream. */
  setTransform(transform: DatagramTransform | null): void;
  close(): void;
}

class Source {
  proc: ChildProcess | null = null;
  restarts = 0;
  stopping = false;
  lingerCancel: Cancel | null = null;
  restartCancel: Cancel | null = null;
  readonly backoff: Backoff;

  constructor(
    readonly service: SourceService,
    readonly relay: UdpRelay,
    private readonly deps: StreamHubDeps,
    private readonly log: Logger,
  ) {
    this.backoff = new Backoff(deps.restartMinMs ?? 500, deps.restartMaxMs ?? 10_000);
  }

  start(): void {
    const args = testSourceArgs(this.service, this.relay.port, this.deps.source);
    const proc = this.deps.spawn(this.deps.source?.ffmpegPath ?? 'ffmpeg', args, {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    proc.on('error', (err) => this.log.error({ err: err.message }, 'cannot start ffmpeg test source'));
    proc.on('exit', (code, signal) => {
      if (this.proc === proc) this.proc = null;
      if (this.stopping) return;
      this.log.warn({ code, signal, stderr: stderr.trim() }, 'test source exited; restarting');
      this.restarts++;
      this.restartCancel = this.deps.timers.schedule(this.backoff.next(), () => {
        this.restartCancel = null;
        if (!this.stopping) this.start();
      });
    });
    this.log.info({ pid: proc.pid, relayPort: this.relay.port }, 'test source started');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.lingerCancel?.();
    this.restartCancel?.();
    const proc = this.proc;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const cancelKill = this.deps.timers.schedule(2000, () => proc.kill('SIGKILL'));
      await exited;
      cancelKill();
    }
    await this.relay.close();
  }
}

/** All test sources of one process (one hub per simulator process, shared by all its receivers). */
export class StreamHub {
  private readonly sources = new Map<string, Source>();
  private readonly opening = new Map<string, Promise<Source>>();
  private closed = false;

  constructor(private readonly deps: StreamHubDeps) {}

  /** Start (or join) the source of `service` and forward it to `target`. */
  async subscribe(service: SourceService, target: UdpTarget): Promise<StreamSubscription> {
    if (this.closed) throw new Error('stream hub closed');
    const source = await this.source(service);
    source.lingerCancel?.();
    source.lingerCancel = null;
    const output = source.relay.add(target);
    let closed = false;
    return {
      output,
      setPaused: (paused) => {
        output.paused = paused;
      },
      setTransform: (transform) => {
        output.transform = transform;
      },
      close: () => {
        if (closed) return;
        closed = true;
        source.relay.remove(output);
        if (source.relay.subscriberCount === 0) this.linger(source);
      },
    };
  }

  /** Running sources (one per service in use). */
  list(): SourceInfo[] {
    return [...this.sources.values()].map((s) => ({
      key: s.service.key,
      serviceId: s.service.serviceId,
      pid: s.proc?.pid ?? null,
      relayPort: s.relay.port,
      subscribers: s.relay.subscriberCount,
      datagramsIn: s.relay.datagramsIn,
      restarts: s.restarts,
    }));
  }

  /** Stop every source and wait for every ffmpeg to exit. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled(this.opening.values());
    const all = [...this.sources.values()];
    this.sources.clear();
    await Promise.all(all.map((s) => s.stop()));
  }

  private source(service: SourceService): Promise<Source> {
    const existing = this.sources.get(service.key);
    if (existing) return Promise.resolve(existing);
    const pending = this.opening.get(service.key);
    if (pending) return pending;
    const opening = (async () => {
      const log = this.deps.logger.child({ service: service.key, serviceId: service.serviceId });
      const relay = await UdpRelay.open(log, () => this.deps.timers.now());
      const source = new Source(service, relay, this.deps, log);
      this.sources.set(service.key, source);
      source.start();
      return source;
    })();
    this.opening.set(service.key, opening);
    return opening.finally(() => this.opening.delete(service.key));
  }

  private linger(source: Source): void {
    source.lingerCancel?.();
    source.lingerCancel = this.deps.timers.schedule(this.deps.lingerMs ?? 5000, () => {
      source.lingerCancel = null;
      if (source.relay.subscriberCount > 0 || this.sources.get(source.service.key) !== source) return;
      this.sources.delete(source.service.key);
      void source.stop();
    });
  }
}
