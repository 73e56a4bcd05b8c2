/**
 * Ingest through the real headend (issue 5 "Ingest" tests, DESIGN.md §4): duplicated and reordered events
 * are stored exactly once and the retained ack only ever covers committed, contiguous events; a commit that
 * fails publishes no ack; what events mean (catalogue, occurrence states) follows seq order, not arrival
 * order; presence follows the boot rule (a Will older than the last birth does not mark a live station
 * offline; the offline alarm waits for the grace period); an unissued schedule version raises an alarm;
 * telemetry is downsampled to minute rows.
 */
import t from 'tap';
import { occurrenceStatuses } from '../../headend/fleet/ingest.js';
import { shortTiming } from '../../protocol/timing.js';
import { topics } from '../../protocol/topics.js';
import { SimStation } from '../../scripts/load/sim-station.js';
import { startFleetHeadend } from '../helpers/headend-fleet.js';

const T = topics();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** An `occurrence.state` event body of store `storeId`. */
function stateEvent(storeId: string, seq: number, state: string, at: string) {
  return JSON.stringify({
    storeId,
    seq,
    at,
    type: 'occurrence.state',
    entryId: 'rec-1',
    nominalStart: '2026-03-06T11:00:00Z',
    rev: 1,
    state,
    receiverId: 'rx1',
  });
}

t.test(
  'duplicated and reordered events are stored once; the ack covers only committed contiguous seqs',
  async (t) => {
    const fleet = await startFleetHeadend(t, { stations: [{ id: 'ev-01', county: 'kongtong' }] });
    const store = fleet.running.store;
    const sim = await fleet.sim('ev-01');
    const events = (seq: number) =>
      stateEvent(sim.storeId, seq, seq % 2 ? 'tuning' : 'ready', `2026-03-06T10:5${seq}:00Z`);
    const committed = () => store.events.list('ev-01', { storeId: sim.storeId }).map((e) => e.seq);
    const acks: number[] = [];
    const violations: string[] = [];
    sim.on('ack', (a) => {
      acks.push(a.seq);
      // At the moment an ack arrives, every seq it covers must already be committed.
      const have = new Set(committed());
      for (let s = 1; s <= a.seq; s++)
        if (!have.has(s)) violations.push(`ack ${a.seq} before seq ${s} was committed`);
    });
    const send = (seq: number, payload = events(seq)) => sim.publishRaw(T.events('ev-01'), payload);

    await send(1);
    await send(2);
    await sim.waitAck(2);
    await send(4);
    await send(2); // a resend
    await send(6);
    await waitFor(() => committed().includes(6), 'seq 6 stored');
    await sleep(100);
    t.equal(sim.ack?.seq, 2, 'gaps at 3 and 5 hold the ack at 2');
    await send(3);
    await sim.waitAck(4);
    await send(5);
    await send(3); // a resend after it was acked
    await send(1);
    await sim.waitAck(6);
    await sleep(100);

    t.same(committed(), [1, 2, 3, 4, 5, 6], 'every event stored exactly once');
    t.same(violations, [], 'no ack ever covered an uncommitted event');
    t.same(
      [...acks].sort((a, b) => a - b),
      acks,
      'the ack never went backwards',
    );
    t.equal(store.events.ack('ev-01', sim.storeId).seq, 6, 'the high-water mark is 6');
    t.same(store.events.conflicts('ev-01'), [], 'resends with the same bytes are duplicates, not conflicts');

    // Same key, different payload: kept aside and alarmed, never merged.
    await send(2, stateEvent(sim.storeId, 2, 'failed', '2026-03-06T10:59:59Z'));
    const cp = fleet.running.controlPlane;
    await waitFor(() => cp.alarms.active('event_conflict', 'ev-01', `${sim.storeId}:2`), 'conflict alarm');
    t.equal(store.events.conflicts('ev-01').length, 1, 'the conflicting payload is kept aside');
    t.match(
      store.events.list('ev-01', { storeId: sim.storeId })[1]?.payload,
      /"ready"/,
      'the stored event is unchanged',
    );
  },
);

