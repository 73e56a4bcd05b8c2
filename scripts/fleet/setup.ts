/**
 * Filling a fresh headend for the quick-start fleet (and the end-to-end tests that run it): the line-up as
 * the store imports it, and the prefecture's stations provisioned through the real provisioning path (each
 * with its own random secret, stored only as a `$7$` hash, DESIGN.md §7).
 */
import { provisionStation } from '../../headend/provisioning/provisioning.js';
import type { Store } from '../../headend/store/index.js';
import type { LineupInput } from '../../headend/store/lineup.js';
import { type ServiceTuning, transponderKey } from '../../protocol/messages/tuning.js';
import type { PrefectureStation } from './prefecture.js';
import type { FleetMember } from './sim-fleet.js';

/** A line-up of services in the store's import form (carriers deduplicated by their transponder key). */
export function lineupInput(services: readonly ServiceTuning[]): LineupInput {
  const transponders = new Map<string, ServiceTuning['transponder']>();
  const idOf = (s: ServiceTuning) =>
    transponderKey(s.transponder)
      .toLowerCase()
      .replace(/[^a-z0-9_.-]/g, '-')
      .slice(0, 64);
  for (const s of services) transponders.set(idOf(s), s.transponder);
  return {
    transponders: [...transponders].map(([id, tuning]) => ({ id, tuning })),
    services: services.map((s) => ({
      key: s.key,
      name: s.name,
      serviceId: s.serviceId,
      transponderId: idOf(s),
    })),
  };
}

/** Provisions the stations that are not registered yet; returns every station with its secret. */
export function provisionPrefecture(
  store: Store,
  stations: readonly PrefectureStation[],
  opts: { iterations: number; headendUsername: string; actor: string },
): FleetMember[] {
  return stations.map((s) => {
    const { secret } = provisionStation(
      { store, iterations: opts.iterations, headendUsername: opts.headendUsername, actor: opts.actor },
      { id: s.id, name: s.name, county: s.county, lat: s.lat, lon: s.lon, dishM: s.dishM },
    );
    return { id: s.id, secret };
  });
}
