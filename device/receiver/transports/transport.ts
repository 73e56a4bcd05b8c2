/**
 * A transport is a duplex byte stream to one receiver: a serial port or a raw TCP connection to a
 * ser2net-style device server (DOMAIN.md §3). Both look the same to the link (STYLE.md §2). A transport
 * that was open and is lost (adapter unplugged, server rebooted) emits `down`, reopens with backoff
 * (timing profile: transportReopenMinMs → transportReopenMaxMs) and emits `up` when it is back.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { ReceiverError } from '../driver.js';
import type { Cancel, Timers } from '../timers.js';
import { Backoff } from './backoff.js';

export interface TransportEvents {
  /** Bytes from the receiver, in whatever chunks the OS delivers. */
  data: [chunk: Buffer];
  /** The transport was lost; it is reopening in the background. */
  down: [error: ReceiverError];
  /** The transport is open again after `down` (or for the first time, in `start()` mode). */
  up: [];
  /**
   * One background (re)open attempt failed and another is scheduled, e.g. `PORT_NOT_FOUND` while a USB
   * adapter is unplugged (DOMAIN.md §6): what device/receiver/port-presence.ts watches.
   */
  unavailable: [error: ReceiverError];
}

export interface Transport extends EventEmitter<TransportEvents> {
  /** Human-readable endpoint, e.g. `serial /dev/serial/by-id/usb-FTDI…` or `tcp 10.0.0.5:4001`. */
  readonly description: string;
  readonly isOpen: boolean;
  /**
   * Open once; rejects with a typed error (`PORT_NOT_FOUND`, `BUSY`, `PORT_CLOSED`) so an interactive user
   * sees at once what is wrong. After a successful open, a later loss is handled by reopening.
   */
  open(): Promise<void>;
  /** Open in the background and keep reopening with backoff until `close()` (the agent's mode). */
  start(): void;
  /** Write bytes; rejects with `PORT_CLOSED` while the transport is down. */
  write(bytes: Uint8Array): Promise<void>;
  /** Close for good: no more reopening. */
  close(): Promise<void>;
}

/** Handle of one open connection, supplied by the concrete transport. */
export interface Connection {
  write(bytes: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface TransportDeps {
  timers: Timers;
  logger: Logger;
  /** Reopen backoff bounds (timing profile transportReopenMinMs / transportReopenMaxMs). */
  reopenMinMs: number;
  reopenMaxMs: number;
}

/**
 * The reopen state machine both transports share. Subclasses implement `connect()`, which opens one
 * connection and wires `onData`/`onLost`; this class owns backoff, events and the closed state.
 */
export abstract class ReopeningTransport extends EventEmitter<TransportEvents> implements Transport {
  abstract readonly description: string;
  private conn: Connection | null = null;
  private closed = false;
  private reopening = false;
  private cancelRetry: Cancel | null = null;
  private readonly backoff: Backoff;

  protected constructor(protected readonly deps: TransportDeps) {
    super();
    this.backoff = new Backoff(deps.reopenMinMs, deps.reopenMaxMs);
  }

  /** Open one connection. Call `lost(err)` when it dies and `this.emit('data', …)` for bytes. */
  protected abstract connect(lost: (err: ReceiverError) => void): Promise<Connection>;

  get isOpen(): boolean {
    return this.conn !== null;
  }

  async open(): Promise<void> {
    if (this.closed) throw this.closedError();
    if (this.conn) return;
    this.conn = await this.connect((err) => this.onLost(err));
    this.backoff.reset();
    this.deps.logger.info({ port: this.description }, 'transport open');
  }

  start(): void {
    if (this.closed || this.conn || this.reopening) return;
    this.reopening = true;
    void this.attempt();
  }

  async write(bytes: Uint8Array): Promise<void> {
    const conn = this.conn;
    if (!conn) {
      throw new ReceiverError('PORT_CLOSED', `${this.description} is not open`, { port: this.description });
    }
    await conn.write(bytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.cancelRetry?.();
    this.cancelRetry = null;
    const conn = this.conn;
    this.conn = null;
    if (conn) await conn.close();
  }

  private closedError(): ReceiverError {
    return new ReceiverError('PORT_CLOSED', `${this.description} was closed`, { port: this.description });
  }

  private onLost(err: ReceiverError): void {
    if (this.closed || !this.conn) return;
    this.conn = null;
    this.deps.logger.warn({ port: this.description, code: err.code, err: err.message }, 'transport lost');
    this.emit('down', err);
    this.reopening = true;
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    const delay = this.backoff.next();
    this.cancelRetry = this.deps.timers.schedule(delay, () => {
      this.cancelRetry = null;
      void this.attempt();
    });
  }

  private async attempt(): Promise<void> {
    if (this.closed) return;
    try {
      const conn = await this.connect((err) => this.onLost(err));
      if (this.closed) {
        await conn.close();
        return;
      }
      this.conn = conn;
      this.reopening = false;
      this.deps.logger.info(
        { port: this.description, attempts: this.backoff.attempts },
        'transport reopened',
      );
      this.backoff.reset();
      this.emit('up');
    } catch (err) {
      const error =
        err instanceof ReceiverError
          ? err
          : new ReceiverError('PORT_CLOSED', `${this.description}: ${String(err)}`, {
              port: this.description,
            });
      this.deps.logger.debug({ port: this.description, code: error.code }, 'transport reopen failed');
      this.scheduleRetry();
      if (!this.closed) this.emit('unavailable', error);
    }
  }
}
