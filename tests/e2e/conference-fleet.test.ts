/**
 * A conference pushed to the whole prefecture, end to end on loopback (issue 7 "Tests"): the real headend
 * and 102 REAL agents (one fleet process) with simulated receivers over TCP and real MPEG-TS.
 * - every healthy station is ready before the start; the three faulty stations show the right state and
 *   reason (uplink down → offline; snow on the dish → no lock; hung receiver → not answering);
 * - a cancellation reaches every connected station; an extension moves the running occurrence's end at
 *   every station (they complete at the new end, not the old one);
 * - the report's numbers match what the stations did, and the stations that recorded made real files
 *   ffprobe accepts (programme = the service id).
 * Measured (printed as comments): push → applied p50/p99 over the stations, push → all ready.
 */
import path from 'node:path';
import t from 'tap';
import type { ConferenceBoard, ConferenceReport } from '../../headend/conferences/index.js';
import { occurrenceStatuses } from '../../headend/fleet/ingest.js';
import { ffprobeFile, sleep, until } from '../helpers/agent-harness.js';
import { startConferenceFleet } from '../helpers/conference-fleet.js';

const N = Number(process.env.CONF_FLEET_STATIONS ?? 102);
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const pctl = (xs: number[], p: number) =>
  xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? NaN;

t.test(
  `a conference to ${N} stations: ready before the start, faults named, extend and cancel, report`,
  async (t) => {
    const f = await startConferenceFleet(t, { stations: N });
    await f.synced(90_000);
    const ids = f.stations.map((s) => s.id);
    const [OFFLINE, FADE, HANG] = [ids[3], ids[4], ids[5]] as [string, string, string];
    const faulty = new Set([OFFLINE, FADE, HANG]);
    const healthy = ids.filter((id) => !faulty.has(id));
    const RECORDERS = healthy.slice(0, 4);
    const cp = f.headend.controlPlane;
    await f.fleet.inject(OFFLINE, { kind: 'uplink-down' });
    await f.fleet.inject(FADE, { kind: 'snow-fade', depthDb: 9 });
    await f.fleet.inject(HANG, { kind: 'receiver-hang' });
    await until(
      () => cp.presence.get(OFFLINE)?.connection === 'disconnected',
      'the uplink to go down',
      10_000,
    );

    const control = await f.as('control');
    const start = Math.ceil((Date.now() + 30_000) / 1000) * 1000;
    const end = start + 20_000;
    const post = async (body: Record<string, unknown>) => {
      const r = await control.post('/api/v1/conferences', body);
      t.equal(r.status, 201, `created ${String(body.title)}`);
      return (r.body as { conference: { id: string; stations: string[] } }).conference;
    };
    const pushedAt = Date.now();
    const a = await post({
      title: '全市冬春农业生产视频会议',
      organiser: '市农业农村局',
      service: 'svc01',
      start: iso(start),
      end: iso(end),
      target: { type: 'all' },
      preRollMs: 15_000,
      notes: '请各乡镇提前调试设备',
    });
    t.equal(a.stations.length, N, 'targets every station');
    // Push → applied at every connected station, as the headend saw it.
    type Delivery = { stationId: string; appliedSeenAt: string | null; delayMs: number | null }[];
    const delivered = await until(
      async () => {
        const d = (await control.get(`/api/v1/conferences/${a.id}/delivery`)).body as Delivery;
        return d.filter((x) => x.stationId !== OFFLINE).every((x) => x.appliedSeenAt) ? d : null;
      },
      'every connected station to apply the conference',
      30_000,
      100,
    );
    const delays = delivered.flatMap((x) => (x.delayMs === null ? [] : [x.delayMs]));
    t.equal(delays.length, N - 1, 'applied everywhere but at the station whose uplink is down');
    t.comment(
      `push → applied over ${delays.length} stations: p50 ${pctl(delays, 0.5)} ms, p99 ${pctl(delays, 0.99)} ms`,
    );

    const b = await post({
      title: '技能培训（录像）',
      organiser: '市农技中心',
      service: 'svc01',
      start: iso(start),
      end: iso(end),
      target: { type: 'stations', stationIds: RECORDERS },
      record: true,
      preRollMs: 15_000,
    });
    const c = await post({
      title: '下周调度会',
      organiser: '市政府办',
      service: 'svc02',
      start: iso(start + 600_000),
      end: iso(start + 1_200_000),
      target: { type: 'all' },
    });

    // Cancel the next-week conference: every connected station drops it.
    const cancelAt = Date.now();
    t.equal((await control.post(`/api/v1/conferences/${c.id}/cancel`)).status, 200, 'cancelled');
    const boardOf = async (id: string) =>
      (await control.get(`/api/v1/conferences/${id}/attendance`)).body as ConferenceBoard;
    const cancelled = await until(
      async () => {
        const bd = await boardOf(c.id);
        return bd.counts.all.cancelled === N - 1 ? bd : null;
      },
      'the cancellation applied at every connected station',
      30_000,
      200,
    );
    t.comment(`cancel → dropped at ${N - 1} stations (seen on the board): ${Date.now() - cancelAt} ms`);
    t.equal(
      cancelled.rows.find((r) => r.stationId === OFFLINE)?.status,
      'offline',
      'the offline station cannot know yet',
    );
    for (const id of healthy.slice(0, 3)) {
      const doc = f.headend.store.schedules.latest(id)?.doc.toString('utf8') ?? '';
      t.notOk(doc.includes(c.id), `${id}: the cancelled conference left its document`);
    }

    // Before the start: every healthy station ready, the faulty ones named.
    let allReadyAt = 0;
    const ready = await until(
      async () => {
        const bd = await boardOf(a.id);
        const ok = healthy.every((id) => bd.rows.find((r) => r.stationId === id)?.status === 'ready');
        if (ok && !allReadyAt) allReadyAt = Date.now();
        const faultsShown =
          bd.rows.find((r) => r.stationId === FADE)?.reasonCode === 'no_lock' &&
          bd.rows.find((r) => r.stationId === HANG)?.reasonCode === 'receiver_unresponsive';
        return ok && faultsShown ? bd : null;
      },
      'every healthy station ready and the faults shown',
      Math.max(1000, start - Date.now() - 1000),
      200,
    );
    t.ok(Date.now() < start, 'all of it before the start');
    // Stations tune `tunePreRollMs` (8 s here) before the pre-roll starts: how long until all were ready.
    const tuneAt = start - 15_000 - 8000;
    t.comment(
      `push → all ${healthy.length} healthy stations ready: ${allReadyAt - pushedAt} ms ` +
        `(${allReadyAt - tuneAt} ms after their tune time, ${start - allReadyAt} ms before the start)`,
    );
    const row = (id: string) => ready.rows.find((r) => r.stationId === id);
    t.match(row(OFFLINE), { status: 'offline', reasonCode: 'disconnected' }, 'uplink down: offline');
    t.match(row(FADE), { status: 'failed', reasonCode: 'no_lock', locked: false }, 'snow fade: no lock');
    t.match(
      row(HANG),
      { status: 'failed', reasonCode: 'receiver_unresponsive' },
      'hung receiver: not answering',
    );
    t.equal(ready.counts.all.ready, healthy.length, `${healthy.length} ready`);
    t.ok(
      healthy.every((id) => (row(id)?.marginDb ?? -1) > 0),
      'every ready station shows a positive margin',
    );
    const county = f.stations.find((s) => s.id === FADE)?.county ?? '';
    t.equal(
      ready.counts.counties[county]?.failed,
      1 + (f.stations.find((s) => s.id === HANG)?.county === county ? 1 : 0),
      'counted in its county',
    );

    // Running: receiving; then extended in place by 10 s.
    await sleep(start - Date.now() + 2000);
    const live = await boardOf(a.id);
    t.equal(live.counts.all.receiving, healthy.length, 'every healthy station receiving');
    const extended = await control.post(`/api/v1/conferences/${a.id}/extend`, { end: iso(end + 10_000) });
    t.equal(extended.status, 200, 'extended');
    const newEnd = end + 10_000;

    // After the new end: completed at the new end, not the old one.
    await until(
      async () =>
        (await boardOf(a.id)).rows.filter((r) => r.reasonCode === 'completed').length === healthy.length,
      'every healthy station to report it completed',
      newEnd - Date.now() + 20_000,
      250,
    );
    const finals = occurrenceStatuses(f.headend.store, { entryId: a.id, limit: 1000 });
    const completed = finals.filter((o) => o.state === 'completed');
    t.equal(completed.length, healthy.length, 'every healthy station completed it');
    t.ok(
      completed.every((o) => Date.parse(o.at) >= newEnd - 1000),
      'they completed at the extended end (the occurrence moved in place)',
    );
    t.same(
      new Set(finals.map((o) => o.nominalStart)),
      new Set([iso(start)]),
      'one occurrence identity throughout (same entry, same start)',
    );

    // The report matches: the healthy stations got it all, the faulty ones nothing.
    const report = (await control.get(`/api/v1/conferences/${a.id}/report`)).body as ConferenceReport;
    t.equal(report.final, true);
    t.equal(report.durationMs, 30_000, 'the extended length');
    const share = (id: string) => report.stations.find((s) => s.stationId === id)?.share ?? -1;
    const low = healthy.filter((id) => share(id) < 0.9);
    t.same(low, [], 'every healthy station received at least 90 % (observed at 1 s steps)');
    for (const id of faulty) t.equal(share(id), 0, `${id} received nothing`);
    t.equal(report.totals.stations, N);
    t.equal(report.totals.none, 3, 'three stations got nothing');
    t.equal(
      report.counties.reduce((s, x) => s + x.stations, 0),
      N,
      'the county totals add up',
    );
    const csv = await control.get(`/api/v1/conferences/${a.id}/report.csv`);
    t.equal(csv.status, 200);
    t.match(csv.headers.get('content-type'), /^text\/csv/);
    t.match(csv.headers.get('content-disposition'), /attachment; filename="attendance-/);
    const lines = String(csv.body)
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    t.equal(lines.filter((l) => /^[a-z]+-[a-z]+,/.test(l)).length, N, 'one CSV line per station');

    // The stations that recorded made real files, ffprobe accepts them.
    const recs = await until(
      () => {
        const list = f.headend.store.recordings.list({ entryId: b.id });
        return list.length === RECORDERS.length ? list : null;
      },
      'the recordings in the catalogue',
      20_000,
      250,
    );
    const serviceId = f.lineup.find((s) => s.key === 'svc01')?.serviceId;
    for (const r of recs) {
      t.match(r.status, /^completed(-with-errors)?$/, `${r.stationId}: ${r.status} (quality ${r.quality})`);
      const m = r.manifest as { segments: { file: string }[] };
      let seconds = 0;
      for (const seg of m.segments) {
        const probe = await ffprobeFile(path.join(f.stationsDir, r.stationId, 'recordings', seg.file));
        t.ok(probe.programs.includes(serviceId ?? -1), `${r.stationId} ${seg.file}: programme ${serviceId}`);
        seconds += probe.durationS;
      }
      t.ok(
        seconds >= 18,
        `${r.stationId}: ${seconds.toFixed(1)} s recorded for a 20 s conference (+ pre-roll)`,
      );
    }
    const rb = (await control.get(`/api/v1/conferences/${b.id}/report`)).body as ConferenceReport;
    for (const s of rb.stations) {
      const cat = recs.find((r) => r.stationId === s.stationId);
      t.match(
        s.recording,
        { made: true, quality: cat?.quality, bytes: cat?.bytes },
        `${s.stationId}: as catalogued`,
      );
      t.ok(
        (s.share ?? 0) >= 0.9,
        `${s.stationId}: ${Math.round((s.share ?? 0) * 100)} % of the conference recorded`,
      );
    }
    const stats = await f.fleet.stats();
    t.comment(
      `fleet process: RSS ${(stats.rssBytes / 1e6).toFixed(0)} MB, CPU ${((stats.cpuUserMs + stats.cpuSystemMs) / 1000).toFixed(1)} s`,
    );
  },
);
