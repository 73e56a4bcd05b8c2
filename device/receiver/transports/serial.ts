/**
 * Serial transport through `serialport` (DESIGN.md §3). Configure ports by `/dev/serial/by-id/…`: USB-serial
 * adapters renumber (DOMAIN.md §6), the by-id link follows the adapter. The port is locked exclusively, so
 * a second process (an on-site CLI while the agent runs) gets a clear `BUSY` instead of interleaving bytes on
 * a half-duplex line (DESIGN.md §6). When the adapter disappears the read fails, serialport reports a
 * disconnect, and the base class reopens with backoff until the path is back.
 */
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { SerialPort } from 'serialport';
import { ReceiverError } from '../driver.js';
import type { Cancel } from '../timers.js';
import { type Connection, ReopeningTransport, type TransportDeps } from './transport.js';

export interface SerialOptions {
  /** Port path; prefer `/dev/serial/by-id/…` (DOMAIN.md §6). */
  path: string;
  /** Line speed; the RX8200 runs 9600 8N1 (DOMAIN.md §3). */
  baudRate: number;
  /** How often to check that the path still names the opened device (default 1000 ms). */
  presenceCheckMs?: number;
}

/** Map an open/IO error from serialport to the receiver layer's codes, with a message a technician can act on. */
export function classifySerialError(path: string, err: unknown): ReceiverError {
  const message = err instanceof Error ? err.message : String(err);
  const detail = { port: path };
  if (/cannot lock port|resource temporarily unavailable/i.test(message)) {
    return new ReceiverError(
      'BUSY',
      `${path} is in use by another process (is the agent running? use its control socket)`,
      detail,
      err,
    );
  }
  if (/no such file or directory|ENOENT/i.test(message)) {
    return new ReceiverError(
      'PORT_NOT_FOUND',
      `${path} does not exist (adapter unplugged or renumbered? use /dev/serial/by-id/…)`,
      detail,
      err,
    );
  }
  if (/permission denied|EACCES/i.test(message)) {
    return new ReceiverError(
      'PORT_CLOSED',
      `no permission to open ${path} (the user must be in the dialout group)`,
      detail,
      err,
    );
  }
  if (/not a typewriter|ENOTTY|inappropriate ioctl/i.test(message)) {
    return new ReceiverError('PORT_NOT_FOUND', `${path} is not a serial port`, detail, err);
  }
  return new ReceiverError('PORT_CLOSED', `${path}: ${message}`, detail, err);
}

/** Device number the path resolves to (follows the by-id symlink), or null when it does not exist. */
async function deviceId(path: string): Promise<string | null> {
  try {
    const st = await stat(path);
    return `${st.dev}:${st.rdev}:${st.ino}`;
  } catch {
    return null;
  }
}

export class SerialTransport extends ReopeningTransport {
  readonly description: string;
  private readonly options: SerialOptions;

  constructor(options: SerialOptions, deps: TransportDeps) {
    super(deps);
    this.options = options;
    this.description = `serial ${options.path}`;
  }

  protected async connect(lost: (err: ReceiverError) => void): Promise<Connection> {
    const { path, baudRate } = this.options;
    const port = new SerialPort({
      path,
      baudRate,
      dataBits: 8,
      parity: 'none',
      stopBits: 1,
      lock: true,
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => {
      port.open((err) => (err ? reject(classifySerialError(path, err)) : resolve()));
    });
    let closing = false;
    let cancelCheck: Cancel = () => {};
    // A path that no longer exists is reported as PORT_NOT_FOUND at once (the adapter was unplugged), so
    // the port watch (device/receiver/port-presence.ts) knows it before the first reopen attempt.
    const gone = (why: string, err?: Error, code: 'PORT_CLOSED' | 'PORT_NOT_FOUND' = 'PORT_CLOSED') => {
      if (closing) return;
      closing = true;
      cancelCheck();
      if (port.isOpen) port.close(() => {});
      lost(new ReceiverError(code, `${path} went away (${why})`, { port: path }, err));
    };
    port.on('data', (chunk: Buffer) => this.emit('data', chunk));
    port.on('error', (err: Error) => {
      this.deps.logger.warn({ port: path, err: err.message }, 'serial error');
    });
    port.on('close', (err: Error | null) =>
      gone(
        err ? err.message : 'closed',
        err ?? undefined,
        existsSync(path) ? 'PORT_CLOSED' : 'PORT_NOT_FOUND',
      ),
    );
    // A hung-up tty does not always wake the poller (seen with ptys here), and an unplugged USB adapter
    // removes its /dev node and by-id link: so also watch that the path still names the opened device.
    const device = await deviceId(path);
    const check = () => {
      cancelCheck = this.deps.timers.schedule(this.options.presenceCheckMs ?? 1000, () => {
        void deviceId(path).then((now) => {
          if (closing) return;
          if (now === null) gone('the path no longer exists', undefined, 'PORT_NOT_FOUND');
          else if (now !== device) gone('the path names another device');
          else check();
        });
      });
    };
    check();
    return {
      write: (bytes) =>
        new Promise<void>((resolve, reject) => {
          port.write(Buffer.from(bytes), (err) => {
            if (err) reject(classifySerialError(path, err));
            else resolve();
          });
        }),
      close: () =>
        new Promise<void>((resolve) => {
          closing = true;
          cancelCheck();
          if (!port.isOpen) {
            resolve();
            return;
          }
          port.close(() => resolve());
        }),
    };
  }
}
