/**
 * Captures a few seconds of the receiver's output for `stream.probe`, as raw bytes (DOMAIN.md §4: MPEG-TS
 * over UDP, often multicast, 7×188-byte datagrams; or over HTTP). Raw, because a remuxer (ffmpeg -c copy)
 * rewrites continuity counters and tables and would hide exactly the faults a technician probes for.
 *
 * - `udp://host:port`: a socket bound to the port (multicast groups are joined, with SO_REUSEADDR so the
 *   recorder and the probe both receive). A UNICAST port is exclusive: while the recorder reads it the bind
 *   fails with EADDRINUSE, and this says so (`in-use`) instead of stealing the recorder's datagrams.
 * - `rtp://host:port`: the same, with the RTP header (RFC 3550 §5.1) stripped from each datagram.
 * - `http(s)://…`: the body read for the window.
 * A capture ends after `durationMs` or at `maxBytes`, whichever comes first; a source that sends nothing
 * is a capture of 0 bytes (the caller reports it), never a hang.
 */
import dgram from 'node:dgram';
import { isIPv4 } from 'node:net';

export interface Capture {
  chunks: Uint8Array[];
  bytes: number;
  /** How long the capture ran, ms. */
  capturedMs: number;
  /** ms from the start to the first byte; null when nothing arrived. */
  firstByteMs: number | null;
  truncated: boolean;
}

/** Why a capture could not run. */
export class CaptureError extends Error {
  override readonly name = 'CaptureError';
  constructor(
    readonly code: 'in-use' | 'unsupported-url' | 'unreachable',
    message: string,
  ) {
    super(message);
  }
}

export interface CaptureOptions {
  durationMs: number;
  /** Stop early past this many bytes (30 s at 80 Mbit/s is 300 MB; the default keeps an embedded box safe). */
  maxBytes?: number;
  /** Monotonic ms (tests may pass their own). */
  monotonic?: () => number;
  /** HTTP client for http(s) sources (default: global fetch). */
  fetch?: typeof fetch;
}

const DEFAULT_MAX_BYTES = 48 * 1024 * 1024;

/** Parses a stream URL into what the capture needs (pure). */
export function parseStreamUrl(
  url: string,
): { kind: 'udp' | 'rtp'; host: string; port: number } | { kind: 'http'; url: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new CaptureError('unsupported-url', `not a URL: ${url}`);
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') return { kind: 'http', url };
  if (u.protocol !== 'udp:' && u.protocol !== 'rtp:')
    throw new CaptureError('unsupported-url', `cannot probe ${u.protocol} sources (udp, rtp, http)`);
  const port = Number(u.port);
  const host = u.hostname || '0.0.0.0';
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new CaptureError('unsupported-url', `no port in ${url}`);
  if (!isIPv4(host)) throw new CaptureError('unsupported-url', `only IPv4 hosts are supported: ${host}`);
  return { kind: u.protocol === 'rtp:' ? 'rtp' : 'udp', host, port };
}

/** True for 224.0.0.0/4. */
export function isMulticast(host: string): boolean {
  const first = Number(host.split('.')[0]);
  return first >= 224 && first <= 239;
}

/** The payload of one RTP packet (RFC 3550 §5.1: 12 bytes + 4 per CSRC + an optional extension). */
export function rtpPayload(d: Uint8Array): Uint8Array {
  if (d.length < 12 || (d[0] as number) >> 6 !== 2) return d;
  let off = 12 + ((d[0] as number) & 0x0f) * 4;
  if ((d[0] as number) & 0x10 && d.length >= off + 4) {
    off += 4 + (((d[off + 2] as number) << 8) | (d[off + 3] as number)) * 4;
  }
  return off <= d.length ? d.subarray(off) : new Uint8Array(0);
}

/** Captures `durationMs` of `url`. */
export async function captureStream(url: string, opts: CaptureOptions): Promise<Capture> {
  const target = parseStreamUrl(url);
  const mono = opts.monotonic ?? (() => performance.now());
  const max = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const cap: Capture = { chunks: [], bytes: 0, capturedMs: 0, firstByteMs: null, truncated: false };
  const t0 = mono();
  const take = (b: Uint8Array): boolean => {
    if (cap.firstByteMs === null) cap.firstByteMs = Math.round(mono() - t0);
    if (cap.bytes + b.length > max) {
      cap.truncated = true;
      return false;
    }
    cap.chunks.push(b);
    cap.bytes += b.length;
    return true;
  };
  if (target.kind === 'http') {
    await captureHttp(target.url, opts, take);
  } else {
    await captureUdp(target, opts.durationMs, take);
  }
  cap.capturedMs = Math.round(mono() - t0);
  return cap;
}

function captureUdp(
  t: { kind: 'udp' | 'rtp'; host: string; port: number },
  durationMs: number,
  take: (b: Uint8Array) => boolean,
): Promise<void> {
  const multicast = isMulticast(t.host);
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: multicast });
    let timer: NodeJS.Timeout | null = null;
    let done = false;
    const finish = (err?: Error) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve();
    };
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        finish(
          new CaptureError(
            'in-use',
            `udp port ${t.port} is already read by another process (the recorder): a unicast output has one reader`,
          ),
        );
      } else finish(new CaptureError('unreachable', `udp ${t.host}:${t.port}: ${err.message}`));
    });
    socket.on('message', (msg) => {
      const payload = t.kind === 'rtp' ? rtpPayload(msg) : msg;
      if (!take(new Uint8Array(payload))) finish();
    });
    socket.bind(t.port, multicast ? '0.0.0.0' : t.host, () => {
      if (multicast) {
        try {
          socket.addMembership(t.host);
        } catch (err) {
          finish(new CaptureError('unreachable', `cannot join ${t.host}: ${(err as Error).message}`));
          return;
        }
      }
      timer = setTimeout(() => finish(), durationMs);
    });
  });
}

async function captureHttp(
  url: string,
  opts: CaptureOptions,
  take: (b: Uint8Array) => boolean,
): Promise<void> {
  const f = opts.fetch ?? fetch;
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), opts.durationMs);
  try {
    const res = await f(url, { signal: ctl.signal });
    if (!res.ok || !res.body) throw new CaptureError('unreachable', `${url}: HTTP ${res.status}`);
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !take(value)) break;
    }
    ctl.abort();
  } catch (err) {
    if (err instanceof CaptureError) throw err;
    if (!ctl.signal.aborted) throw new CaptureError('unreachable', `${url}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}
