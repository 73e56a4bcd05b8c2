/**
 * `ReceiverDriver` for the Ericsson RX8200 remote-control protocol ("Alteia", DOMAIN.md §3), on top of the
 * pure codec in protocol/rx8200 and the generic link. Every change is verified by reading it back:
 * the IRD ACKs commands it then fails to carry out, and ACKs commands it does not implement (DOMAIN.md §3),
 * so an ACK only means "accepted" — `MISMATCH` says the read-back differs.
 *
 * Not in the documented protocol, so not invented here (see protocol/rx8200/commands.ts): a soft reset
 * (`reset()` → `UNSUPPORTED`; the recovery ladder escalates instead) and a model/firmware query
 * (`identify()` uses the documented `SYS;SRS` probe and reports what it can).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type ModCod, marginDb } from '../../../protocol/link-budget.js';
import { FecRate, type Transponder } from '../../../protocol/messages/tuning.js';
import {
  identify as identifyCommand,
  lnbPower,
  lnbSupplyStatus,
  lockFlags,
  parseControlMode,
  parseOperationalStatus,
  parseQuality,
  parseServiceStatus,
  parseTunerStatus,
  qualityRequest,
  type Rx8200Alarms,
  type Rx8200Command,
  type Rx8200Frame,
  type Rx8200Reply,
  type Rx8200TunerStatus,
  selectService as selectServiceCommand,
  serviceStatusRequest,
  statusRequest,
  tune as tuneCommands,
  tunerStatusRequest,
  tuningFromTransponder,
  tuningMismatches,
} from '../../../protocol/rx8200/index.js';
import type { TimingProfile } from '../../../protocol/timing.js';
import {
  type ReceiverCapabilities,
  type ReceiverDriver,
  ReceiverError,
  type ReceiverEvents,
  type ReceiverIdentity,
  type ReceiverStatus,
  type TunedParameters,
  type TuneOptions,
} from '../driver.js';
import { Link } from '../link.js';
import { sleep, type Timers } from '../timers.js';
import type { Transport } from '../transports/transport.js';
import { decodeOrThrow, Rx8200Requests, rx8200FrameCodec } from './rx8200-requests.js';

export interface Rx8200DriverOptions {
  /** IRD address 0–999 (factory default 2, DOMAIN.md §3). */
  address: number;
  timing: Pick<
    TimingProfile,
    'receiverRequestTimeoutMs' | 'receiverRetries' | 'receiverLockTimeoutMs' | 'receiverPollMs'
  >;
}

export interface Rx8200DriverDeps {
  /** The byte stream to the receiver (serial port or raw TCP), opened by the caller. */
  transport: Transport;
  timers: Timers;
  logger: Logger;
}

/** Lock poll period while waiting for lock after a tune (an IRD's lock detector updates about this often). */
const LOCK_POLL_MS = 200;

export const RX8200_CAPABILITIES: ReceiverCapabilities = {
  family: 'rx8200',
  // The RX8200 decodes one service to its outputs (its ASI output is not modelled here).
  output: 'service',
  systems: ['DVB-S', 'DVB-S2'],
  inputs: 4,
  reset: false,
  lnbPower: true,
};

function tunedFrom(t: Rx8200TunerStatus): TunedParameters {
  return {
    frequencyMHz: t.frequencyMHz,
    lnbLoMHz: t.lnbLoMHz,
    polarisation: t.polarisation,
    symbolRateKsps: t.symbolRateKsps,
    system: t.system,
    modulation: t.modulation === 'AUTO' ? null : t.modulation,
    fec: t.fec === 'AUTO' ? null : t.fec,
    input: t.input,
    lnbPower: t.lnbPower,
  };
}

function alarmNames(a: Rx8200Alarms): string[] {
  const names: string[] = [...a.active];
  if (a.unknownBits) names.push(`unknown-0x${a.unknownBits.toString(16)}`);
  return names;
}

export class Rx8200Driver extends EventEmitter<ReceiverEvents> implements ReceiverDriver {
  readonly capabilities = RX8200_CAPABILITIES;
  private readonly link: Link<Rx8200Frame>;
  private readonly requests: Rx8200Requests;
  private readonly log: Logger;
  /** The carrier last tuned: its modulation/FEC give the required C/N for the margin. */
  private carrier: ModCod | null = null;
  private lastLocked: boolean | null = null;

