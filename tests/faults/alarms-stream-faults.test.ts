/**
 * Stream faults at a test station produce exactly the expected alarms with the right causes, through the
 * RUNNING headend (issue 8; DOMAIN.md §6 "Scrambled service", "Service/PID reshuffle", "Black/silent
 * programme with good RF"): a real agent on a simulated RX8200 whose output really is scrambled, loses the
 * programme from its PAT or goes black and silent (device/simulator/faults.ts) → the station's detectors
 * (device/detect/) → station alarm events → the headend's alarm engine. Detection and clear times are
 * printed (short timing profile: 1 s holds, a content check every 2 s).
 */
import type { Test } from 'tap';
import t from 'tap';
import {
  cleared,
  type RigStation,
  raised,
  raisedSince,
  startTechnicianRig,
  type TechnicianRig,
  until,
} from '../helpers/technician-rig.js';

/** A station recording `service` for `durationMs`, with data flowing and no alarm. */
async function recording(t: Test, rig: TechnicianRig, id: string, durationMs: number): Promise<RigStation> {
  const st = await rig.station(id);
  rig.record(id, 'cctv1', 3000, durationMs);
  const cp = rig.headend.controlPlane;
  await until(
    () => cp.telemetry.latest(id)?.telemetry.recorders.some((r) => r.bitrateBps > 0),
    `${id} recording with data flowing`,
    30_000,
  );
  // A few content checks of a healthy picture first: nothing may be raised by a healthy station.
  await new Promise((r) => setTimeout(r, 5000));
  t.same(rig.alarms({ station: id }), [], `${id}: a healthy recording has no alarm`);
  return st;
}

t.test('scrambled service while recording: scrambled, and the recording says so', async (t) => {
  const S = 'kongtong-scr1';
  const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
  const st = await recording(t, rig, S, 24_000);
  const t0 = Date.now();
  // When the headend first sees the recorder starved (0 bit/s) while rx1 claims lock: the condition of
  // stream_frozen, which the receiver's scrambled status in the same message must explain away.
  let starvedMs: number | null = null;
  const poll = setInterval(() => {
    const tm = rig.headend.controlPlane.telemetry.latest(S)?.telemetry;
    const starved = tm?.recorders.some((r) => r.bitrateBps === 0);
    if (starvedMs === null && starved && tm?.receivers.some((r) => r.locked)) starvedMs = Date.now() - t0;
  }, 20);
  t.teardown(() => clearInterval(poll));
  st.rx.sim.faults.inject({ kind: 'scrambled', durationMs: 7000 });
  // The receiver's own scrambled status reaches the headend in telemetry, beside the starved recorder, so
  // the headend never mistakes it for a frozen receiver (engine-telemetry.ts explainedByService).
  const seen = await until(
    () =>
      rig.headend.controlPlane.telemetry
        .latest(S)
        ?.telemetry.receivers.find((r) => r.id === 'rx1' && r.alarms?.includes('scrambled')),
    "rx1's scrambled status in the headend's telemetry",
    30_000,
    20,
  );
  t.comment(
    `telemetry: rx1 alarms [${seen.alarms?.join(', ')}] ${Date.now() - t0} ms after the service was scrambled`,
  );
  const a = await raised(rig, S, 'scrambled', t0);
  t.equal(a.alarm.cause.row, 'scrambled-service', `cause: ${a.alarm.cause.text}`);
  t.equal(a.alarm.subject, 'rx1');
  // Whichever detector held it first: the receiver's CA status or the undecodable recorded video.
  t.match(
    a.alarm.evidence.text,
    /rx1 reports cctv1 \(service id \d+\) scrambled since|no decodable video in the last \d+ s of cctv1 while rx1 is locked/,
    `evidence: ${a.alarm.evidence.text}`,
  );
  t.equal(a.alarm.evidence.facts.service, 'cctv1');
  t.comment(`scrambled: raised ${a.ms} ms after the service was scrambled`);
  const c = await cleared(rig, S, 'scrambled', t0, 40_000);
  t.comment(`scrambled (7 s): cleared ${c} ms after it began`);
  const rec = await until(
    () =>
      rig
        .alarms({ station: S })
        .find((x) => x.kind === 'recording_degraded' || x.kind === 'recording_failed'),
    'the recording alarm when the recording ends',
    40_000,
  );
  t.equal(rec.cause.row, 'scrambled-service', `the recording alarm names the scrambling: ${rec.cause.text}`);
  t.match(rec.evidence.facts.reason, /scrambled/, 'the manifest reason says so');
  clearInterval(poll);
  t.ok(starvedMs !== null, `the headend saw the recorder starved while locked (after ${starvedMs} ms)`);
  const kinds = [...new Set(raisedSince(rig, S, t0))].sort();
  t.same(
    kinds.filter((k) => k !== 'recording_degraded' && k !== 'recording_failed'),
    ['scrambled'],
    `exactly the scrambled alarm besides the recording's (raised: ${kinds.join(', ')}): no frozen stream, no receiver reset`,
  );
  // The recovery ladder's decision log (device/receiver/recovery.ts `ladderDecision`) names a reset even
  // when the RX8200 cannot carry it out, so a ladder that chose to reset here would show.
  const ladder = st.logs
    .all()
    .filter((l) => l.msg.startsWith('ladder: ') && Date.parse(l.at) >= t0)
    .map((l) => l.msg);
  t.same(
    ladder.filter((m) => /^ladder: (reset|escalate)/.test(m)),
    [],
    `the receiver is not reset or escalated for a scrambled service (ladder: ${ladder.join(' | ') || 'no step'})`,
  );
});

