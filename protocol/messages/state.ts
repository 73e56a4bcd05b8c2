/**
 * Station presence and reported state (`ruralsat/v1/st/{id}/state`, retained, DESIGN.md §4). The station
 * publishes its birth (`online: true`) on every connect and registers the Will `{online: false, boot}` with
 * the same `boot: {n, conn}`; the headend ignores a Will older than the last birth (`compareBoot`).
 */
import { z } from 'zod';
import { ScheduleRejectCode } from '../registry.js';
import { Boot, ScheduleVersion, Sha256Hex, StoreId, UtcTimestamp } from './common.js';
import { ReceiverSharing } from './schedule.js';
import { ReceiverSignal } from './telemetry.js';

/** The schedule document the station applied: version and SHA-256 of the exact payload bytes. */
export const AppliedSchedule = z.strictObject({
  version: ScheduleVersion,
  hash: Sha256Hex,
  appliedAt: UtcTimestamp,
});
export type AppliedSchedule = z.infer<typeof AppliedSchedule>;

/** The last document the station refused, and the one it keeps executing instead (if any). */
export const RejectedSchedule = z.strictObject({
  rejected: z.strictObject({
    /** Absent when the payload was too unreadable to find a version in. */
    version: ScheduleVersion.optional(),
    code: ScheduleRejectCode,
    /** Human-readable reason, e.g. the first schema issues. */
    reason: z.string().min(1).max(1000),
    at: UtcTimestamp,
  }),
  applied: AppliedSchedule.optional(),
});

/** Receiver summary in the state (the full figures travel as telemetry). */
export const ReceiverSummary = ReceiverSignal.pick({
  id: true,
  link: true,
  locked: true,
  service: true,
  marginDb: true,
  lnb: true,
}).extend({
  /** Driver family, e.g. `rx8200`. */
  family: z.string().regex(/^[a-z0-9-]{1,32}$/),
  /** What the receiver outputs, hence how it can be shared (DESIGN.md §5). */
  sharing: ReceiverSharing,
});
export type ReceiverSummary = z.infer<typeof ReceiverSummary>;

/** The station's clock as it measured it against the headend (DESIGN.md §6, Clock). */
export const ClockState = z.strictObject({
  /** Station clock minus headend clock, ms; `null` until a first exchange succeeded. */
  offsetMs: z.number().nullable(),
  /** Round-trip time of the exchange the offset came from (minimum-RTT filter). */
  rttMs: z.number().nonnegative().nullable(),
  /** Offset known and within the limit, and the clock not earlier than the last journal entry. */
  trusted: z.boolean(),
});

/** A maintenance hold taken by the on-site CLI: the executor is paused until `until`. */
export const MaintenanceHold = z.strictObject({
  /** Who holds it (technician's name or the CLI's user). */
  holder: z.string().min(1).max(64),
  until: UtcTimestamp,
  reason: z.string().max(200).optional(),
});

/** Birth / reported state. */
export const StationBirth = z.strictObject({
  online: z.literal(true),
  boot: Boot,
  /** Random id of the station database: a reinstall gets a new one, so event keys never collide. */
  storeId: StoreId,
  agentVersion: z.string().min(1).max(64),
  /** Additive contract revision the agent implements (`PROTOCOL_REVISION`). */
  protocolRevision: z.number().int().nonnegative(),
  /** Planner version the agent executes with (`PLANNER_VERSION`); the headend flags a mismatch. */
  plannerVersion: z.number().int().min(1),
  at: UtcTimestamp,
  /** Applied schedule, or the last rejection; `null` before the first document arrived. */
  schedule: z.union([AppliedSchedule, RejectedSchedule]).nullable(),
  receivers: z.array(ReceiverSummary).max(8),
  clock: ClockState,
  maintenance: MaintenanceHold.optional(),
});
export type StationBirth = z.infer<typeof StationBirth>;

/** The Will (and a clean shutdown): offline, with the counters of the connection it belongs to. */
export const StationWill = z.strictObject({
  online: z.literal(false),
  boot: Boot,
});
export type StationWill = z.infer<typeof StationWill>;

/** Everything that may be retained on the state topic. */
export const StationState = z.discriminatedUnion('online', [StationBirth, StationWill]);
export type StationState = z.infer<typeof StationState>;