t.test('a commit that fails publishes no ack; the resend is acked after it commits', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'ev-02', county: 'huating' }] });
  const store = fleet.running.store;
  const sim = await fleet.sim('ev-02');
  const send = (seq: number) =>
    sim.publishRaw(T.events('ev-02'), stateEvent(sim.storeId, seq, 'tuning', `2026-03-06T10:0${seq}:00Z`));
  await send(1);
  await sim.waitAck(1);
  // A commit that cannot happen (disk full, I/O error): the whole batch rolls back.
  store.db.exec(`CREATE TRIGGER fail_seq_2 BEFORE INSERT ON events WHEN NEW.seq = 2
    BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END`);
  const batches = fleet.running.controlPlane.ingest.stats().batches;
  await send(2);
  await sleep(300);
  t.equal(fleet.running.controlPlane.ingest.stats().batches, batches, 'the failed batch did not complete');
  t.equal(sim.ack?.seq, 1, 'no ack for an event that was not committed');
  t.same(
    store.events.list('ev-02').map((e) => e.seq),
    [1],
    'nothing half-stored',
  );
  store.db.exec('DROP TRIGGER fail_seq_2');
  await send(2); // the station resends from its ack
  await sim.waitAck(2);
  t.same(
    store.events.list('ev-02').map((e) => e.seq),
    [1, 2],
  );
});

t.test('what events mean follows seq order, not arrival order (catalogue, occurrence state)', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'ev-03', county: 'lingtai' }] });
  const store = fleet.running.store;
  const sim = await fleet.sim('ev-03');
  const manifest = JSON.stringify({
    storeId: sim.storeId,
    seq: 2,
    at: '2026-03-06T12:05:10Z',
    type: 'recording.manifest',
    entryId: 'rec-1',
    nominalStart: '2026-03-06T11:00:00Z',
    recordingId: 'r-0001',
    service: 'cctv7',
    receiverId: 'rx1',
    segments: [
      {
        file: 'rec-1/a.ts',
        start: '2026-03-06T10:58:00Z',
        end: '2026-03-06T11:30:00Z',
        bytes: 900,
        durationMs: 1_920_000,
        ccErrors: 3,
        gaps: 0,
      },
      {
        file: 'rec-1/b.ts',
        start: '2026-03-06T11:31:00Z',
        end: '2026-03-06T12:05:00Z',
        bytes: 800,
        durationMs: 2_040_000,
        ccErrors: 0,
        gaps: 1,
      },
    ],
    bytes: 1700,
    durationMs: 3_960_000,
    gapsMs: 60_000,
    quality: 91.5,
    outcome: 'completed_with_errors',
    reason: 'gap of 60 s after a power cut',
    clockTrusted: true,
  });
  // Arrival: the end state (3), the manifest (2), then the start (1).
  await sim.publishRaw(
    T.events('ev-03'),
    stateEvent(sim.storeId, 3, 'completed_with_errors', '2026-03-06T12:05:11Z'),
  );
  await sim.publishRaw(T.events('ev-03'), manifest);
  await waitFor(() => store.events.list('ev-03').length === 2, 'two events stored');
  await sleep(50);
  t.same(store.recordings.list({ stationId: 'ev-03' }), [], 'nothing applied behind the gap at seq 1');
  await sim.publishRaw(T.events('ev-03'), stateEvent(sim.storeId, 1, 'recording', '2026-03-06T10:58:00Z'));
  await sim.waitAck(3);
  const rec = store.recordings.get('ev-03', 'r-0001');
  t.equal(rec?.status, 'completed-with-errors', 'catalogued as completed with errors, not completed');
  t.equal(rec?.bytes, 1700);
  t.equal(rec?.startedAt, '2026-03-06T10:58:00Z');
  t.equal(rec?.endedAt, '2026-03-06T12:05:00Z');
  const [status] = occurrenceStatuses(store, { stationId: 'ev-03' });
  t.equal(
    status?.state,
    'completed_with_errors',
    'the occurrence ends in its last state, not the last to arrive',
  );
});

