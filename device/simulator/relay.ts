/**
 * UDP fan-out relay: one listener per service receives the MPEG-TS datagrams of ONE ffmpeg test source and
 * forwards each datagram to every subscribed receiver output (DESIGN.md §7: one test source per service in
 * use, fanned out, so 102 simulated stations fit on 2 cores). Datagrams are forwarded whole (7×188 = 1316
 * bytes, DOMAIN.md §4), so TS packets are never split. Each output can be paused (receiver unlocked, or the
 * "freeze" fault: the receiver still reports lock but no bytes flow, DOMAIN.md §6), and can carry a
 * transform that rewrites what THIS output receives (scrambled service, service gone from the PAT:
 * ts-faults.ts) without touching the other subscribers of the same source.
 */
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';
import type { Logger } from 'pino';

/** Where a receiver's output goes. */
export interface UdpTarget {
  host: string;
  port: number;
}

/** Parse a receiver output URL `udp://host:port` (unicast or multicast, query ignored). */
export function parseUdpUrl(url: string): UdpTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`output must be a udp://host:port URL, got ${JSON.stringify(url)}`);
  }
  const port = Number(u.port);
  if (u.protocol !== 'udp:' || !u.hostname || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`output must be a udp://host:port URL, got ${JSON.stringify(url)}`);
  }
  if (!isIPv4(u.hostname)) throw new Error(`output host must be an IPv4 address, got ${u.hostname}`);
  return { host: u.hostname, port };
}

function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return first >= 224 && first <= 239;
}

/**
 * Rewrites one datagram for one output. It must not modify `datagram` (shared by every output): it returns
 * it as it is, a modified copy, or null to send nothing.
 */
export type DatagramTransform = (datagram: Buffer) => Buffer | null;

/** One subscriber's output and its counters. */
export class RelayOutput {
  paused = false;
  transform: DatagramTransform | null = null;
  datagrams = 0;
  bytes = 0;
  /** Epoch ms of the first forwarded datagram (for "tune → first stream byte" measurements). */
  firstByteAt: number | null = null;
  closed = false;

  constructor(readonly target: UdpTarget) {}
}

export class UdpRelay {
  private readonly outputs = new Set<RelayOutput>();
  private received = 0;

  private constructor(
    private readonly socket: dgram.Socket,
    readonly port: number,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    socket.on('message', (msg) => this.forward(msg));
    socket.on('error', (err) => log.warn({ err: err.message }, 'relay socket error'));
  }

  /** Bind a listener on 127.0.0.1 (an ephemeral port unless given) for one source to send to. */
  static open(log: Logger, now: () => number = Date.now, port = 0): Promise<UdpRelay> {
    return new Promise((resolve, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.once('error', reject);
      socket.bind(port, '127.0.0.1', () => {
        socket.off('error', reject);
        // Sends to multicast outputs (239.0.0.0/8 is common, DOMAIN.md §4) go out on loopback.
        socket.setMulticastInterface('127.0.0.1');
        socket.setMulticastLoopback(true);
        resolve(new UdpRelay(socket, socket.address().port, log, now));
      });
    });
  }

  /** Datagrams received from the source so far. */
  get datagramsIn(): number {
    return this.received;
  }

  get subscriberCount(): number {
    return this.outputs.size;
  }

  add(target: UdpTarget): RelayOutput {
    const out = new RelayOutput(target);
    if (isMulticast(target.host)) this.socket.setMulticastTTL(1);
    this.outputs.add(out);
    return out;
  }

  remove(out: RelayOutput): void {
    out.closed = true;
    this.outputs.delete(out);
  }

  close(): Promise<void> {
    for (const out of this.outputs) out.closed = true;
    this.outputs.clear();
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private forward(msg: Buffer): void {
    this.received++;
    for (const out of this.outputs) {
      if (out.paused) continue;
      const data = out.transform ? out.transform(msg) : msg;
      if (data === null || data.length === 0) continue;
      out.datagrams++;
      out.bytes += data.length;
      out.firstByteAt ??= this.now();
      this.socket.send(data, out.target.port, out.target.host, (err) => {
        // Nobody listening on a unicast port is normal (recorder not started): ICMP errors are ignored.
        if (err) this.log.trace({ err: err.message, port: out.target.port }, 'relay send failed');
      });
    }
  }
}
