/**
 * Fleet correlation (DOMAIN.md §6 "Satellite/carrier change or satellite anomaly: lock lost at many stations
 * at once — tell fleet-wide events from local ones"; issue 8). When many stations lose the same carrier
 * within a short window, that is one upstream event: one fleet alarm ("carrier lost at 37 stations —
 * upstream or satellite") instead of 37 station alarms. Pure: the engine passes who lost lock since when.
 *
 * Rules:
 * - to start, at least `minStations` stations AND at least `minShare` of the stations receiving the carrier
 *   must have lost it with onsets inside one `windowMs` span (a cluster) — five stations drifting into
 *   trouble over a week are five local problems, not a fleet event;
 * - once raised, the fleet condition holds while the lost stations still meet both thresholds (stations
 *   losing the carrier later join it, whatever their onset); below them it clears, and the stations that
 *   stay bad are released to their own station alarms.
 */
import { cause, duration, evidence, listIds, pct } from './causes.js';
import type { Cause, Evidence } from './types.js';

/** Thresholds of fleet correlation. */
export interface FleetPolicy {
  minStations: number;
  minShare: number;
  windowMs: number;
}

/** A station without lock on the carrier, and since when. */
export interface LostStation {
  station: string;
  since: number;
}

/** The fleet condition of one carrier. */
export interface FleetVerdict {
  on: boolean;
  /** Stations counted: the cluster when starting, all lost ones when continuing. */
  stations: string[];
  firstLossAt: number | null;
  lastLossAt: number | null;
  cause: Cause;
  evidence: Evidence;
}

/** Largest set of onsets inside one window span (sliding window over sorted onsets). */
function largestCluster(lost: readonly LostStation[], windowMs: number): LostStation[] {
  const sorted = [...lost].sort((a, b) => a.since - b.since || a.station.localeCompare(b.station));
  let best: LostStation[] = [];
  let lo = 0;
  for (let hi = 0; hi < sorted.length; hi++) {
    const h = sorted[hi] as LostStation;
    while ((sorted[lo] as LostStation).since < h.since - windowMs) lo++;
    if (hi - lo + 1 > best.length) best = sorted.slice(lo, hi + 1);
  }
  return best;
}

/**
 * Decides the fleet condition of `carrierLabel` from the stations that lost it (`lost`) among the
 * `receiving` stations, given whether the fleet alarm is already on (`active`).
 */
export function fleetVerdict(
  carrierLabel: string,
  lost: readonly LostStation[],
  receiving: number,
  active: boolean,
  policy: FleetPolicy,
): FleetVerdict {
  const total = Math.max(receiving, lost.length);
  const counted = active
    ? [...lost].sort((a, b) => a.since - b.since)
    : largestCluster(lost, policy.windowMs);
  const share = total > 0 ? counted.length / total : 0;
  const on = counted.length >= policy.minStations && share >= policy.minShare;
  const ids = counted.map((l) => l.station).sort();
  const first = counted[0]?.since ?? null;
  const last = counted.at(-1)?.since ?? null;
  const spread = first !== null && last !== null ? last - first : 0;
  const text = `carrier lost at ${counted.length} stations — upstream or satellite`;
  return {
    on,
    stations: ids,
    firstLossAt: first,
    lastLossAt: last,
    cause: cause('carrier-change', 'upstream or satellite: carrier change or satellite anomaly'),
    evidence: evidence(
      `${text}: ${counted.length} of ${total} stations on ${carrierLabel} (${pct(share)}) lost lock within ${duration(spread)}; ` +
        `stations: ${listIds(ids)}`,
      {
        carrier: carrierLabel,
        lostStations: counted.length,
        carrierStations: total,
        share: Math.round(share * 1000) / 1000,
        spreadMs: spread,
        stations: listIds(ids, 40),
      },
    ),
  };
}
