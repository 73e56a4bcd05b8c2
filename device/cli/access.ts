/**
 * How the on-site CLI reaches the receiver (DESIGN.md §6, On-site CLI). `ReceiverAccess` hides the route so
 * the commands do not care:
 * - `DirectPortAccess` (now): the CLI opens the serial port or device-server TCP port itself, locked
 *   exclusively, so it can never interleave with an agent on the half-duplex line — it gets `BUSY`.
 * - the agent's local control socket with a time-limited maintenance hold (built with the agent issue)
 *   will be a second implementation returning a `ReceiverDriver` proxy; nothing else changes.
 */
import type { Logger } from 'pino';
import type { TimingProfile } from '../../protocol/timing.js';
import type { ReceiverDriver } from '../receiver/driver.js';
import { createRx8200Driver } from '../receiver/drivers/rx8200.js';
import type { Timers } from '../receiver/timers.js';
import { SerialTransport } from '../receiver/transports/serial.js';
import { TcpTransport } from '../receiver/transports/tcp.js';
import type { Transport } from '../receiver/transports/transport.js';

export interface ReceiverAccess {
  /** The route, for messages: `serial /dev/serial/by-id/…` or `tcp 10.0.0.5:4001`. */
  readonly description: string;
  /** Take the receiver (open the port, or take a maintenance hold) and return its driver. */
  open(): Promise<ReceiverDriver>;
}

/** Where the receiver is when the CLI talks to it directly. */
export type DirectTarget = { kind: 'serial'; path: string } | { kind: 'tcp'; host: string; port: number };

export interface DirectPortOptions {
  target: DirectTarget;
  /** RX8200 bus address. */
  address: number;
  timing: TimingProfile;
}

export class DirectPortAccess implements ReceiverAccess {
  readonly description: string;

  constructor(
    private readonly options: DirectPortOptions,
    private readonly deps: { timers: Timers; logger: Logger },
  ) {
    const t = options.target;
    this.description = t.kind === 'serial' ? `serial ${t.path}` : `tcp ${t.host}:${t.port}`;
  }

  async open(): Promise<ReceiverDriver> {
    const { target, timing, address } = this.options;
    const deps = {
      ...this.deps,
      reopenMinMs: timing.transportReopenMinMs,
      reopenMaxMs: timing.transportReopenMaxMs,
    };
    const transport: Transport =
      target.kind === 'serial'
        ? new SerialTransport({ path: target.path, baudRate: 9600 }, deps)
        : new TcpTransport({ host: target.host, port: target.port }, deps);
    // One attempt, typed failure: a technician must see at once that the port is wrong or busy.
    await transport.open();
    return createRx8200Driver({ address, timing }, { transport, ...this.deps });
  }
}
