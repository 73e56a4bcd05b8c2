/**
 * How the on-site CLI reaches the receiver (DESIGN.md §6, On-site CLI). `ReceiverAccess` hides the route so
 * the commands do not care:
 * - `DirectPortAccess`: the CLI opens the serial port or device-server TCP port itself, locked
 *   exclusively, so it can never interleave with an agent on the half-duplex line — it gets `BUSY`.
 * - `AgentSocketAccess` (device/cli/socket-access.ts): through the running agent's local control socket,
 *   under a time-limited maintenance hold when the command changes the receiver.
 * Both hand out a `CliReceiver`: the driver's operations, except that `tune` names a line-up service (the
 * agent tunes from its applied schedule; the direct port needs the line-up file's tuning).
 */
import type { Logger } from 'pino';
import type { ServiceTuning } from '../../protocol/messages/tuning.js';
import type { TimingProfile } from '../../protocol/timing.js';
import type { ReceiverDriver, ReceiverIdentity, ReceiverStatus } from '../receiver/driver.js';
import { createRx8200Driver } from '../receiver/drivers/rx8200.js';
import type { Timers } from '../receiver/timers.js';
import { SerialTransport } from '../receiver/transports/serial.js';
import { TcpTransport } from '../receiver/transports/tcp.js';
import type { Transport } from '../receiver/transports/transport.js';

/** What the CLI's commands do to a receiver, whichever the route. Failures are `ReceiverError`s. */
export interface CliReceiver {
  status(): Promise<ReceiverStatus>;
  identify(): Promise<ReceiverIdentity>;
  /**
   * Tune a line-up service and select it; returns the status read back afterwards. `tuning` comes from the
   * `--lineup` file and is required on the direct port; the agent tunes `key` from its applied schedule.
   */
  tuneService(key: string, tuning: ServiceTuning | undefined): Promise<ReceiverStatus>;
  selectService(serviceId: number): Promise<void>;
  setLnbPower(on: boolean): Promise<void>;
  reset(): Promise<void>;
  raw(line: string): Promise<string>;
  /** Close the port, or end the session (the maintenance hold it took is released). */
  close(): Promise<void>;
}

/** What the command is about to do, so the route can take what it needs (e.g. the maintenance hold). */
export interface AccessIntent {
  /** The command changes the receiver (tune, select, lnb, reset, raw). */
  changes: boolean;
  /** The command name, for the hold's reason (`ruralsat-rx tune`). */
  command: string;
}

export interface ReceiverAccess {
  /** The route, for messages: `serial /dev/serial/by-id/…`, `tcp 10.0.0.5:4001`, `agent /…/agent.sock`. */
  readonly description: string;
  /** Whether `tune` needs the line-up file's tuning (the direct port) or the route knows it (the agent). */
  readonly tuneNeedsLineup: boolean;
  /** Take the receiver (open the port, or take a maintenance hold). */
  open(intent: AccessIntent): Promise<CliReceiver>;
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
  readonly tuneNeedsLineup = true;

  constructor(
    private readonly options: DirectPortOptions,
    private readonly deps: { timers: Timers; logger: Logger },
  ) {
    const t = options.target;
    this.description = t.kind === 'serial' ? `serial ${t.path}` : `tcp ${t.host}:${t.port}`;
  }

  async open(_intent?: AccessIntent): Promise<CliReceiver> {
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
    return driverReceiver(createRx8200Driver({ address, timing }, { transport, ...this.deps }));
  }
}

/** A driver as a `CliReceiver`: `tune` = tune the carrier (wait for lock), select the service, read back. */
export function driverReceiver(driver: ReceiverDriver): CliReceiver {
  return {
    status: () => driver.status(),
    identify: () => driver.identify(),
    async tuneService(key, tuning) {
      if (!tuning) throw new Error(`tune ${key}: the direct port needs the service's tuning (--lineup)`);
      await driver.tune(tuning.transponder);
      await driver.selectService(tuning.serviceId);
      return driver.status();
    },
    selectService: (id) => driver.selectService(id),
    setLnbPower: (on) => driver.setLnbPower(on),
    reset: () => driver.reset(),
    raw: (line) => driver.raw(line),
    close: () => driver.close(),
  };
}
