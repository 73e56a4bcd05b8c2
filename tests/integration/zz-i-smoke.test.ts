import t from 'tap';
import { startHarness } from '../helpers/headend-harness.js';
t.test('smoke', async (t) => {
  const h = await startHarness();
  t.teardown(() => h.stop());
  const admin = await h.as('admin');
  const r = await admin.get('/api/v1/stations');
  console.log(r.status, JSON.stringify(r.body).slice(0, 600));
  const o = await h.anon().get('/api/v1/openapi.json');
  console.log(o.status, Object.keys((o.body as any).paths).length);
  const st = await h.connectStation('kongtong-anguo');
  console.log(JSON.stringify((await admin.get('/api/v1/stations/kongtong-anguo')).body).slice(0, 400));
  const plan = await admin.get('/api/v1/stations/kongtong-anguo/plan');
  console.log(plan.status, JSON.stringify(plan.body).slice(0,300));
  await st.vanish();
});