t.test('presence: the boot rule and the offline grace', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'pr-01', county: 'jingning' }] });
  const cp = fleet.running.controlPlane;
  const first = await fleet.sim('pr-01', { reconnect: false });
  await waitFor(() => cp.presence.get('pr-01')?.connection === 'online', 'online');

  // The broker delivering the Will of an older connection after the station reconnected.
  await first.publishRaw(T.state('pr-01'), JSON.stringify({ online: false, boot: { n: 1, conn: 0 } }), true);
  // A fence on the same connection: once it is processed, the Will before it was too.
  const samples = cp.telemetry.stats().invalid;
  await first.publishRaw(T.telemetry('pr-01'), '{"fence":true}');
  await waitFor(() => cp.telemetry.stats().invalid > samples, 'the fence');
  t.equal(
    cp.presence.get('pr-01')?.connection,
    'online',
    'a Will older than the last birth does not mark it offline',
  );
  await sleep(shortTiming.offlineGraceMs + 500);
  t.equal(cp.presence.get('pr-01')?.connection, 'online', 'still online after the grace period');
  t.notOk(cp.alarms.active('station_offline', 'pr-01'), 'no offline alarm');

  // A second connection of the same station takes over; the broker may publish the first one's Will after it.
  const second = new SimStation({
    id: 'pr-01',
    password: fleet.stations[0]?.secret ?? '',
    url: fleet.brokerUrl,
    boot: { n: 1, conn: 5 },
    storeId: first.storeId,
  });
  t.teardown(() => second.stop(true));
  await second.connect();
  await sleep(500);
  t.equal(cp.presence.get('pr-01')?.connection, 'online', 'online after the takeover');
  t.same(cp.presence.get('pr-01')?.boot, { n: 1, conn: 6 }, 'the live connection is the newest birth');
  t.notOk(cp.alarms.active('station_offline', 'pr-01'), 'no offline alarm after the takeover');

  // The current connection drops without a DISCONNECT: the broker publishes its Will.
  await second.stop(false);
  await waitFor(
    () => cp.presence.get('pr-01')?.connection === 'disconnected',
    '"disconnected" at once',
    1500,
  );
  t.notOk(cp.alarms.active('station_offline', 'pr-01'), 'no alarm yet: the grace period runs');
  await sleep(shortTiming.offlineGraceMs / 2);
  t.notOk(cp.alarms.active('station_offline', 'pr-01'), 'still no alarm half-way through the grace');
  await waitFor(
    () => cp.alarms.active('station_offline', 'pr-01'),
    'offline alarm after the grace',
    shortTiming.offlineGraceMs + 3000,
  );
  await second.connect();
  await waitFor(() => cp.presence.get('pr-01')?.connection === 'online', 'back online');
  t.notOk(cp.alarms.active('station_offline', 'pr-01'), 'the alarm clears when it is back');
  t.ok(
    fleet.running.store.stateHistory.history('pr-01').length >= 3,
    'presence changes are kept in the history',
  );
});

t.test('a station reporting a version the headend never issued raises an alarm', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'uv-01', county: 'chongxin' }] });
  const cp = fleet.running.controlPlane;
  const sim = await fleet.sim('uv-01');
  const good = await sim.waitApplied({ epoch: 1, n: 1 });
  await waitFor(() => cp.tracker.status('uv-01').inSync, 'in sync');
  const forged = {
    ...sim.birth(),
    schedule: { version: { epoch: 1, n: 99 }, hash: 'a'.repeat(64), appliedAt: good.appliedAt },
  };
  await sim.publishRaw(T.state('uv-01'), JSON.stringify(forged), true);
  await waitFor(() => cp.alarms.active('schedule_unknown_version', 'uv-01'), 'unknown version alarm');
  t.equal(cp.tracker.status('uv-01').unknownVersion, true);
  t.equal(cp.tracker.status('uv-01').inSync, false);
  await sim.publishRaw(T.state('uv-01'), JSON.stringify(sim.birth()), true);
  await waitFor(() => !cp.alarms.active('schedule_unknown_version', 'uv-01'), 'alarm cleared');
  t.ok(cp.tracker.status('uv-01').inSync, 'back in sync');
});

