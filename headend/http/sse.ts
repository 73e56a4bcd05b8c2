/**
 * Live updates by Server-Sent Events (issue 6, DESIGN.md §7): station state, station events, schedule
 * changes and alarms, pushed to every open UI at `/api/v1/stream` and filtered by what each user may see
 * (an operator only gets messages about their own stations).
 *
 * - Every message has an increasing id; the last `replay` messages are kept, so a browser that reconnects
 *   with `Last-Event-ID` gets what it missed; if that is older than the buffer it gets `resync` and refetches.
 * - A comment line every `heartbeatMs` keeps proxies and NAT boxes from closing an idle stream, and shows a
 *   dead peer quickly.
 * - A client that does not read (its socket buffer above `maxBufferedBytes`) is dropped rather than letting
 *   the headend buffer without bound; its browser reconnects and resyncs.
 */
import type { Response } from 'express';
import type { Logger } from 'pino';
import type { Principal } from './auth.js';
import { canSeeStation } from './auth.js';

/** Message types on the stream. */
export const LIVE_TYPES = ['station', 'event', 'schedule', 'alarm', 'guide', 'conference', 'resync'] as const;
export type LiveType = (typeof LIVE_TYPES)[number];

/** One live message. */
export interface LiveMessage {
  type: LiveType;
  /** Stations it is about; `'all'` = fleet-wide, shown to everyone who may read the fleet. */
  stations: readonly string[] | 'all';
  data: unknown;
}

export interface SseOptions {
  logger: Logger;
  /** Comment line interval (default 20 s). */
  heartbeatMs?: number;
  /** Messages kept for `Last-Event-ID` replay (default 1000). */
  replay?: number;
  /** Most open streams (default 500); beyond it new ones get 503. */
  maxClients?: number;
  /** Drop a client whose unsent data exceeds this (default 1 MiB). */
  maxBufferedBytes?: number;
}

interface Client {
  id: number;
  res: Response;
  principal: Principal;
}

interface Stored {
  id: number;
  msg: Omit<LiveMessage, 'data'>;
  /** The data, built when first needed (`publishLazy`); dropped once the text exists. */
  build: (() => unknown) | null;
  /** The wire text, made when a client first needs it: with nobody watching, nothing is serialised. */
  text: string | null;
}

/** Counters for `/healthz`. */
export interface SseStats {
  clients: number;
  published: number;
  dropped: number;
}

export class SseHub {
  private readonly clients = new Map<number, Client>();
  private readonly buffer: Stored[] = [];
  private nextClient = 1;
  private lastId = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly counters = { published: 0, dropped: 0 };
  private readonly o: Required<Omit<SseOptions, 'logger'>>;
  /** Distinguishes this process's ids from a previous one's (after a restart ids start again). */
  private readonly epoch = Date.now().toString(36);

  constructor(private readonly opts: SseOptions) {
    this.o = {
      heartbeatMs: opts.heartbeatMs ?? 20_000,
      replay: opts.replay ?? 1000,
      maxClients: opts.maxClients ?? 500,
      maxBufferedBytes: opts.maxBufferedBytes ?? 1024 * 1024,
    };
    this.timer = setInterval(() => this.heartbeat(), this.o.heartbeatMs);
    this.timer.unref();
  }

  stats(): SseStats {
    return { clients: this.clients.size, ...this.counters };
  }

  /** May `p` see `msg`? */
  static visible(p: Principal, msg: Pick<LiveMessage, 'type' | 'stations'>): boolean {
    if (msg.type === 'resync') return true;
    if (msg.stations === 'all') return true;
    return msg.stations.some((s) => canSeeStation(p, s));
  }

