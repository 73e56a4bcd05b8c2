/**
 * The headend exchanges clocks with a station as soon as it comes online (headend/mqtt/control-plane.ts),
 * not only every `clockExchangeMs`: a freshly started agent waits for a trusted clock before it recovers and
 * executes (DESIGN.md §6 "Recovery waits until the clock is trusted"), and with the production period of
 * 5 minutes it would sit idle that long after every power cut. Here the period is 10 minutes.
 */
import t from 'tap';
import { startTechnicianRig, until } from '../helpers/technician-rig.js';

t.test('a station that comes online knows its clock offset within seconds', async (t) => {
  const S = 'kongtong-clock1';
  const rig = await startTechnicianRig(t, {
    stations: [{ id: S, county: 'kongtong' }],
    timing: { clockExchangeMs: 600_000 },
  });
  const t0 = Date.now();
  const st = await rig.station(S);
  const e = await until(
    () => {
      const x = st.agent.clockSync.estimate();
      return x.known ? x : null;
    },
    'the agent knows its offset against the headend',
    15_000,
  );
  t.ok(Math.abs(e.offsetMs) < 2000, `offset ${Math.round(e.offsetMs)} ms (same machine)`);
  t.ok(rig.headend.controlPlane.rpc.clockOf(S), 'and the headend has its estimate of the station');
  t.comment(`clock known ${Date.now() - t0} ms after the agent started (periodic exchange: 10 min)`);
});