t.test('telemetry is downsampled to minute rows; bad samples are dropped and counted', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'tm-01', county: 'zhuanglang' }] });
  const cp = fleet.running.controlPlane;
  const sim = await fleet.sim('tm-01');
  const sample = (sec: number, marginDb: number, locked: boolean) =>
    JSON.stringify({
      at: `2026-03-06T10:15:${String(sec).padStart(2, '0')}Z`,
      receivers: [
        {
          id: 'rx1',
          link: 'up',
          locked,
          service: 'cctv1',
          level: { value: 180, unit: 'raw' },
          cnDb: 10,
          marginDb,
          ber: 0,
          lnb: 'ok',
        },
      ],
      recorders: [],
      disk: { freeBytes: 1_000_000, usedBytes: 5, quotaBytes: null },
      host: { cpuPct: 12, memUsedBytes: 100, memTotalBytes: 1000 },
    });
  await sim.publishRaw(T.telemetry('tm-01'), sample(0, 4, true));
  await sim.publishRaw(T.telemetry('tm-01'), sample(20, 6, true));
  await sim.publishRaw(T.telemetry('tm-01'), sample(40, 8, false));
  await sim.publishRaw(T.telemetry('tm-01'), '{"at":"not a time"}');
  await waitFor(
    () => cp.telemetry.stats().samples === 3 && cp.telemetry.stats().invalid === 1,
    'samples received',
  );
  cp.telemetry.flush(true);
  const minute = Date.parse('2026-03-06T10:15:00Z');
  const rows = cp.telemetry.rows('tm-01', minute, minute + 60_000);
  const margin = rows.find((r) => r.metric === 'marginDb' && r.subject === 'rx1');
  t.same(
    margin && [margin.n, margin.min, margin.avg, margin.max],
    [3, 4, 6, 8],
    'margin min / avg / max over the minute',
  );
  const locked = rows.find((r) => r.metric === 'locked');
  t.equal(Math.round((locked?.avg ?? 0) * 100), 67, 'locked two thirds of the minute');
  t.equal(
    cp.telemetry.latest('tm-01')?.telemetry.receivers[0]?.marginDb,
    8,
    'the newest sample is kept for the board',
  );
  // A late sample of the same minute merges into the row instead of replacing it.
  await sim.publishRaw(T.telemetry('tm-01'), sample(50, 2, true));
  await waitFor(() => cp.telemetry.stats().samples === 4, 'late sample');
  cp.telemetry.flush(true);
  const merged = cp.telemetry.rows('tm-01', minute, minute + 60_000, 'marginDb')[0];
  t.same(merged && [merged.n, merged.min, merged.avg, merged.max], [4, 2, 5, 8], 'merged, weighted');
});