  /** Opens a stream for the caller on `res` (the request stays open until either side closes). */
  open(principal: Principal, res: Response, lastEventId: string | undefined): void {
    if (this.clients.size >= this.o.maxClients) {
      res.status(503).set('retry-after', '10').json({
        code: 'TOO_MANY_STREAMS',
        message: 'too many live streams are open',
        status: 503,
        title: 'Service Unavailable',
      });
      return;
    }
    const id = this.nextClient++;
    res.status(200).set({
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.flushHeaders();
    res.socket?.setNoDelay(true);
    const client: Client = { id, res, principal };
    this.clients.set(id, client);
    res.on('close', () => this.clients.delete(id));
    res.write('retry: 3000\n\n');
    this.replayTo(client, lastEventId);
    res.write(`event: hello\ndata: ${JSON.stringify({ user: principal.user.id, epoch: this.epoch })}\n\n`);
  }

  private replayTo(client: Client, lastEventId: string | undefined): void {
    if (lastEventId === undefined || lastEventId === '') return;
    const m = /^([0-9a-z]+)-(\d+)$/.exec(lastEventId);
    const first = this.buffer[0];
    const seen = m && m[1] === this.epoch ? Number(m[2]) : null;
    // Unknown epoch (headend restarted) or older than the buffer: the client must refetch everything.
    if (seen === null || (first !== undefined && seen < first.id - 1) || seen > this.lastId) {
      this.write(client, `event: resync\ndata: {}\n\n`);
      return;
    }
    for (const s of this.buffer) {
      if (s.id <= seen || !SseHub.visible(client.principal, s.msg)) continue;
      const text = this.textOf(s);
      if (text !== '') this.write(client, text);
    }
  }

  /** Sends a message to every client allowed to see it. */
  publish(msg: LiveMessage): void {
    const { data } = msg;
    this.publishLazy(msg, () => data);
  }

  /**
   * Like `publish`, but `build` makes the data only when a client first needs it (sent now, or replayed
   * later: then it describes the subject as it is at that moment — right for a live view, which the
   * browser replaces wholesale). `build` returning `undefined` drops the message. During a fleet-wide push
   * every station reports at once (DESIGN.md §8: 5 000 of them); with no UI open nothing is built or
   * serialised.
   */
  publishLazy(msg: Omit<LiveMessage, 'data'>, build: () => unknown): void {
    const id = ++this.lastId;
    const stored: Stored = { id, msg: { type: msg.type, stations: msg.stations }, build, text: null };
    this.buffer.push(stored);
    // Trimmed in steps, not one element per message: shifting a full buffer on every publish was most of
    // the cost of a burst.
    if (this.buffer.length >= this.o.replay * 2) this.buffer.splice(0, this.buffer.length - this.o.replay);
    this.counters.published++;
    for (const c of this.clients.values()) {
      if (!SseHub.visible(c.principal, stored.msg)) continue;
      const text = this.textOf(stored);
      if (text === '') return;
      this.write(c, text);
    }
  }

  /** The message's wire text ('' when its builder had nothing), made once. */
  private textOf(s: Stored): string {
    if (s.text !== null) return s.text;
    let data: unknown;
    try {
      data = s.build?.();
    } catch (err) {
      this.opts.logger.warn(
        { event: 'sse-build-failed', type: s.msg.type, err: (err as Error).message },
        'could not build a live message',
      );
      data = undefined;
    }
    s.build = null;
    s.text =
      data === undefined
        ? ''
        : `id: ${this.epoch}-${s.id}\nevent: ${s.msg.type}\ndata: ${JSON.stringify(data)}\n\n`;
    return s.text;
  }

  /** Ends the streams of one user (after their role, stations or password changed): they reconnect afresh. */
  disconnectUser(userId: string): void {
    for (const c of [...this.clients.values()]) if (c.principal.user.id === userId) this.drop(c, false);
  }

  close(): void {
    clearInterval(this.timer);
    for (const c of [...this.clients.values()]) this.drop(c, false);
  }

  private write(c: Client, text: string): void {
    if (c.res.writableEnded || c.res.destroyed) {
      this.clients.delete(c.id);
      return;
    }
    if ((c.res.socket?.writableLength ?? 0) > this.o.maxBufferedBytes) {
      this.opts.logger.warn(
        { event: 'sse-slow-client', user: c.principal.user.id },
        'dropping a slow live stream',
      );
      this.drop(c, true);
      return;
    }
    c.res.write(text);
  }

  private drop(c: Client, counted: boolean): void {
    this.clients.delete(c.id);
    if (counted) this.counters.dropped++;
    c.res.end();
  }

  private heartbeat(): void {
    for (const c of [...this.clients.values()]) this.write(c, `: keepalive ${new Date().toISOString()}\n\n`);
  }
}
