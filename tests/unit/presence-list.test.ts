/**
 * The fleet list presence hands to the fleet board, the metrics and the alarm wiring's once-a-second poll
 * (headend/fleet/presence.ts `list`): every registered station that is not revoked, in id order — stations
 * never heard from as "unknown", a station registered while the headend runs included at once, a revoked
 * one gone. `list` reads only the ids (parsing 10 000 registry rows every second cost a third of a core,
 * scripts/bench/telemetry-ingest.ts), so this pins what it must still return.
 */
import { pino } from 'pino';
import t from 'tap';
import { createAlarmBoard } from '../../headend/fleet/alarm-board.js';
import { createPresence } from '../../headend/fleet/presence.js';
import { openStore } from '../../headend/store/index.js';
import { shortTiming } from '../../protocol/timing.js';

const birth = (n: number) =>
  Buffer.from(
    JSON.stringify({
      online: true,
      boot: { n, conn: 1 },
      storeId: 'a1b2c3d4e5f60718',
      agentVersion: 'test',
      protocolRevision: 0,
      plannerVersion: 1,
      at: '2026-03-05T00:00:00Z',
      schedule: null,
      receivers: [],
      clock: { offsetMs: 0, rttMs: 1, trusted: true },
    }),
  );

t.test('list: registered, unrevoked stations in id order, known or not', async (t) => {
  const logger = pino({ level: 'silent' });
  const now = () => new Date('2026-03-05T00:00:00Z');
  const store = openStore(':memory:', { now });
  t.teardown(() => store.close());
  for (const id of ['jingning-02', 'huating-01', 'kongtong-03'])
    store.stations.create({ id, name: id, county: id.split('-')[0] as string });
  const presence = createPresence({
    store,
    timing: shortTiming,
    alarms: createAlarmBoard({ logger, now }),
    logger,
    now,
  });
  presence.load();
  presence.setBrokerUp(true);
  t.equal(presence.handle('kongtong-03', birth(1)), 'birth', 'one station reported');

  const view = () => presence.list().map((p) => `${p.stationId}:${p.connection}`);
  t.same(view(), ['huating-01:unknown', 'jingning-02:unknown', 'kongtong-03:online'], 'all three, by id');

  store.stations.create({ id: 'chongxin-04', name: 'chongxin-04', county: 'chongxin' });
  t.same(view()[0], 'chongxin-04:unknown', 'a station registered meanwhile is listed at once');

  store.stations.revoke('jingning-02');
  t.notOk(
    presence.list().some((p) => p.stationId === 'jingning-02'),
    'a revoked station leaves the list',
  );
  const listed = presence.list();
  const first = listed[0];
  if (first) first.connection = 'disconnected';
  t.equal(presence.list()[0]?.connection, 'unknown', 'the list hands out copies, not the live records');
});
