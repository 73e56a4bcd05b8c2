/**
 * Live figures (`ruralsat/v1/st/{id}/telemetry`, QoS 0, not retained, DESIGN.md §4): every 10 s while
 * active, 60 s idle (timing profile). Lossy by design: anything that must not be lost goes through events
 * (per-minute `telemetry.summary` events while offline). Signal fields follow DOMAIN.md §2.
 */
import { z } from 'zod';
import { LnbState } from '../registry.js';
import { Id, ServiceKey, UtcTimestamp } from './common.js';

/** Signal level as the receiver reports it: dBm, dBµV, or a raw 0–255 reading (RX8200 `SIG`). */
export const SignalLevel = z.strictObject({
  value: z.number(),
  unit: z.enum(['dBm', 'dBuV', 'raw']),
});

const bytes = z.number().int().nonnegative();

/** Most receiver alarm names one telemetry receiver carries (the RX8200 bitmap names 13). */
export const MAX_RECEIVER_ALARMS = 16;
/** Longest receiver alarm name carried in telemetry. */
export const MAX_RECEIVER_ALARM_NAME = 32;

/**
 * Receiver alarm names that say the SERVICE, not the receiver, is at fault (DOMAIN.md §6 "Scrambled
 * service", "Service/PID reshuffle"): drivers map their vendor's status to these names (RX8200 bitmap,
 * protocol/rx8200/alarms.ts), and the headend reads them to explain a starved recorder at once.
 */
export const SERVICE_FAULT_ALARMS = ['scrambled', 'serviceMissing'] as const;
export type ServiceFaultAlarm = (typeof SERVICE_FAULT_ALARMS)[number];

/**
 * A receiver's own named alarms (driver names, e.g. RX8200 `lnbShort`, `scrambled`, `serviceMissing`):
 * at most 16 names of at most 32 characters. The agent bounds them with `boundReceiverAlarms`.
 */
export const ReceiverAlarmNames = z
  .array(z.string().min(1).max(MAX_RECEIVER_ALARM_NAME))
  .max(MAX_RECEIVER_ALARMS);

/**
 * Bounds a driver's alarm list for telemetry: de-duplicated, names cut to `MAX_RECEIVER_ALARM_NAME`,
 * service-fault names first, at most `MAX_RECEIVER_ALARMS` (pure; what the agent sends).
 */
export function boundReceiverAlarms(names: readonly string[]): string[] {
  const cut = [...new Set(names.filter((n) => n.length > 0).map((n) => n.slice(0, MAX_RECEIVER_ALARM_NAME)))];
  const first = cut.filter((n) => (SERVICE_FAULT_ALARMS as readonly string[]).includes(n));
  const rest = cut.filter((n) => !(SERVICE_FAULT_ALARMS as readonly string[]).includes(n));
  return [...first, ...rest].slice(0, MAX_RECEIVER_ALARMS);
}

/** One receiver's signal; `null` = not available (unlocked, or the receiver does not report it). */
export const ReceiverSignal = z.strictObject({
  id: Id,
  /** Control link to the receiver (serial/TCP) answering. */
  link: z.enum(['up', 'down']),
  locked: z.boolean(),
  /** Service the receiver is tuned to, if any. */
  service: ServiceKey.nullable(),
  level: SignalLevel.nullable(),
  /** Measured C/N (Es/N0), dB. */
  cnDb: z.number().min(-30).max(60).nullable(),
  /** C/N minus the carrier's required C/N for its modulation and FEC (DOMAIN.md §2). */
  marginDb: z.number().min(-60).max(60).nullable(),
  /** Post-Viterbi BER (DVB-S) or packet error ratio (DVB-S2). */
  ber: z.number().min(0).max(1).nullable(),
  lnb: LnbState,
  /**
   * Named alarms the receiver itself reported at its last status reading (optional: agents before this
   * field omit it; absent = unknown, `[]` = none). Lets the headend tell a scrambled or vanished service
   * from a frozen receiver without waiting for the station's held alarm event.
   */
  alarms: ReceiverAlarmNames.optional(),
  /**
   * With `link: 'down'`: the serial control port's path is missing (USB adapter unplugged or renumbered,
   * DOMAIN.md §6) rather than a receiver that does not answer. Optional; absent = not known to be missing.
   */
  portMissing: z.boolean().optional(),
});
export type ReceiverSignal = z.infer<typeof ReceiverSignal>;

/** One running recorder. */
export const RecorderFigures = z.strictObject({
  entryId: Id,
  nominalStart: UtcTimestamp,
  receiverId: Id,
  /** Input bitrate over the last period, bit/s. */
  bitrateBps: z.number().nonnegative(),
  /** Bytes written so far for this occurrence. */
  bytes,
  /** Continuity-counter errors so far (DOMAIN.md §4). */
  ccErrors: z.number().int().nonnegative(),
});

export const DiskFigures = z.strictObject({
  freeBytes: bytes,
  usedBytes: bytes,
  /** Recordings quota; `null` = the whole filesystem. */
  quotaBytes: bytes.nullable(),
});

export const HostFigures = z.strictObject({
  /** CPU use over the last period, percent of all cores (0–100). */
  cpuPct: z.number().min(0).max(100),
  memUsedBytes: bytes,
  memTotalBytes: bytes,
});

export const Telemetry = z.strictObject({
  at: UtcTimestamp,
  receivers: z.array(ReceiverSignal).max(8),
  recorders: z.array(RecorderFigures).max(16),
  disk: DiskFigures,
  host: HostFigures,
});
export type Telemetry = z.infer<typeof Telemetry>;
