/**
 * Resolves an entry's target to station ids (DESIGN.md §1: the control room pushes to all stations, a
 * county, or a list; an operator schedules for a station). Revoked stations are never targeted. The
 * result is stored with the entry (`entry_stations`), so a later change to a county's membership does not
 * silently move an existing conference; `refreshTargets` re-resolves on purpose (e.g. a new station).
 */
import type { Store } from '../store/index.js';
import type { Target } from './entry-schema.js';
import { SchedulingError } from './errors.js';

/** Station ids the target names now, sorted; throws NOT_FOUND / NO_STATIONS with the reason. */
export function resolveTarget(store: Store, target: Target): string[] {
  const active = (id: string) => {
    const s = store.stations.get(id);
    if (!s) throw new SchedulingError('NOT_FOUND', `no station ${id}`);
    if (s.revokedAt) throw new SchedulingError('NOT_FOUND', `station ${id} is revoked`);
    return id;
  };
  let ids: string[];
  switch (target.type) {
    case 'station':
      ids = [active(target.stationId)];
      break;
    case 'stations':
      ids = target.stationIds.map(active);
      break;
    case 'county': {
      if (store.groups.get(target.county)?.kind !== 'county')
        throw new SchedulingError('NOT_FOUND', `no county ${target.county}`);
      ids = store.groups.members(target.county);
      break;
    }
    case 'group': {
      if (!store.groups.get(target.groupId))
        throw new SchedulingError('NOT_FOUND', `no group ${target.groupId}`);
      ids = store.groups.members(target.groupId);
      break;
    }
    case 'all':
      ids = store.stations.list().map((s) => s.id);
      break;
  }
  if (ids.length === 0) {
    throw new SchedulingError('NO_STATIONS', `the target ${describeTarget(target)} has no active station`);
  }
  return [...new Set(ids)].sort();
}

/** One line for logs, audit and errors: `county jingning`, `3 stations`, `all stations`. */
export function describeTarget(target: Target): string {
  switch (target.type) {
    case 'station':
      return `station ${target.stationId}`;
    case 'stations':
      return `${target.stationIds.length} station${target.stationIds.length === 1 ? '' : 's'}`;
    case 'county':
      return `county ${target.county}`;
    case 'group':
      return `group ${target.groupId}`;
    case 'all':
      return 'all stations';
  }
}
