/**
 * The link layer of the serial stack (STYLE.md §2, modelled on zigbee-herdsman's znp queue + waitress):
 * it owns a transport and a frame parser, runs ONE request at a time (the RX8200 is half-duplex and
 * answers one request at a time, DOMAIN.md §3), times out every request with a message naming the
 * command, retries a bounded number of times, and fails with a typed `ReceiverError`. It is generic over
 * the frame type so every receiver family's driver reuses it; the driver says which frame answers a request.
 *
 * What the link does NOT do: interpret replies. ACK/NAK and read-back verification belong to the driver.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ReceiverError } from './driver.js';
import type { Cancel, Timers } from './timers.js';
import type { Transport } from './transports/transport.js';

/** A dropped line reported by a parser (bad checksum, malformed, overlong, truncated). */
export interface ParserDrop {
  code: string;
  message: string;
  raw: Uint8Array;
}

/** The family's incremental parser, as the link needs it. */
export interface FrameParser<F> {
  push(chunk: Uint8Array): F[];
  /** Forget an unfinished frame (after a timeout, so half a reply is never glued to the next). */
  reset(): void;
}

/** What the link needs from a receiver family's codec. */
export interface FrameCodec<F> {
  createParser(onDrop: (drop: ParserDrop) => void): FrameParser<F>;
  /** Whether a dropped line was a corrupted frame (counts as a checksum failure, triggers a resend). */
  isCorrupt(drop: ParserDrop): boolean;
  /** Printable form of a frame for debug logs. */
  describe(frame: F): string;
}

/** One request: the bytes to send and how to recognise its reply. */
export interface LinkRequest<F> {
  /** Names the command in errors and logs, e.g. `OPR;QUA` (herdsman's timeout formatter does the same). */
  command: string;
  bytes: Uint8Array;
  /** True when `frame` is the reply to this request; other frames are counted and ignored. */
  accept(frame: F): boolean;
  /** Per-request overrides of the link defaults. */
  timeoutMs?: number;
  retries?: number;
}

export interface LinkOptions {
  /** Per-attempt reply timeout (timing profile receiverRequestTimeoutMs). */
  requestTimeoutMs: number;
  /** Resends after a timeout or a corrupted reply (timing profile receiverRetries). */
  retries: number;
  /** Requests allowed to wait behind the one in flight before `BUSY` (a runaway caller, not normal use). */
  maxQueue?: number;
}

export interface LinkDeps {
  transport: Transport;
  timers: Timers;
  logger: Logger;
}

export interface LinkEvents {
  linkDown: [error: ReceiverError];
  linkUp: [];
}

/** Counters for diagnostics; they only grow. */
export interface LinkStats {
  requests: number;
  timeouts: number;
  retries: number;
  corruptReplies: number;
  /** Frames that arrived when none was expected or that did not answer the request in flight. */
  unsolicitedFrames: number;
}

interface Waiter<F> {
  request: LinkRequest<F>;
  resolve: (frame: F) => void;
  reject: (err: ReceiverError) => void;
}

interface InFlight<F> {
  request: LinkRequest<F>;
  done: (outcome: { frame: F } | { error: 'timeout' | 'corrupt' } | { fatal: ReceiverError }) => void;
}

export class Link<F> extends EventEmitter<LinkEvents> {
  private readonly parser: FrameParser<F>;
  private readonly queue: Waiter<F>[] = [];
  private inFlight: InFlight<F> | null = null;
  private running = false;
  private closed = false;
  private readonly log: Logger;
  readonly stats: LinkStats = {
    requests: 0,
    timeouts: 0,
    retries: 0,
    corruptReplies: 0,
    unsolicitedFrames: 0,
  };

  constructor(
    private readonly codec: FrameCodec<F>,
    private readonly options: LinkOptions,
    private readonly deps: LinkDeps,
  ) {
    super();
    this.log = deps.logger;
    this.parser = codec.createParser((drop) => this.onDrop(drop));
    deps.transport.on('data', (chunk) => this.onData(chunk));
    deps.transport.on('down', (err) => {
      this.parser.reset();
      this.inFlight?.done({ fatal: err });
      this.emit('linkDown', err);
    });
    deps.transport.on('up', () => this.emit('linkUp'));
  }

  /** The transport's endpoint description, for messages. */
  get port(): string {
    return this.deps.transport.description;
  }

  /** Whether the transport is currently open. */
  get isUp(): boolean {
    return this.deps.transport.isOpen;
  }

