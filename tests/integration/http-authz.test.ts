/**
 * The authorization matrix (issue 6): every route of `/api/v1` × every role — anonymous, admin, control
 * room, technician, township operator. The matrix is checked against the OpenAPI document, so a route added
 * without a row in tests/helpers/authz-matrix.ts fails this test. "Allowed" means the exact success status;
 * "refused" means 403 with a FORBIDDEN problem (401 when anonymous).
 */
import t from 'tap';
import { buildFixtures, loginAll, ROLES, rows, send } from '../helpers/authz-matrix.js';
import { startHarness } from '../helpers/headend-harness.js';

t.test('every route × every role', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const clients = await loginAll(h);
  const f = await buildFixtures(h, clients);
  const { lineupBody } = f;

  // The matrix covers every route the API documents.
  const doc = (await h.anon().get('/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, unknown>>;
  };
  const documented = Object.entries(doc.paths).flatMap(([p, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace('/api/v1', '')}`),
  );
  const table = rows(f);
  t.same(
    table.map((r) => `${r.method} ${r.route}`).sort(),
    documented.sort(),
    'the matrix has exactly one row per documented route',
  );

  for (const row of table) {
    t.test(`${row.method} ${row.route}`, async (t) => {
      const anonCall = row.call('admin');
      const anonRes = await send(
        h,
        h.anon(),
        row.method,
        anonCall.body === 'LINEUP' ? { ...anonCall, body: lineupBody } : anonCall,
      );
      if (row.allow === 'public') t.equal(anonRes.status, row.ok, 'anonymous: allowed');
      else t.equal(anonRes.status, 401, 'anonymous: 401');
      for (const role of ROLES) {
        const c = row.call(role);
        const call = c.body === 'LINEUP' ? { ...c, body: lineupBody } : c;
        const client = call.fresh ? await h.as(role) : clients[role];
        const res = await send(h, client, row.method, call);
        const allowed = row.allow === 'public' || row.allow.includes(role);
        if (allowed && row.ok === 'authorized')
          t.ok(![401, 403].includes(res.status) && res.status < 500, `${role}: authorized (${res.status})`, {
            body: res.body,
          });
        else if (allowed) t.equal(res.status, row.ok, `${role}: ${row.ok}`, { body: res.body });
        else {
          t.equal(res.status, 403, `${role}: 403`, { body: res.body });
          t.match(res.body, { code: /FORBIDDEN/ }, `${role}: a FORBIDDEN problem`);
        }
      }
    });
  }
});
