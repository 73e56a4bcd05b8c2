/**
 * Is the receiver's serial control port there? (DOMAIN.md §6 "USB-serial renumbered: port missing → by-id
 * paths; reopen with backoff".) The transport reopens by itself (transports/transport.ts); this watches its
 * `down` / `unavailable` / `up` events and raises `serial_port_missing` once the configured path has been
 * missing for longer than the station's alarm hold (timing profile `alarmRaiseHoldMs`), so a re-plug that
 * takes a second pages nobody. It clears when the port opens again, with the device the path now resolves
 * to: a by-id link that follows the adapter to a new /dev/ttyUSBn is the evidence that by-id paths work.
 *
 * Pure core, thin shell (STYLE.md §4): `decidePort` is a function of the state, one observation and the
 * time; `PortWatch` subscribes, keeps one timer and resolves the path.
 */
import type { EventEmitter } from 'node:events';
import { realpath as fsRealpath } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ReceiverErrorCode } from './driver.js';
import type { Cancel, Timers } from './timers.js';
import type { TransportEvents } from './transports/transport.js';

export interface PortState {
  /** When the port went down, or the first open failed (epoch ms); null while it is open. */
  downSince: number | null;
  /** The last failure said the configured path does not exist (`PORT_NOT_FOUND`). */
  missing: boolean;
  /** The last failure's message (for the evidence). */
  lastError: string | null;
  /** `serial_port_missing` is raised. */
  raised: boolean;
}

export const initialPortState: PortState = {
  downSince: null,
  missing: false,
  lastError: null,
  raised: false,
};

export type PortObservation =
  | { kind: 'open'; at: number }
  /** The open port was lost, or a (re)open attempt failed. */
  | { kind: 'failed'; at: number; code: ReceiverErrorCode; message: string }
  /** The hold timer fired. */
  | { kind: 'tick'; at: number };

export interface PortDecision {
  state: PortState;
  action: 'none' | 'raise' | 'clear';
  /** When to look again (the end of the hold), or null. */
  checkAt: number | null;
}

/** Next state of the port watch (pure). */
export function decidePort(s: PortState, o: PortObservation, holdMs: number): PortDecision {
  if (o.kind === 'open') {
    return { state: initialPortState, action: s.raised ? 'clear' : 'none', checkAt: null };
  }
  const state: PortState =
    o.kind === 'failed'
      ? { ...s, downSince: s.downSince ?? o.at, missing: o.code === 'PORT_NOT_FOUND', lastError: o.message }
      : s;
  if (state.raised || !state.missing || state.downSince === null)
    return { state, action: 'none', checkAt: null };
  const due = state.downSince + holdMs;
  if (o.at >= due) return { state: { ...state, raised: true }, action: 'raise', checkAt: null };
  return { state, action: 'none', checkAt: due };
}

type Evidence = Record<string, number | string | boolean | null>;

/** What the watch needs of a transport: its events and whether it is open now. */
export type PortEvents = EventEmitter<TransportEvents> & { readonly isOpen: boolean };

export interface PortWatchDeps {
  /** The receiver's transport (only its events are used). */
  transport: PortEvents;
  /** The configured port path (e.g. `/dev/serial/by-id/usb-FTDI_…-if00-port0`). */
  path: string;
  /** How long the path must be missing before the alarm (timing profile `alarmRaiseHoldMs`). */
  holdMs: number;
  timers: Timers;
  logger: Logger;
  onRaise: (message: string, evidence: Evidence) => void;
  onClear: (message: string, evidence: Evidence) => void;
  /** Resolves a path to the device it names; node:fs `realpath` by default. */
  realpath?: (path: string) => Promise<string>;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Watches one serial transport for a missing port path. */
export class PortWatch {
  private state: PortState = initialPortState;
  private cancel: Cancel | null = null;
  /** The device the path resolved to when the port last opened (e.g. `/dev/ttyUSB0`). */
  private device: string | null = null;

  constructor(private readonly deps: PortWatchDeps) {
    deps.transport.on('up', () => this.observe({ kind: 'open', at: deps.timers.now() }));
    const failed = (err: { code: ReceiverErrorCode; message: string }) =>
      this.observe({ kind: 'failed', at: deps.timers.now(), code: err.code, message: err.message });
    deps.transport.on('down', failed);
    deps.transport.on('unavailable', failed);
    if (deps.transport.isOpen) void this.resolve();
  }

  /** The configured path is missing right now (whether or not the hold has passed). */
  get missing(): boolean {
    return this.state.downSince !== null && this.state.missing;
  }

  /** The alarm is raised. */
  get raised(): boolean {
    return this.state.raised;
  }

  close(): void {
    this.cancel?.();
    this.cancel = null;
  }

  private observe(o: PortObservation): void {
    const before = this.state;
    const d = decidePort(before, o, this.deps.holdMs);
    this.state = d.state;
    this.cancel?.();
    this.cancel = null;
    if (d.checkAt !== null) {
      this.cancel = this.deps.timers.schedule(Math.max(0, d.checkAt - o.at), () => {
        this.cancel = null;
        this.observe({ kind: 'tick', at: this.deps.timers.now() });
      });
    }
    const { path } = this.deps;
    if (d.action === 'raise') {
      const since = d.state.downSince ?? o.at;
      const missingMs = o.at - since;
      this.deps.logger.error(
        { port: path, since: iso(since), lastDevice: this.device },
        'serial port missing',
      );
      this.deps.onRaise(
        `receiver control port ${path} missing for ${Math.round(missingMs / 1000)} s` +
          `${this.device ? ` (it was ${this.device})` : ''}: adapter unplugged or renumbered`,
        {
          path,
          missingSince: iso(since),
          missingMs,
          lastDevice: this.device,
          error: d.state.lastError?.slice(0, 300) ?? null,
        },
      );
    }
    if (o.kind === 'open') {
      void this.resolve().then((device) => {
        if (d.action !== 'clear') return;
        const since = before.downSince ?? o.at;
        const previous = before.raised ? this.previous : null;
        this.deps.logger.info({ port: path, device, previous }, 'serial port back');
        this.deps.onClear(`receiver control port ${path} is back${device ? ` as ${device}` : ''}`, {
          path,
          device,
          previousDevice: previous,
          missingMs: o.at - since,
          reopenedAt: iso(o.at),
        });
      });
    }
  }

  /** The device before the latest resolve (kept for the clear's evidence). */
  private previous: string | null = null;

  private async resolve(): Promise<string | null> {
    const prior = this.device;
    let device: string | null;
    try {
      device = await (this.deps.realpath ?? fsRealpath)(this.deps.path);
    } catch {
      device = null;
    }
    this.previous = prior;
    this.device = device;
    return device;
  }
}
