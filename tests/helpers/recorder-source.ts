/**
 * A live MPEG-TS source for recorder tests: a real ffmpeg test source (testsrc + sine, `-re`) sent over UDP
 * with the programme number = service id, and a UDP gate in front of the recorder that can pause (a
 * frozen receiver output), drop datagrams (continuity errors) or switch between sources (a PMT change).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { freeUdpPort } from './net.js';

export interface TsSourceOptions {
  /** UDP port on 127.0.0.1 to send to. */
  port: number;
  serviceId: number;
  /** First elementary-stream PID (`-mpegts_start_pid`); a different value = a PID reshuffle. */
  startPid?: number;
  /** PMT PID (`-mpegts_pmt_start_pid`). */
  pmtPid?: number;
  videoBitrate?: string;
}

export interface TsSource {
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

/** Starts a real-time test source; stop() ends it (SIGKILL after 2 s). */
export function startTsSource(o: TsSourceOptions): TsSource {
  const args = [
    '-hide_banner',
    '-loglevel',
    'error',
    '-re',
    '-f',
    'lavfi',
    '-i',
    'testsrc=size=320x240:rate=25',
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:sample_rate=48000',
    '-c:v',
    'mpeg2video',
    '-b:v',
    o.videoBitrate ?? '400k',
    '-c:a',
    'mp2',
    '-b:a',
    '64k',
    '-f',
    'mpegts',
    '-mpegts_service_id',
    String(o.serviceId),
    ...(o.startPid ? ['-mpegts_start_pid', String(o.startPid)] : []),
    ...(o.pmtPid ? ['-mpegts_pmt_start_pid', String(o.pmtPid)] : []),
    `udp://127.0.0.1:${o.port}?pkt_size=1316`,
  ];
  const proc = spawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return {
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
        proc.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        proc.kill('SIGTERM');
      }),
  };
}

/**
 * Forwards datagrams from its input ports to `toPort`. Several inputs let a test switch sources
 * (`select`); `pause`/`resume` freeze the output; `dropEvery` loses every n-th datagram.
 */
export class UdpGate {
  private paused = false;
  private selected = 0;
  private count = 0;
  forwarded = 0;
  dropEvery = 0;

  private constructor(
    private readonly sockets: dgram.Socket[],
    private readonly out: dgram.Socket,
    readonly inPorts: number[],
    readonly toPort: number,
  ) {
    sockets.forEach((s, i) => {
      s.on('message', (msg) => {
        if (this.paused || i !== this.selected) return;
        this.count++;
        if (this.dropEvery > 0 && this.count % this.dropEvery === 0) return;
        this.forwarded++;
        this.out.send(msg, toPort, '127.0.0.1');
      });
    });
  }

  static async open(inputs = 1): Promise<UdpGate> {
    const toPort = await freeUdpPort();
    const sockets: dgram.Socket[] = [];
    const ports: number[] = [];
    for (let i = 0; i < inputs; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
      sockets.push(s);
      ports.push(s.address().port);
    }
    return new UdpGate(sockets, dgram.createSocket('udp4'), ports, toPort);
  }

  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
  /** Forwards only input `i` from now on. */
  select(i: number): void {
    this.selected = i;
  }

  async close(): Promise<void> {
    await Promise.all([...this.sockets, this.out].map((s) => new Promise<void>((r) => s.close(() => r()))));
  }
}
