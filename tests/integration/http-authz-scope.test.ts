/**
 * Operators are scoped to their own stations (issue 6): an operator touching another township's station
 * is refused for every kind of request while the control room may, and what operators list is filtered,
 * not just guarded. Bearer tokens act with their user's role and scope and need no CSRF token.
 */
import t from 'tap';
import { buildFixtures, crossRows, loginAll, recording, S, send, T } from '../helpers/authz-matrix.js';
import { startHarness } from '../helpers/headend-harness.js';

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
