/**
 * The one receiver interface (DESIGN.md §6, STYLE.md §3): every receiver family implements `ReceiverDriver`;
 * the agent, the recovery ladder, the diagnostics RPC and the on-site CLI only ever talk to this. The first
 * implementation is the RX8200 (drivers/rx8200.ts); the contract suite (tests/contract/) runs every
 * implementation against the simulator and, when configured, a real receiver.
 */
import type { EventEmitter } from 'node:events';
import type { DeliverySystem, POLARISATIONS, Transponder } from '../../protocol/messages/tuning.js';

/**
 * Every failure a receiver operation can end in. Callers branch on `code`, never on message text.
 * - `TIMEOUT`      no reply within the request timeout after every retry (DOMAIN.md §3: bad checksum or wrong
 *                  address gets no reply at all, so silence is the only symptom of those).
 * - `NAK`          the receiver refused the command or a value (`detail.field` names it when known).
 * - `CHECKSUM`     replies kept arriving corrupted (line noise) after every retry.
 * - `PORT_CLOSED`  the transport is down (adapter unplugged, device server unreachable) or the link closed.
 * - `PORT_NOT_FOUND` the configured port path does not exist (wrong path, or a USB adapter renumbered).
 * - `BUSY`         the port is held by another process (exclusive lock), or the request queue is full.
 * - `MISMATCH`     the receiver ACKed but the read-back differs from what was asked (DOMAIN.md §3: ACK ≠ done).
 * - `NO_LOCK`      tuned as asked, but no lock within the lock timeout (no carrier, fade, dish, LNB).
 * - `UNSUPPORTED`  the family has no documented command for the operation (e.g. a soft reset on the RX8200).
 * - `INVALID`      the request is outside what this receiver can do (caught before anything is sent).
 * - `PROTOCOL`     a reply arrived but could not be understood (firmware variant, wrong device on the port).
 */
export const RECEIVER_ERROR_CODES = [
  'TIMEOUT',
  'NAK',
  'CHECKSUM',
  'PORT_CLOSED',
  'PORT_NOT_FOUND',
  'BUSY',
  'MISMATCH',
  'NO_LOCK',
  'UNSUPPORTED',
  'INVALID',
  'PROTOCOL',
] as const;
export type ReceiverErrorCode = (typeof RECEIVER_ERROR_CODES)[number];

/** Structured context carried by a `ReceiverError` (logged as fields, shown by the CLI). */
export interface ReceiverErrorDetail {
  /** The command that failed, as the link names it (e.g. `TUN;GRP`, `OPR;QUA`). */
  command?: string;
  /** Attempts made (1 + retries) before giving up. */
  attempts?: number;
  /** For NAK / MISMATCH: the field the receiver rejected or that read back differently. */
  field?: string;
  expected?: unknown;
  actual?: unknown;
  /** The port or address the error concerns (`/dev/serial/by-id/…`, `tcp 10.0.0.5:4001`). */
  port?: string;
  /** The last status read, for NO_LOCK (what the technician needs to see: level, C/N, LNB). */
  status?: ReceiverStatus;
}

/** The one error type of the receiver layer (STYLE.md §12). */
export class ReceiverError extends Error {
  override readonly name = 'ReceiverError';
  readonly code: ReceiverErrorCode;
  readonly detail: ReceiverErrorDetail;

  constructor(code: ReceiverErrorCode, message: string, detail: ReceiverErrorDetail = {}, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.detail = detail;
  }
}

/** True when `err` is a `ReceiverError`, optionally with one of `codes`. */
export function isReceiverError(err: unknown, ...codes: ReceiverErrorCode[]): err is ReceiverError {
  return err instanceof ReceiverError && (codes.length === 0 || codes.includes(err.code));
}

/**
 * What one receiver outputs (DESIGN.md §5): `service` — a decoder output carrying one selected service, so
 * the sharing key is the service; `transponder` — the whole transport stream of the carrier, so every
 * service on it can be recorded at once and the sharing key is the transponder.
 */
export type ReceiverOutput = 'service' | 'transponder';

export interface ReceiverCapabilities {
  /** Driver family, e.g. `rx8200`. */
  family: string;
  /** The planner's sharing key (DESIGN.md §5). */
  output: ReceiverOutput;
  /** Delivery systems the tuner demodulates. */
  systems: readonly DeliverySystem[];
  /** Number of RF inputs (RX8200 `RFI` 1–4). */
  inputs: number;
  /** Whether `reset()` does anything; false → it throws `UNSUPPORTED` (never an invented command). */
  reset: boolean;
  /** Whether the receiver can switch the LNB supply. */
  lnbPower: boolean;
}

