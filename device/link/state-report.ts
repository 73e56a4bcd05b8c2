/**
 * Builds the station's retained state (`st/{id}/state`, DESIGN.md §4): presence with `boot: {n, conn}`,
 * the applied schedule version and the SHA-256 of its payload (or the last rejection beside the schedule
 * still in force), receivers, the clock as measured against the headend, and a maintenance hold.
 * Pure: the agent gathers the inputs, this shapes and validates them.
 */
import type { Boot, ScheduleVersion } from '../../protocol/messages/common.js';
import { PROTOCOL_REVISION } from '../../protocol/messages/common.js';
import { type StationBirth, StationBirth as StationBirthSchema } from '../../protocol/messages/state.js';
import { PLANNER_VERSION } from '../../protocol/planner/types.js';
import type { ScheduleRejectCode } from '../../protocol/registry.js';
import type { ReceiverControl } from '../executor/receiver-control.js';
import type { ClockEstimate } from './clock.js';
import { signalOf } from './rpc-handlers.js';

export interface StateInputs {
  boot: Boot;
  storeId: string;
  agentVersion: string;
  /** Station clock now (ms). */
  nowMs: number;
  applied: { version: ScheduleVersion; hash: string; appliedAt: string } | null;
  rejection: { version: ScheduleVersion | null; code: string; reason: string; at: string } | null;
  receivers: StationBirth['receivers'];
  clock: ClockEstimate;
  /** The local clock reads earlier than the last journal entry: it cannot be right (DESIGN.md §6). */
  clockBehindJournal: boolean;
  maintenance: { holder: string; until: string; reason?: string } | null;
}

/** The birth / reported state. Throws only on a programming error (the schema is checked). */
export function buildBirth(i: StateInputs): StationBirth {
  const applied = i.applied
    ? { version: i.applied.version, hash: i.applied.hash, appliedAt: i.applied.appliedAt }
    : undefined;
  let schedule: StationBirth['schedule'] = applied ?? null;
  // A rejection newer than what is applied is shown beside it; an older one was superseded.
  if (i.rejection) {
    schedule = {
      rejected: {
        ...(i.rejection.version ? { version: i.rejection.version } : {}),
        code: i.rejection.code as ScheduleRejectCode,
        reason: i.rejection.reason.slice(0, 1000) || i.rejection.code,
        at: i.rejection.at,
      },
      ...(applied ? { applied } : {}),
    };
  }
  const birth = {
    online: true as const,
    boot: i.boot,
    storeId: i.storeId,
    agentVersion: i.agentVersion,
    protocolRevision: PROTOCOL_REVISION,
    plannerVersion: PLANNER_VERSION,
    at: new Date(i.nowMs).toISOString(),
    schedule,
    receivers: i.receivers,
    clock: {
      offsetMs: i.clock.known ? i.clock.offsetMs : null,
      rttMs: i.clock.rttMs,
      trusted: i.clock.trusted && !i.clockBehindJournal,
    },
    ...(i.maintenance ? { maintenance: i.maintenance } : {}),
  };
  return StationBirthSchema.parse(birth);
}

/** The receiver summary of the state (the full figures travel as telemetry). */
export function receiverSummaries(receivers: Iterable<ReceiverControl>): StationBirth['receivers'] {
  return [...receivers].map((r) => {
    const s = signalOf(r);
    return {
      id: s.id,
      link: s.link,
      locked: s.locked,
      service: s.service,
      marginDb: s.marginDb,
      lnb: s.lnb,
      family: r.driver.capabilities.family,
      sharing: r.driver.capabilities.output,
    };
  });
}
