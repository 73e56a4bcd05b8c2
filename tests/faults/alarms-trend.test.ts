/**
 * Dish misalignment through the running headend (DOMAIN.md §6 "Dish misaligned (wind, snow load): slow margin
 * decline at one station while peers are stable → trend alarm; compare with the fleet"): three real agents on
 * simulated RX8200s receive the same carrier; one dish slowly loses margin (a fade that deepens step by step)
 * while the other two hold steady. The headend raises `margin_trend` at that station only, naming the peers
 * as the evidence. The simulated dish starts with ≈ 5 dB of margin, so a 2.6 dB decline also crosses the 3 dB
 * warning line: `margin_low` (warning, not critical) joins it, as it would at a real station. The short timing
 * profile compresses the trend window (3 days in production) to 60 s.
 */
import t from 'tap';
import { startTechnicianRig, until } from '../helpers/technician-rig.js';

const STATIONS = ['kongtong-trend1', 'kongtong-trend2', 'kongtong-trend3'];

t.test(
  'a slow decline at one station while its peers hold steady: one margin_trend, with the peers',
  async (t) => {
    const rig = await startTechnicianRig(t, { stations: STATIONS.map((id) => ({ id, county: 'kongtong' })) });
    const cp = rig.headend.controlPlane;
    const sts = [];
    for (const id of STATIONS) {
      sts.push(await rig.station(id));
      rig.tuneConference(id, 'cctv1');
    }
    const margins = await until(
      () => {
        const m = STATIONS.map((id) => cp.telemetry.latest(id)?.telemetry.receivers[0]);
        return m.every((r) => r?.locked && r.marginDb !== null) ? m.map((r) => r?.marginDb as number) : null;
      },
      'all three locked with a margin',
      30_000,
    );
    const margin0 = margins[0] as number;
    // Fall by 2.6 dB over ~30 s in small steps, staying well above the 1 dB critical line.
    const drop = Math.min(2.6, margin0 - 1.8);
    t.ok(drop >= 2.2, `room for a trend: margin ${margin0.toFixed(1)} dB, decline ${drop.toFixed(1)} dB`);
    const steps = Math.round(drop / 0.25);
    const victim = sts[0];
    if (!victim) throw new Error('no station');
    const t0 = Date.now();
    for (let i = 1; i <= steps; i++)
      victim.rx.sim.faults.inject({
        kind: 'fade',
        depthDb: drop / steps,
        atMs: Math.round((i * 30_000) / steps),
      });

    const a = await until(
      () => rig.alarms({ station: STATIONS[0], kind: 'margin_trend' })[0],
      'margin_trend',
      90_000,
    );
    t.comment(`dish misalignment: margin_trend after ${Date.now() - t0} ms (trend window 60 s)`);
    t.equal(a.cause.row, 'dish-misaligned', `cause: ${a.cause.text}`);
    t.match(a.evidence.text, /peer|other station/i, `evidence: ${a.evidence.text}`);
    t.same(
      rig.alarms({ kind: 'margin_trend' }).map((x) => x.station),
      [STATIONS[0]],
      'only the declining station: its peers held steady',
    );
    t.same(
      rig.alarms({ kind: 'margin_low' }).map((x) => [x.station, x.severity]),
      margin0 - drop < 3 ? [[STATIONS[0], 'warning']] : [],
      'margin_low only where the margin crossed the warning line, as a warning',
    );
    t.same(
      [...new Set(rig.alarms({}).map((x) => x.station))],
      [STATIONS[0]],
      'the peers have no alarm at all',
    );
    t.same(rig.alarms({ kind: 'fleet_signal_lost' }), [], 'no fleet alarm: nothing was lost');
  },
);
