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

// ---------------------------------------------------------------------------------------------------------
// Decode fast path. A fleet-wide push makes every station report once (5 000 states in a second at scale),
// and walking the zod schema above was the largest single cost of the headend's share of that
// (scripts/bench/fanout-mosquitto.ts). `fastStationState` recognises the COMMON shapes — a birth with an
// applied schedule or none and no maintenance hold, and the Will — checking every field by the same rules
// as the schema; anything else (a rejection, a hold, an unknown or missing key, any doubt) returns
// undefined and the schema decides. The schema stays the contract: whenever this returns a value, the
// schema accepts the input and outputs an equal value with the same key order (tests/unit/
// messages-state-fast.test.ts checks this on generated inputs).
// ---------------------------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
/** Exactly `n` own keys: with every expected key checked, nothing unknown is left (strict objects). */
const keyCount = (o: Obj, n: number) => {
  let k = 0;
  for (const _ in o) k++;
  return k === n;
};
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const isCount = (x: unknown): x is number => Number.isSafeInteger(x) && (x as number) >= 0;
const STORE_ID = /^[a-f0-9]{16,64}$/;
const SHA256 = /^[a-f0-9]{64}$/;
const ID = /^[A-Za-z0-9_-]{1,64}$/;
const SERVICE = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
const FAMILY = /^[a-z0-9-]{1,32}$/;
const LNB: ReadonlySet<unknown> = new Set(['ok', 'short', 'no_load', 'off', 'unknown']);
const SHARING: ReadonlySet<unknown> = new Set(['service', 'transponder']);
/** Timestamps are checked by the schema's own leaf (its date rules are the contract). */
const isTimestamp = (x: unknown): x is string => typeof x === 'string' && UtcTimestamp.safeParse(x).success;

/** `{n, conn}` (Boot) or `{epoch, n}` (ScheduleVersion), built as literals (computed keys are slow). */
function fastBoot(x: unknown): Boot | undefined {
  if (!isObj(x) || !keyCount(x, 2)) return undefined;
  const { n, conn } = x;
  return isCount(n) && isCount(conn) ? { n, conn } : undefined;
}

function fastVersion(x: unknown): ScheduleVersion | undefined {
  if (!isObj(x) || !keyCount(x, 2)) return undefined;
  const { epoch, n } = x;
  return isCount(epoch) && isCount(n) ? { epoch, n } : undefined;
}

function fastReceiver(x: unknown): ReceiverSummary | undefined {
  if (!isObj(x) || !keyCount(x, 8)) return undefined;
  const { id, link, locked, service, marginDb, lnb, family, sharing } = x;
  if (typeof id !== 'string' || !ID.test(id)) return undefined;
  if (link !== 'up' && link !== 'down') return undefined;
  if (typeof locked !== 'boolean') return undefined;
  if (service !== null && (typeof service !== 'string' || !SERVICE.test(service))) return undefined;
  if (marginDb !== null && (!isNum(marginDb) || marginDb < -60 || marginDb > 60)) return undefined;
  if (!LNB.has(lnb) || !SHARING.has(sharing)) return undefined;
  if (typeof family !== 'string' || !FAMILY.test(family)) return undefined;
  return { id, link, locked, service, marginDb, lnb, family, sharing } as ReceiverSummary;
}

function fastApplied(x: unknown): AppliedSchedule | null | undefined {
  if (x === null) return null;
  if (!isObj(x) || !keyCount(x, 3)) return undefined;
  const version = fastVersion(x.version);
  const { hash, appliedAt } = x;
  if (!version || typeof hash !== 'string' || !SHA256.test(hash) || !isTimestamp(appliedAt)) return undefined;
  return { version, hash, appliedAt } as AppliedSchedule;
}

function fastBirth(x: Obj): StationBirth | undefined {
  if (!keyCount(x, 10)) return undefined; // a maintenance hold (or anything else) goes to the schema
  const { storeId, agentVersion, protocolRevision, plannerVersion, at, clock } = x;
  const boot = fastBoot(x.boot);
  if (!boot || typeof storeId !== 'string' || !STORE_ID.test(storeId)) return undefined;
  if (typeof agentVersion !== 'string' || agentVersion.length < 1 || agentVersion.length > 64)
    return undefined;
  if (!isCount(protocolRevision) || !Number.isSafeInteger(plannerVersion) || (plannerVersion as number) < 1)
    return undefined;
  if (!isTimestamp(at)) return undefined;
  const schedule = fastApplied(x.schedule);
  if (schedule === undefined) return undefined;
  const rx = x.receivers;
  if (!Array.isArray(rx) || rx.length > 8) return undefined;
  const receivers: ReceiverSummary[] = [];
  for (const r of rx) {
    const s = fastReceiver(r);
    if (!s) return undefined;
    receivers.push(s);
  }
  if (!isObj(clock) || !keyCount(clock, 3)) return undefined;
  const { offsetMs, rttMs, trusted } = clock;
  if (offsetMs !== null && !isNum(offsetMs)) return undefined;
  if (rttMs !== null && (!isNum(rttMs) || rttMs < 0)) return undefined;
  if (typeof trusted !== 'boolean') return undefined;
  return {
    online: true,
    boot,
    storeId,
    agentVersion,
    protocolRevision,
    plannerVersion,
    at,
    schedule,
    receivers,
    clock: { offsetMs, rttMs, trusted },
  } as StationBirth;
}

/**
 * The common station states without the schema walk (see above): the value `StationState` would output,
 * or undefined when the input is anything else — then `StationState` must decide (it may still accept).
 */
export function fastStationState(data: unknown): StationState | undefined {
  if (!isObj(data)) return undefined;
  if (data.online === true) return fastBirth(data);
  if (data.online !== false || !keyCount(data, 2)) return undefined;
  const boot = fastBoot(data.boot);
  return boot ? ({ online: false, boot } as StationWill) : undefined;
}
