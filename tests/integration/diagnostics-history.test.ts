/**
 * Signal history (issue 8 "Telemetry and history"): what the station page charts — per-minute min/avg/max
 * of margin, C/N, level, lock ratio and bitrate, and disk — comes from the headend's downsampled store,
 * and has no hole for the time the uplink was down: the agent folds its samples into per-minute
 * `telemetry.summary` events while offline and sends them when it is back (DESIGN.md §4). Also: the
 * offline alarm waits the grace period and clears on reconnect; housekeeping deletes old rows.
 */
import t from 'tap';
import { sleep, startTechnicianRig, until, uplinkSwitch } from '../helpers/technician-rig.js';

const S = 'kongtong-hist1';
const MINUTE = 60_000;

interface Signal {
  bucketMs: number;
  receivers: {
    id: string;
    marginDb: number[][];
    lockRatio: number[][];
    level: { unit: string; points: number[][] } | null;
  }[];
  diskFreeBytes: number[][];
  outages: unknown[];
}

t.test('the station page history: live samples and the summaries made while offline', async (t) => {
  const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
  const uplink = await uplinkSwitch();
  await rig.station(S, { uplink });
  rig.tuneConference(S, 'cctv1');
  const cp = rig.headend.controlPlane;
  await until(() => cp.telemetry.latest(S)?.telemetry.receivers[0]?.locked, 'locked', 30_000);
  await sleep(2000);

  // Offline for a few seconds: the agent keeps sampling and summarises.
  const cutAt = Date.now();
  uplink.cut();
  const offline = await until(
    () => rig.alarms({ station: S, kind: 'station_offline' })[0],
    'offline alarm',
    15_000,
    20,
  );
  const offlineMs = Date.now() - cutAt;
  t.ok(offlineMs >= 2000, `station_offline only after the grace period (${offlineMs} ms)`);
  t.equal(offline.cause.row, 'flaky-uplink');
  t.comment(`uplink down: station_offline raised after ${offlineMs} ms (grace 2 s)`);
  await sleep(3000);
  const backAt = Date.now();
  uplink.restore();
  await until(() => cp.presence.get(S)?.connection === 'online', 'online again', 20_000);
  await until(
    () => rig.alarms({ station: S, kind: 'station_offline' }).length === 0,
    'offline alarm cleared',
    10_000,
  );
  t.comment(`offline alarm cleared ${Date.now() - backAt} ms after the uplink came back`);

  const summary = await until(
    () =>
      rig.headend.store.db
        .prepare("SELECT payload FROM events WHERE station_id = ? AND type = 'telemetry.summary'")
        .all(S) as { payload: string }[],
    'summary events',
  ).then((rows) =>
    rows.map(
      (r) =>
        JSON.parse(r.payload) as {
          from: string;
          to: string;
          samples: number;
          receivers: { lockedRatio: number }[];
        },
    ),
  );
  t.ok(summary.length >= 1, `${summary.length} per-minute summary event(s) arrived after the outage`);
  const samples = summary.reduce((n, s) => n + s.samples, 0);
  t.ok(samples >= 6, `made of the ${samples} samples taken while offline (every 0.5 s)`);
  // (A one-sample summary may precede it: the agent's very first sample, taken before it connected.)
  const during = summary.reduce((a, b) => (b.samples > a.samples ? b : a));
  t.equal(during.receivers[0]?.lockedRatio, 1, 'the receiver kept its lock while the uplink was down');

  // Rows older than a minute and a half are written by the ingest's own flush; force it for the test.
  cp.telemetry.flush(true);
  const tech = await rig.as('tech');
  const day = (await tech.get(`/api/v1/stations/${S}/signal?range=24h`)).body as Signal;
  t.equal(day.bucketMs, MINUTE, 'one-minute buckets for a day');
  const rx = day.receivers.find((r) => r.id === 'rx1');
  t.ok(rx && rx.marginDb.length >= 1, 'margin points');
  t.match(rx?.marginDb[0], [Number, Number, Number, Number], '[t, min, avg, max]');
  t.equal(rx?.lockRatio.at(-1)?.[3], 1, 'lock ratio points (max 1 in the latest minute)');
  t.equal(rx?.level?.unit, 'raw', 'the level in the unit the receiver reports');
  t.ok(day.diskFreeBytes.length >= 1, 'disk free points');
  const offMinute = Math.floor(cutAt / MINUTE) * MINUTE;
  t.ok(
    rx?.marginDb.some((p) => p[0] === offMinute),
    'the minute the uplink was down is in the chart (no hole)',
  );
  const n = rig.headend.store.db
    .prepare(
      'SELECT SUM(n) AS n FROM telemetry_minutes WHERE station_id = ? AND metric = ? AND minute_ms >= ?',
    )
    .get(S, 'marginDb', offMinute) as { n: number };
  t.ok(n.n >= samples, `the offline samples were merged into the minute rows (${n.n} samples since)`);

  const week = (await tech.get(`/api/v1/stations/${S}/signal?range=7d`)).body as Signal;
  t.equal(week.bucketMs, 10 * MINUTE, 'ten-minute buckets for a week');
  t.ok((week.receivers[0]?.marginDb.length ?? 0) >= 1);
  const operator = await rig.as(`op-${S}`);
  t.equal((await operator.get(`/api/v1/stations/${S}/signal`)).status, 200, 'operators see their station');
  t.equal((await tech.get(`/api/v1/stations/${S}/signal?range=1y`)).status, 400, 'only 24h or 7d');
});

t.test(
  'housekeeping deletes old telemetry, cleared alarms and read-only diagnostics audit rows',
  async (t) => {
    const rig = await startTechnicianRig(t, { stations: [{ id: S, county: 'kongtong' }] });
    const db = rig.headend.store.db;
    const old = Date.now() - 200 * 86_400_000;
    const ins = db.prepare(
      'INSERT INTO telemetry_minutes (station_id, minute_ms, subject, metric, n, min, avg, max) VALUES (?, ?, ?, ?, 1, 1, 1, 1)',
    );
    for (let i = 0; i < 5000; i++) ins.run(S, old + i * MINUTE, 'rx1', 'marginDb');
    ins.run(S, Date.now() - MINUTE, 'rx1', 'marginDb');
    const oldIso = new Date(old).toISOString();
    db.prepare(
      `INSERT INTO audit_log (at, actor, action, target, details_json) VALUES (?, 'http:tech', 'rpc.receiver.status', ?, '{"sideEffects":false}'),
     (?, 'http:tech', 'rpc.receiver.reset', ?, '{"sideEffects":true}')`,
    ).run(oldIso, S, oldIso, S);
    const report = await rig.headend.technician.housekeeping.runNow();
    t.equal(report.telemetryRows, 5000, 'telemetry older than the retention deleted (in chunks)');
    t.equal(report.auditRows, 1, 'an old read-only diagnostics row deleted');
    const left = db.prepare('SELECT COUNT(*) AS n FROM telemetry_minutes WHERE station_id = ?').get(S) as {
      n: number;
    };
    t.equal(left.n, 1, 'recent rows kept');
    const kept = db.prepare("SELECT action FROM audit_log WHERE action LIKE 'rpc.%'").all() as {
      action: string;
    }[];
    t.same(
      kept.map((k) => k.action),
      ['rpc.receiver.reset'],
      'remedies stay in the audit log',
    );
    t.ok(rig.headend.technician.housekeeping.nextRun(), 'the next run is scheduled (node-cron)');
  },
);