t.test('service missing from the PAT: service_missing (service reshuffle), cleared after', async (t) => {
  const S = 'kongtong-svc1';
  const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
  const st = await rig.station(S);
  rig.tuneConference(S, 'cctv1');
  const cp = rig.headend.controlPlane;
  await until(() => cp.telemetry.latest(S)?.telemetry.receivers.find((r) => r.locked), 'locked', 30_000);
  await new Promise((r) => setTimeout(r, 2500));
  t.same(rig.alarms({ station: S }), [], 'a healthy station has no alarm');
  const t0 = Date.now();
  st.rx.sim.faults.inject({ kind: 'service-missing', durationMs: 5000 });
  const a = await raised(rig, S, 'service_missing', t0);
  t.equal(a.alarm.cause.row, 'service-reshuffle', `cause: ${a.alarm.cause.text}`);
  t.equal(a.alarm.subject, 'rx1');
  t.match(a.alarm.evidence.text, /missing from the multiplex \(PAT\)/);
  t.comment(`service missing: raised ${a.ms} ms after the service left the PAT`);
  const c = await cleared(rig, S, 'service_missing', t0, 30_000);
  t.comment(`service missing (5 s): cleared ${c} ms after it began`);
  t.same([...new Set(raisedSince(rig, S, t0))], ['service_missing'], 'exactly this alarm');
});

t.test('black and silent programme with good RF: black_or_silent at this station only', async (t) => {
  const S = 'kongtong-blk1';
  const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
  const st = await recording(t, rig, S, 40_000);
  const t0 = Date.now();
  st.rx.sim.faults.inject({ kind: 'black', durationMs: 9000 });
  const a = await raised(rig, S, 'black_or_silent', t0);
  t.equal(a.alarm.cause.row, 'black-silent', `cause: ${a.alarm.cause.text}`);
  t.match(a.alarm.cause.text, /^only this station on cctv1/);
  t.match(
    a.alarm.evidence.text,
    /^(black picture and silence|black picture|silence) on cctv1 \(rx1\) throughout the last [\d.]+ s with good RF \(locked, margin [\d.]+ dB\)$/,
  );
  t.comment(`black: raised ${a.ms} ms after the picture went black`);
  const c = await cleared(rig, S, 'black_or_silent', t0, 40_000);
  t.ok(c > 9000, 'cleared only once the picture is back');
  t.comment(`black (9 s): cleared ${c} ms after it began (${c - 9000} ms after the picture came back)`);
  t.same([...new Set(raisedSince(rig, S, t0))], ['black_or_silent'], 'exactly this alarm');
});

t.test('upstream black on one service: the second station names the first', async (t) => {
  const A = 'kongtong-up1';
  const B = 'kongtong-up2';
  const rig = await startTechnicianRig(t, {
    stations: [
      { id: A, county: 'kongtong' },
      { id: B, county: 'kongtong' },
    ],
  });
  const [sa, sb] = await Promise.all([recording(t, rig, A, 40_000), recording(t, rig, B, 40_000)]);
  const t0 = Date.now();
  // The broadcaster's feed of cctv1 goes black: every receiver on cctv1 gets the black source.
  sa.rx.sim.faults.inject({ kind: 'black', service: 'cctv1', durationMs: 12_000 });
  sb.rx.sim.faults.inject({ kind: 'black', service: 'cctv1', durationMs: 12_000 });
  const ra = await raised(rig, A, 'black_or_silent', t0);
  const rb = await raised(rig, B, 'black_or_silent', t0);
  const [first, second] = ra.alarm.raisedAt <= rb.alarm.raisedAt ? [ra, rb] : [rb, ra];
  t.match(first.alarm.cause.text, /^only this station on cctv1/);
  t.equal(second.alarm.cause.text, 'upstream: 1 other station on cctv1 sees the same');
  t.comment(`upstream black: raised after ${first.ms} / ${second.ms} ms; cause: ${second.alarm.cause.text}`);
  await cleared(rig, A, 'black_or_silent', t0, 40_000);
  await cleared(rig, B, 'black_or_silent', t0, 40_000);
});