export interface ReceiverIdentity {
  family: string;
  /** Model string as the receiver reports it. */
  model: string;
  /** Firmware/software version if reported, else null. */
  firmware: string | null;
  /** Serial number if reported, else null. */
  serial: string | null;
  /** Bus address the receiver answered on (RX8200: 000–999). */
  address: number;
}

/** LNB supply as the receiver sees it (DOMAIN.md §2: ok / short / no load / off). */
export type LnbState = 'ok' | 'short' | 'no-load' | 'off' | 'unknown';

/** The tuning the receiver reports it is set to (read-back, for verification and display). */
export interface TunedParameters {
  frequencyMHz: number;
  lnbLoMHz: number;
  polarisation: (typeof POLARISATIONS)[number];
  symbolRateKsps: number;
  system: DeliverySystem | null;
  modulation: string | null;
  fec: string | null;
  input: number | null;
  lnbPower: boolean | null;
}

/** One status reading (what telemetry, the CLI's watch line and the recovery ladder look at). */
export interface ReceiverStatus {
  /** Demodulator locked (carrier + FEC sync). */
  locked: boolean;
  /** Signal level as reported, 0–255 raw (RX8200 `SIG`), null when not reported. */
  levelRaw: number | null;
  /** C/N (Es/N0) in dB as the receiver reports it, null when unlocked (no estimate without sync). */
  cnDb: number | null;
  /** Margin = C/N − required C/N for the carrier's modulation and FEC (DOMAIN.md §2); null when unknown. */
  marginDb: number | null;
  /** Bit error rate as reported (post-Viterbi on DVB-S), null when not reported. */
  ber: number | null;
  /** Named alarms active on the receiver (driver-specific names, e.g. RX8200 `lnbShort`, `frontEndUnlocked`). */
  alarms: string[];
  lnb: LnbState;
  /** Tuning read back from the receiver, null when the receiver does not report it. */
  tuned: TunedParameters | null;
  /** Selected service id (programme number), null when none or not reported. */
  serviceId: number | null;
}

/** Typed events every driver emits. Receivers send nothing unsolicited (DOMAIN.md §3): these come from polls. */
export interface ReceiverEvents {
  /** A status read found the receiver unlocked after it had been locked. */
  lockLost: [status: ReceiverStatus];
  /** A status read found the receiver locked again. */
  lockRegained: [status: ReceiverStatus];
  /** The transport went down (adapter unplugged, device server gone); the transport keeps reopening. */
  linkDown: [error: ReceiverError];
  /** The transport is back. Callers re-apply the desired tuning (DOMAIN.md §6: settings may be lost). */
  linkUp: [];
}

export interface TuneOptions {
  /** Wait for lock after the tune is verified (default true); false returns right after the read-back. */
  waitForLock?: boolean;
  /** Lock wait bound; default `receiverLockTimeoutMs` from the timing profile. */
  lockTimeoutMs?: number;
}

/** The whole desired state of one receiver: what the recovery ladder and the agent re-apply. */
export interface DesiredTuning {
  transponder: Transponder;
  /** Service to select on a decoder-output receiver; omitted for whole-TS receivers. */
  serviceId?: number;
}

/**
 * One receiver. Every method runs one or more requests on the receiver's half-duplex link; concurrent
 * calls queue. Every change is verified by reading it back: an ACK alone is never success (DOMAIN.md §3).
 */
export interface ReceiverDriver extends EventEmitter<ReceiverEvents> {
  readonly capabilities: ReceiverCapabilities;
  /** Model, firmware and address; also the cheapest "is anybody there" probe. */
  identify(): Promise<ReceiverIdentity>;
  /**
   * Apply the whole tuning (frequency, polarisation, symbol rate, system, modulation, FEC, LNB LO, LNB
   * power, input) in one go, verify the read-back (`MISMATCH` otherwise), then by default wait for lock
   * (`NO_LOCK` with the last status otherwise). Idempotent: re-applying the same tuning is harmless.
   */
  tune(transponder: Transponder, options?: TuneOptions): Promise<ReceiverStatus>;
  /** Select the decoded service by DVB service id (= programme number), verified by read-back. */
  selectService(serviceId: number): Promise<void>;
  /** Read lock, level, C/N, margin, BER, alarms, LNB state and the tuning as the receiver reports them. */
  status(): Promise<ReceiverStatus>;
  /** Soft reset; `UNSUPPORTED` where the family documents none. */
  reset(): Promise<void>;
  /** Switch the LNB supply, verified by read-back. */
  setLnbPower(on: boolean): Promise<void>;
  /** Send one raw command line and return the raw reply line (the CLI's raw mode; no verification). */
  raw(line: string): Promise<string>;
  /** Close the link and the transport; pending requests fail with `PORT_CLOSED`. */
  close(): Promise<void>;
}
