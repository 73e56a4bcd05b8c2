/**
 * Operators are scoped to their own stations (issue 6): an operator touching another township's station
 * is refused for every kind of request while the control room may, and what operators list is filtered,
 * not just guarded. Bearer tokens act with their user's role and scope and need no CSRF token.
 */
import t from 'tap';
import {
  buildFixtures,
  type Call,
  conference,
  type Fixtures,
  loginAll,
  type Row,
  recording,
  S,
  send,
  T,
} from '../helpers/authz-matrix.js';
import { startHarness } from '../helpers/headend-harness.js';

/**
 * Another township's station, and things that are not the operator's: each must be refused for `anguo`
 * while the control room may (403 for the operator, the control room's own status otherwise).
 */
function crossRows(
  f: Fixtures,
): { method: Row['method']; call: Call; controlOk: number; operatorStatus: number }[] {
  return [
    { method: 'GET', call: { path: `/stations/${T}` }, controlOk: 200, operatorStatus: 403 },
    { method: 'GET', call: { path: `/stations/${T}/plan` }, controlOk: 200, operatorStatus: 403 },
    { method: 'GET', call: { path: `/stations/${T}/events` }, controlOk: 200, operatorStatus: 403 },
    { method: 'GET', call: { path: `/stations/${T}/telemetry` }, controlOk: 200, operatorStatus: 403 },
    { method: 'GET', call: { path: `/stations/${T}/history` }, controlOk: 200, operatorStatus: 403 },
    {
      method: 'GET',
      call: { path: `/stations/${T}/recordings/rec-t1` },
      controlOk: 200,
      operatorStatus: 403,
    },
    {
      method: 'GET',
      call: { path: `/stations/${T}/recording-requests` },
      controlOk: 200,
      operatorStatus: 403,
    },
    { method: 'GET', call: { path: `/recordings?station=${T}` }, controlOk: 200, operatorStatus: 403 },
    { method: 'GET', call: { path: `/entries?station=${T}` }, controlOk: 200, operatorStatus: 403 },
    {
      method: 'POST',
      call: { path: `/stations/${T}/recordings/rec-t1/protect`, body: { protect: true } },
      controlOk: 202,
      operatorStatus: 403,
    },
    {
      method: 'DELETE',
      call: { path: `/stations/${T}/recordings/rec-t1` },
      controlOk: 202,
      operatorStatus: 403,
    },
    {
      method: 'POST',
      call: { path: '/entries', body: recording({ type: 'station', stationId: T }, 60) },
      controlOk: 201,
      operatorStatus: 403,
    },
    {
      method: 'POST',
      call: { path: '/entries/preview', body: recording({ type: 'stations', stationIds: [S, T] }, 61) },
      controlOk: 200,
      operatorStatus: 403,
    },
    {
      method: 'POST',
      call: { path: '/entries', body: recording({ type: 'county', county: 'kongtong' }, 62) },
      controlOk: 201,
      operatorStatus: 403,
    },
    {
      method: 'POST',
      call: { path: '/entries', body: recording({ type: 'station', stationId: S }, 63, 'mandated') },
      controlOk: 201,
      operatorStatus: 403,
    },
    {
      method: 'POST',
      call: { path: '/entries', body: conference({ type: 'station', stationId: S }, 64) },
      controlOk: 201,
      operatorStatus: 403,
    },
    {
      method: 'PATCH',
      call: { path: `/entries/${f.confS}`, body: { title: 'hijacked' } },
      controlOk: 200,
      operatorStatus: 403,
    },
    { method: 'GET', call: { path: `/conferences/${f.confT}` }, controlOk: 200, operatorStatus: 404 },
    {
      method: 'GET',
      call: { path: `/conferences/${f.confT}/attendance` },
      controlOk: 200,
      operatorStatus: 404,
    },
    { method: 'GET', call: { path: `/conferences?station=${T}` }, controlOk: 200, operatorStatus: 403 },
    {
      method: 'PATCH',
      call: { path: `/entries/${f.movable}`, body: { target: { type: 'station', stationId: T } } },
      controlOk: 200,
      operatorStatus: 403,
    },
  ];
}

t.test('operators and their stations', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const clients = await loginAll(h);
  const f = await buildFixtures(h, clients);
  const { entryS } = f;

  t.test("an operator touching another township's station", async (t) => {
    for (const x of crossRows(f)) {
      const op = await send(h, clients.anguo, x.method, x.call);
      t.equal(op.status, x.operatorStatus, `anguo ${x.method} ${x.call.path}: ${x.operatorStatus}`, {
        body: op.body,
      });
      const ctl = await send(h, clients.control, x.method, x.call);
      t.equal(ctl.status, x.controlOk, `control ${x.method} ${x.call.path}: ${x.controlOk}`, {
        body: ctl.body,
      });
    }
    // What an operator sees is filtered, not just guarded.
    const list = (await clients.anguo.get('/api/v1/stations')).body as { id: string }[];
    t.same(
      list.map((s) => s.id),
      [S],
      'the fleet board of anguo shows only its station',
    );
    const weirong = await h.as('weirong');
    const other = (await weirong.get('/api/v1/stations')).body as { id: string }[];
    t.same(
      other.map((s) => s.id),
      [T],
      'and that of weirong only its own',
    );
    t.equal(
      (await weirong.get(`/api/v1/entries/${entryS}`)).status,
      404,
      "anguo's entry does not exist for weirong",
    );
    const entries = (await weirong.get('/api/v1/entries')).body as { id: string }[];
    t.notOk(
      entries.some((e) => e.id === entryS),
      'nor is it listed for weirong',
    );
    const recs = (await weirong.get('/api/v1/recordings')).body as { stationId: string }[];
    t.ok(
      recs.every((r) => r.stationId === T),
      'recordings of weirong are its own only',
    );
    const audit = (await weirong.get('/api/v1/audit')).body as { actor: string; target: string | null }[];
    t.ok(
      audit.every((a) => a.actor.includes('weirong') || a.target === T),
      "weirong's audit view holds only its own actions and station",
    );
  });

  t.test('a bearer token acts with its user’s role and needs no CSRF token', async (t) => {
    const issued = (await clients.admin.post('/api/v1/users/anguo/tokens', { name: 'cron' })).body as {
      token: string;
    };
    const bot = h.anon();
    bot.bearer = issued.token;
    t.equal((await bot.get(`/api/v1/stations/${S}`)).status, 200, 'own station');
    t.equal((await bot.get(`/api/v1/stations/${T}`)).status, 403, 'not another township');
    t.equal(
      (await bot.post('/api/v1/entries', recording({ type: 'station', stationId: S }, 70))).status,
      201,
      'schedules without CSRF',
    );
    t.equal((await bot.get('/api/v1/users')).status, 403, 'no admin rights');
    bot.bearer = `${issued.token}x`;
    const bad = await bot.get('/api/v1/stations');
    t.equal(bad.status, 401, 'a wrong token is 401, not anonymous');
    t.match(bad.body, { code: 'INVALID_TOKEN' });
  });
});
