/**
 * A conference's target stations as stored (headend/conferences/conferences-repo.ts `setStations`): rows are
 * updated in place, stations no longer targeted leave, and a station's attendance bookkeeping follows the
 * row it is given (the attendance report reads these rows, DESIGN.md §7).
 */
import t from 'tap';
import { createConferencesRepo, type StoredConference } from '../../headend/conferences/conferences-repo.js';
import { openStore } from '../../headend/store/index.js';

t.test('retargeting keeps, updates and removes the right station rows', async (t) => {
  const store = openStore(':memory:');
  t.teardown(() => store.close());
  for (const id of ['st-a', 'st-b', 'st-c']) store.stations.create({ id, name: id, county: 'kongtong' });
  // The conference's schedule entry (its foreign key) is the scheduling layer's business, not this table's.
  store.db.pragma('foreign_keys = OFF');
  const repo = createConferencesRepo(store.db);
  const at = '2026-03-01T08:00:00Z';
  const c: StoredConference = {
    id: 'conf-1',
    title: 'county meeting',
    organiser: 'office',
    notes: '',
    service: 'cctv1',
    start: '2026-03-02T08:00:00Z',
    end: '2026-03-02T09:00:00Z',
    preRollMs: 120_000,
    record: false,
    target: { type: 'stations', stationIds: ['st-a', 'st-b'] },
    warnings: [],
    createdBy: 'test',
    createdAt: at,
    updatedAt: at,
    cancelledAt: null,
    cancelledBy: null,
    startedNowAt: null,
    endedEarlyAt: null,
  };
  repo.insert(c);
  const row = (stationId: string, n: number, seen: string | null) => ({
    stationId,
    required: { epoch: 1, n },
    pushedAt: at,
    appliedSeenAt: seen,
  });
  repo.setStations('conf-1', [row('st-a', 1, null), row('st-b', 1, null)]);
  repo.markApplied('conf-1', 'st-a', '2026-03-01T08:00:05Z');
  t.same(
    repo.stations('conf-1').map((s) => [s.stationId, s.required.n, s.appliedSeenAt]),
    [
      ['st-a', 1, '2026-03-01T08:00:05Z'],
      ['st-b', 1, null],
    ],
  );

  // st-b leaves, st-c joins, st-a gets a new required version (seen again only once it applies that).
  repo.setStations('conf-1', [row('st-a', 2, null), row('st-c', 2, null)]);
  t.same(
    repo.stations('conf-1').map((s) => [s.stationId, s.required.n, s.appliedSeenAt]),
    [
      ['st-a', 2, null],
      ['st-c', 2, null],
    ],
  );
  repo.setStations('conf-1', []);
  t.same(repo.stations('conf-1'), [], 'no target left');
});