  /**
   * Queue a request; resolves with its reply frame. Rejects with `TIMEOUT` (no reply after every retry),
   * `CHECKSUM` (replies kept arriving corrupted), `PORT_CLOSED` or `BUSY`.
   */
  request(request: LinkRequest<F>): Promise<F> {
    if (this.closed) {
      return Promise.reject(new ReceiverError('PORT_CLOSED', 'link closed', { command: request.command }));
    }
    const maxQueue = this.options.maxQueue ?? 32;
    if (this.queue.length >= maxQueue) {
      return Promise.reject(
        new ReceiverError('BUSY', `${maxQueue} requests already waiting for ${this.port}`, {
          command: request.command,
          port: this.port,
        }),
      );
    }
    return new Promise<F>((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      void this.drain();
    });
  }

  /** Fail everything pending and close the transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ReceiverError('PORT_CLOSED', 'link closed', { port: this.port });
    this.inFlight?.done({ fatal: err });
    for (const w of this.queue.splice(0)) w.reject(err);
    await this.deps.transport.close();
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        try {
          next.resolve(await this.run(next.request));
        } catch (err) {
          next.reject(
            err instanceof ReceiverError
              ? err
              : new ReceiverError('PORT_CLOSED', String(err), { command: next.request.command }, err),
          );
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async run(request: LinkRequest<F>): Promise<F> {
    const timeoutMs = request.timeoutMs ?? this.options.requestTimeoutMs;
    const attempts = 1 + (request.retries ?? this.options.retries);
    this.stats.requests++;
    let lastFailure: 'timeout' | 'corrupt' = 'timeout';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (this.closed) throw new ReceiverError('PORT_CLOSED', 'link closed', { command: request.command });
      if (attempt > 1) this.stats.retries++;
      const outcome = await this.attempt(request, timeoutMs);
      if ('frame' in outcome) return outcome.frame;
      if ('fatal' in outcome) throw outcome.fatal;
      lastFailure = outcome.error;
      this.log.debug({ command: request.command, attempt, failure: lastFailure }, 'request attempt failed');
    }
    if (lastFailure === 'corrupt') {
      throw new ReceiverError(
        'CHECKSUM',
        `${request.command}: corrupted reply after ${attempts} attempt(s) on ${this.port}`,
        { command: request.command, attempts, port: this.port },
      );
    }
    throw new ReceiverError(
      'TIMEOUT',
      `${request.command}: no reply within ${timeoutMs} ms after ${attempts} attempt(s) on ${this.port}`,
      { command: request.command, attempts, port: this.port },
    );
  }

  private attempt(
    request: LinkRequest<F>,
    timeoutMs: number,
  ): Promise<{ frame: F } | { error: 'timeout' | 'corrupt' } | { fatal: ReceiverError }> {
    return new Promise((resolve) => {
      let cancelTimer: Cancel = () => {};
      const done: InFlight<F>['done'] = (outcome) => {
        if (this.inFlight?.done !== done) return;
        this.inFlight = null;
        cancelTimer();
        if ('error' in outcome && outcome.error === 'timeout') {
          this.stats.timeouts++;
          // A half-received reply must not be glued to the next one (parser.reset, see parser.ts).
          this.parser.reset();
        }
        resolve(outcome);
      };
      this.inFlight = { request, done };
      cancelTimer = this.deps.timers.schedule(timeoutMs, () => done({ error: 'timeout' }));
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug(
          { command: request.command, hex: Buffer.from(request.bytes).toString('hex') },
          'tx frame',
        );
      }
      this.deps.transport.write(request.bytes).catch((err: unknown) => {
        done({
          fatal:
            err instanceof ReceiverError
              ? err
              : new ReceiverError('PORT_CLOSED', `write to ${this.port} failed`, { port: this.port }, err),
        });
      });
    });
  }

  private onData(chunk: Buffer): void {
    for (const frame of this.parser.push(chunk)) {
      const inFlight = this.inFlight;
      if (this.log.isLevelEnabled('debug')) {
        this.log.debug({ frame: this.codec.describe(frame) }, 'rx frame');
      }
      if (inFlight?.request.accept(frame)) {
        inFlight.done({ frame });
      } else {
        // A late reply to a request that already timed out, or another device on an RS-485 bus.
        this.stats.unsolicitedFrames++;
        this.log.debug({ frame: this.codec.describe(frame) }, 'unsolicited frame ignored');
      }
    }
  }

  private onDrop(drop: ParserDrop): void {
    if (this.log.isLevelEnabled('debug')) {
      this.log.debug(
        { code: drop.code, hex: Buffer.from(drop.raw).toString('hex') },
        `dropped line: ${drop.message}`,
      );
    }
    if (!this.codec.isCorrupt(drop)) return;
    this.stats.corruptReplies++;
    // A corrupted reply is resent at once rather than after the timeout: the receiver did answer.
    this.inFlight?.done({ error: 'corrupt' });
  }
}