  constructor(
    private readonly options: Rx8200DriverOptions,
    private readonly deps: Rx8200DriverDeps,
  ) {
    super();
    if (!Number.isInteger(options.address) || options.address < 0 || options.address > 999) {
      throw new ReceiverError('INVALID', `RX8200 address must be 0–999, got ${options.address}`);
    }
    this.log = deps.logger;
    this.link = new Link(
      rx8200FrameCodec,
      { requestTimeoutMs: options.timing.receiverRequestTimeoutMs, retries: options.timing.receiverRetries },
      { transport: deps.transport, timers: deps.timers, logger: deps.logger },
    );
    this.requests = new Rx8200Requests(this.link, options.address);
    this.link.on('linkDown', (err) => {
      this.lastLocked = null;
      this.emit('linkDown', err);
    });
    this.link.on('linkUp', () => this.emit('linkUp'));
  }

  /** Link counters (timeouts, retries, corrupt replies), for diagnostics. */
  get linkStats() {
    return { ...this.link.stats };
  }

  async identify(): Promise<ReceiverIdentity> {
    const reply = await this.requests.query(identifyCommand());
    const mode = decodeOrThrow('SYS;SRS', () => parseControlMode(reply));
    if (mode !== 'RCM') {
      throw new ReceiverError('PROTOCOL', `SYS;SRS answered CMO=${mode}, expected RCM`, {
        command: 'SYS;SRS',
      });
    }
    return {
      family: 'rx8200',
      // The protocol has no model/firmware query (commands.ts); SYS;SRS proves an Alteia IRD answers.
      model: 'RX8200-compatible (Alteia remote control)',
      firmware: null,
      serial: null,
      address: this.options.address,
    };
  }

  async tune(transponder: Transponder, options: TuneOptions = {}): Promise<ReceiverStatus> {
    if (!this.capabilities.systems.includes(transponder.system)) {
      throw new ReceiverError('INVALID', `the RX8200 does not receive ${transponder.system}`);
    }
    const desired = tuningFromTransponder(transponder);
    let commands: Rx8200Command[];
    try {
      commands = tuneCommands(desired);
    } catch (err) {
      throw new ReceiverError('INVALID', `cannot encode the tuning: ${(err as Error).message}`, {}, err);
    }
    for (const cmd of commands) await this.requests.set(cmd);
    const actual = await this.readTuner();
    const mismatches = tuningMismatches(desired, actual);
    if (mismatches.length > 0) {
      throw new ReceiverError(
        'MISMATCH',
        `receiver ACKed the tune but reads back: ${mismatches.join('; ')}`,
        {
          command: 'TUN;GRP',
          expected: desired,
          actual,
        },
      );
    }
    this.carrier = { system: transponder.system, modulation: transponder.modulation, fec: transponder.fec };
    this.log.info({ frequencyMHz: transponder.frequencyMHz, pol: transponder.polarisation }, 'tuned');
    if (options.waitForLock === false) return this.status();
    return this.waitForLock(options.lockTimeoutMs ?? this.options.timing.receiverLockTimeoutMs);
  }

  async selectService(serviceId: number): Promise<void> {
    let cmd: Rx8200Command;
    try {
      cmd = selectServiceCommand(serviceId);
    } catch (err) {
      throw new ReceiverError('INVALID', (err as Error).message, { command: 'SER;SEL' }, err);
    }
    await this.requests.set(cmd);
    const reply = await this.requests.query(serviceStatusRequest());
    const got = decodeOrThrow('SER;SRQ', () => parseServiceStatus(reply)).serviceId;
    if (got !== serviceId) {
      throw new ReceiverError(
        'MISMATCH',
        `receiver ACKed service ${serviceId} but reads back ${got ?? 'none'}`,
        {
          command: 'SER;SEL',
          field: 'service',
          expected: serviceId,
          actual: got,
        },
      );
    }
  }

  async status(): Promise<ReceiverStatus> {
    const quality = this.decodeQuality(await this.requests.query(qualityRequest()));
    const opReply = await this.requests.query(statusRequest());
    const op = decodeOrThrow('OPR;SRQ', () => parseOperationalStatus(opReply));
    const tuner = await this.readTuner();
    const svcReply = await this.requests.query(serviceStatusRequest());
    const service = decodeOrThrow('SER;SRQ', () => parseServiceStatus(svcReply));
    const locked = lockFlags(op.alarms).locked;
    // A demodulator without lock has no C/N estimate or BER worth showing.
    const cnDb = locked ? quality.cnDb : null;
    const status: ReceiverStatus = {
      locked,
      levelRaw: quality.level0to255,
      cnDb,
      marginDb: this.margin(cnDb, tuner),
      ber: locked ? quality.ber : null,
      alarms: alarmNames(op.alarms),
      lnb: lnbSupplyStatus(op.alarms, tuner.lnbPower),
      tuned: tunedFrom(tuner),
      serviceId: service.serviceId,
    };
    this.noteLock(status);
    return status;
  }