t.test(
  'desired vs applied: a station that does not report its new document shows as lagging, and for how long',
  async (t) => {
    const fleet = await startFleetHeadend(t, { stations: [{ id: 'lag-01', county: 'lingtai' }] });
    const cp = fleet.running.controlPlane;
    const sim = await fleet.sim('lag-01');
    await sim.waitApplied({ epoch: 1, n: 1 });
    await waitFor(() => cp.tracker.status('lag-01').inSync, 'in sync');
    // From now on it applies documents but its reports never reach the headend (a stuck agent).
    sim.opts.reportState = false;
    const start = Math.ceil(Date.now() / 3_600_000) * 3_600_000 + 7_200_000;
    cp.scheduling.create(
      {
        kind: 'recording',
        title: 'x',
        service: 'cctv1',
        when: {
          type: 'once',
          start: new Date(start).toISOString(),
          end: new Date(start + 3_600_000).toISOString(),
        },
        target: { type: 'station', stationId: 'lag-01' },
      },
      'test',
    );
    await sim.waitApplied({ epoch: 1, n: 2 });
    t.notOk(cp.tracker.status('lag-01').inSync, 'the headend sees it behind');
    const status = cp.tracker.status('lag-01');
    t.same(status.desired?.version, { epoch: 1, n: 2 }, 'desired 1.2');
    t.same(status.applied?.version, { epoch: 1, n: 1 }, 'applied 1.1 (as last reported)');
    t.equal(status.lagSince, status.desired?.issuedAt, 'behind since 1.2 was issued');
    await sleep(300);
    t.ok((cp.tracker.status('lag-01').lagMs ?? 0) >= 300, 'and how long it has lagged grows');
    // The station reports again: the lag clears.
    sim.opts.reportState = true;
    await sim.publishRaw(T.state('lag-01'), JSON.stringify(sim.birth()), true);
    await waitFor(() => cp.tracker.status('lag-01').inSync, 'in sync again');
    t.equal(cp.tracker.status('lag-01').lagMs, null, 'no lag once it reports the desired version');
  },
);

t.test('a row the station quarantined does not stall the ack: its alarm stands in for it', async (t) => {
  const fleet = await startFleetHeadend(t, { stations: [{ id: 'qr-01', county: 'kongtong' }] });
  const store = fleet.running.store;
  const sim = await fleet.sim('qr-01');
  const send = (payload: string) => sim.publishRaw(T.events('qr-01'), payload);
  await send(stateEvent(sim.storeId, 1, 'tuning', '2026-03-06T10:51:00Z'));
  await sim.waitAck(1);
  // seq 2 kept causing disconnects at the station and was quarantined; it never arrives.
  await send(stateEvent(sim.storeId, 3, 'ready', '2026-03-06T10:53:00Z'));
  await sleep(100);
  t.equal(sim.ack?.seq, 1, 'the gap at 2 holds the ack');
  await send(
    JSON.stringify({
      storeId: sim.storeId,
      seq: 4,
      at: '2026-03-06T10:54:00Z',
      type: 'alarm.raised',
      alarmId: 'q-2',
      kind: 'outbox_quarantined',
      severity: 'warning',
      message: 'event seq 2 quarantined: refused 3 times',
      evidence: { seq: 2, storeId: sim.storeId },
    }),
  );
  await sim.waitAck(4);
  const rows = store.events.list('qr-01', { storeId: sim.storeId });
  t.same(
    rows.map((r) => [r.seq, r.type]),
    [
      [1, 'occurrence.state'],
      [2, 'quarantined'],
      [3, 'occurrence.state'],
      [4, 'alarm.raised'],
    ],
    'a placeholder is stored under the quarantined key and the ack moves over it',
  );
  t.same(store.events.conflicts('qr-01'), [], 'the placeholder is not a conflict');

  // An alarm naming a seq that IS stored must not overwrite or conflict with it.
  await send(
    JSON.stringify({
      storeId: sim.storeId,
      seq: 5,
      at: '2026-03-06T10:55:00Z',
      type: 'alarm.raised',
      alarmId: 'q-3',
      kind: 'outbox_quarantined',
      severity: 'warning',
      message: 'event seq 3 quarantined',
      evidence: { seq: 3, storeId: sim.storeId },
    }),
  );
  await sim.waitAck(5);
  t.match(store.events.list('qr-01', { storeId: sim.storeId })[2]?.payload, /"ready"/, 'seq 3 is untouched');
  t.same(store.events.conflicts('qr-01'), [], 'still no conflict');
});