  async reset(): Promise<void> {
    throw new ReceiverError(
      'UNSUPPORTED',
      'the RX8200 remote-control protocol documents no reset command; power-cycle it (relay or on site)',
      { command: 'reset' },
    );
  }

  async setLnbPower(on: boolean): Promise<void> {
    await this.requests.set(lnbPower(on));
    const tuner = await this.readTuner();
    if (tuner.lnbPower !== on) {
      throw new ReceiverError(
        'MISMATCH',
        `receiver ACKed LNB power ${on ? 'on' : 'off'} but reads back ${tuner.lnbPower ? 'on' : 'off'}`,
        {
          command: 'TUN;PWR',
          field: 'lnbPower',
          expected: on,
          actual: tuner.lnbPower,
        },
      );
    }
  }

  /** Raw mode for technicians (see Rx8200Requests.raw): the reply line as received, no verification. */
  raw(line: string): Promise<string> {
    return this.requests.raw(line);
  }

  async close(): Promise<void> {
    await this.link.close();
  }

  /**
   * Poll the lock flag (one short `OPR;SRQ`, ~70 ms at 9600 baud) every LOCK_POLL_MS until lock or the
   * timeout, then read the full status once. Faster than the telemetry poll: a tune is interactive.
   */
  private async waitForLock(timeoutMs: number): Promise<ReceiverStatus> {
    const deadline = this.deps.timers.now() + timeoutMs;
    for (;;) {
      const reply = await this.requests.query(statusRequest());
      const op = decodeOrThrow('OPR;SRQ', () => parseOperationalStatus(reply));
      const expired = this.deps.timers.now() >= deadline;
      if (!lockFlags(op.alarms).locked && !expired) {
        await sleep(this.deps.timers, Math.min(LOCK_POLL_MS, this.options.timing.receiverPollMs));
        continue;
      }
      const status = await this.status();
      if (status.locked) return status;
      if (expired) {
        throw new ReceiverError(
          'NO_LOCK',
          `no lock within ${timeoutMs} ms (level ${status.levelRaw}, LNB ${status.lnb})`,
          {
            command: 'TUN;GRP',
            status,
          },
        );
      }
    }
  }

  /**
   * Margin from the carrier's modulation/FEC (DOMAIN.md §2): as the receiver reads it back when concrete
   * (true even for a CLI started on an already-tuned receiver), else the carrier this driver tuned (the
   * read-back says AUTO for DVB-S2 rates the RX8200 cannot name). null when unknown.
   */
  private margin(cnDb: number | null, tuner: Rx8200TunerStatus): number | null {
    if (cnDb === null) return null;
    const fec = FecRate.safeParse(tuner.fec);
    const modcod: ModCod | null =
      tuner.modulation !== 'AUTO' && fec.success
        ? { system: tuner.system, modulation: tuner.modulation, fec: fec.data }
        : this.carrier;
    if (!modcod) return null;
    try {
      return Math.round(marginDb(cnDb, modcod) * 10) / 10;
    } catch {
      return null; // a modulation/FEC pair no standard defines: no required C/N to compare with
    }
  }

  private noteLock(status: ReceiverStatus): void {
    const was = this.lastLocked;
    this.lastLocked = status.locked;
    if (was === true && !status.locked) this.emit('lockLost', status);
    if (was === false && status.locked) this.emit('lockRegained', status);
  }

  private async readTuner(): Promise<Rx8200TunerStatus> {
    const reply = await this.requests.query(tunerStatusRequest());
    return decodeOrThrow('TUN;SRQ', () => parseTunerStatus(reply));
  }

  private decodeQuality(reply: Rx8200Reply) {
    return decodeOrThrow('OPR;QUA', () => parseQuality(reply));
  }
}

/** Build an RX8200 driver on an open (or opening) transport. */
export function createRx8200Driver(options: Rx8200DriverOptions, deps: Rx8200DriverDeps): Rx8200Driver {
  return new Rx8200Driver(options, deps);
}
