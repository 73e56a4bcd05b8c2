/**
 * Alarm persistence and history (migration 005-alarms, headend/alarms/store.ts, service.ts): every transition
 * is stored with its history; acknowledgements record who; alarms active at a restart are re-adopted and
 * still clear when their condition ends. Real SQLite in a temp dir, fake clock.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { carrierLookupFromLineup } from '../../headend/alarms/carriers.js';
import { createAlarmService } from '../../headend/alarms/service.js';
import { AlarmError } from '../../headend/alarms/types.js';
import { openStore } from '../../headend/store/index.js';
import { AlarmClearedEvent, AlarmRaisedEvent } from '../../protocol/messages/events.js';
import { defaultTiming as D } from '../../protocol/timing.js';
import { LINEUP, T0, telemetry } from '../helpers/alarm-rig.js';

async function rig(t: Test) {
  const dir = await mkdtemp(join(tmpdir(), 'alarms-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'headend.db');
  let now = T0;
  const audits: { actor: string; action: string; target?: string }[] = [];
  const open = () => {
    const store = openStore(file, { now: () => new Date(now) });
    const service = createAlarmService({
      db: store.db,
      timing: D,
      clock: () => now,
      carrierOf: carrierLookupFromLineup(LINEUP),
      audit: (e) => audits.push(e),
    });
    return { store, service };
  };
  let cur = open();
  t.teardown(() => {
    cur.service.close();
    cur.store.close();
  });
  return {
    get service() {
      return cur.service;
    },
    get store() {
      return cur.store;
    },
    audits,
    advance(ms: number, step = 10_000) {
      const end = now + ms;
      while (now < end) {
        now = Math.min(end, now + step);
        cur.service.engine.tick(now);
      }
    },
    now: () => now,
    restart() {
      cur.service.close();
      cur.store.close();
      cur = open();
    },
  };
}

t.test('raised, acknowledged (by whom), cleared: row and history', async (t) => {
  const r = await rig(t);
  r.service.engine.observePresence('st-001', { online: false });
  r.advance(D.offlineGraceMs);
  const [a] = r.service.repo.active();
  t.equal(a?.kind, 'station_offline');
  t.equal(a?.station, 'st-001');
  t.equal(a?.cause.row, 'flaky-uplink');
  t.match(a?.evidence.text, /disconnected since/);
  t.equal(a?.raisedAt, T0 + D.offlineGraceMs);

  const acked = r.service.acknowledge(a?.id as string, 'wang.tech');
  t.equal(acked.ackedBy, 'wang.tech');
  t.same(r.audits, [
    {
      actor: 'wang.tech',
      action: 'alarm.acknowledge',
      target: 'st-001',
      details: { alarmId: a?.id, kind: 'station_offline' },
    },
  ]);
  t.throws(() => r.service.acknowledge(a?.id as string, 'li.tech'), {
    code: 'ALREADY_ACKNOWLEDGED',
    message: /acknowledged by wang\.tech/,
  });
  t.throws(() => r.service.acknowledge('nope', 'li.tech'), AlarmError);

  r.service.engine.observePresence('st-001', { online: true });
  r.advance(D.alarmClearHoldMs);
  t.same(r.service.repo.active(), [], 'cleared');
  const row = r.service.repo.get(a?.id as string);
  t.equal(row?.ackedBy, 'wang.tech');
  t.equal(row?.ackedAt, T0 + D.offlineGraceMs);
  t.equal(row?.clearedAt, T0 + D.offlineGraceMs + D.alarmClearHoldMs);
  t.same(
    r.service.repo.history(a?.id as string).map((h) => [h.type, h.actor]),
    [
      ['raised', null],
      ['acknowledged', 'wang.tech'],
      ['cleared', null],
    ],
  );
  t.same(
    r.service.repo.list({ station: 'st-001' }).map((x) => x.id),
    [a?.id],
  );
  t.same(r.service.repo.list({ activeOnly: true }), []);
  t.throws(() => r.service.repo.list({ limit: 0 }), { code: 'INVALID_INPUT' });
});

t.test('an alarm active at a restart clears after it when the condition ends', async (t) => {
  const r = await rig(t);
  r.service.engine.observeTelemetry('st-001', telemetry(r.now(), [{ lnb: 'short', locked: false }]), r.now());
  r.advance(2 * 60_000);
  t.same(
    r.service.repo
      .active()
      .map((a) => a.kind)
      .sort(),
    ['lnb_fault', 'signal_lost'],
  );
  r.restart();
  t.same(
    r.service.engine
      .active()
      .map((a) => a.kind)
      .sort(),
    ['lnb_fault', 'signal_lost'],
    're-adopted by the new engine',
  );
  r.advance(30_000);
  t.equal(r.service.repo.active().length, 2, 'no telemetry yet: kept');
  for (let i = 0; i < 15; i++) {
    r.service.engine.observeTelemetry('st-001', telemetry(r.now()), r.now());
    r.advance(10_000);
  }
  t.same(r.service.repo.active(), [], 'cleared by healthy telemetry after the clear hold');
});

/** Raises lnb_fault + signal_lost at st-001, restarts the headend, and reconnects the station. */
async function restartWithFault(t: Test) {
  const r = await rig(t);
  const bad = () => telemetry(r.now(), [{ lnb: 'short', locked: false }]);
  r.service.engine.observePresence('st-001', { online: true, storeId: 'abcdef0123456789' });
  r.service.engine.observeTelemetry('st-001', bad(), r.now());
  r.advance(2 * 60_000);
  const before = r.service.repo
    .active()
    .map((a) => a.id)
    .sort();
  t.equal(before.length, 2, 'lnb_fault and signal_lost raised');
  r.restart();
  r.advance(30_000);
  r.service.engine.observePresence('st-001', { online: true, storeId: 'abcdef0123456789' });
  return { r, bad, before };
}

t.test('restart + reconnect with the fault still there: the same alarms stay, never cleared', async (t) => {
  const { r, bad, before } = await restartWithFault(t);
  t.same(
    r.service.repo
      .active()
      .map((a) => a.id)
      .sort(),
    before,
    'the reconnect clears nothing',
  );
  for (let i = 0; i < 60; i++) {
    r.service.engine.observeTelemetry('st-001', bad(), r.now());
    r.advance(10_000);
  }
  t.same(
    r.service.repo
      .active()
      .map((a) => a.id)
      .sort(),
    before,
    'same ids ten minutes later',
  );
  for (const id of before)
    t.same(
      r.service.repo.history(id).map((h) => h.type),
      ['raised'],
      'no cleared / raised-again in the history',
    );
});

t.test('restart + reconnect with the fault gone: cleared only after the clear hold', async (t) => {
  const { r, before } = await restartWithFault(t);
  const healthyAt = r.now();
  const step = 10_000;
  let clearedAt: number | null = null;
  for (let i = 0; i < 30 && clearedAt === null; i++) {
    r.service.engine.observeTelemetry('st-001', telemetry(r.now()), r.now());
    if (r.service.repo.active().length === 0) clearedAt = r.now();
    r.advance(step);
  }
  t.not(clearedAt, null, 'cleared');
  t.ok((clearedAt ?? 0) - healthyAt >= D.alarmClearHoldMs, 'not before the clear hold');
  t.ok((clearedAt ?? 0) - healthyAt <= D.alarmClearHoldMs + 2 * step, 'soon after it');
  for (const id of before)
    t.same(
      r.service.repo.history(id).map((h) => h.type),
      ['raised', 'cleared'],
      'raised once, cleared once',
    );
});

t.test("a station's own alarm restored after a restart is cleared by its alarm.cleared event", async (t) => {
  const r = await rig(t);
  const base = { storeId: 'abcdef0123456789', alarmId: 'ro-1', kind: 'filesystem_read_only' as const };
  const raised = AlarmRaisedEvent.parse({
    ...base,
    type: 'alarm.raised',
    seq: 4,
    at: new Date(r.now()).toISOString(),
    severity: 'critical',
    message: 'recordings filesystem is read-only (EROFS)',
    evidence: { mount: '/srv/recordings' },
  });
  r.service.engine.observeStationAlarm('st-009', raised);
  t.equal(r.service.repo.active()[0]?.kind, 'filesystem_read_only');
  r.restart();
  const cleared = AlarmClearedEvent.parse({
    ...base,
    type: 'alarm.cleared',
    seq: 5,
    at: new Date(r.now()).toISOString(),
  });
  r.service.engine.observeStationAlarm('st-009', cleared);
  t.same(r.service.repo.active(), [], 'cleared');
});

t.test('fleet alarms and the station alarms linked to them are stored with the link', async (t) => {
  const r = await rig(t);
  const stations = Array.from({ length: 12 }, (_, i) => `st-${100 + i}`);
  const feed = (lost: (s: string) => boolean) => {
    for (const s of stations)
      r.service.engine.observeTelemetry(s, telemetry(r.now(), [lost(s) ? { locked: false } : {}]), r.now());
  };
  feed(() => false);
  for (let i = 0; i < 12; i++) {
    feed((s) => s === 'st-100');
    r.advance(10_000);
  }
  for (let i = 0; i < 18; i++) {
    feed(() => true);
    r.advance(10_000);
  }
  const active = r.service.repo.active();
  const fleet = active.find((a) => a.kind === 'fleet_signal_lost');
  t.ok(fleet, 'fleet alarm stored');
  t.equal(fleet?.scope, 'fleet');
  t.equal(fleet?.station, null);
  const own = active.find((a) => a.kind === 'signal_lost');
  t.equal(own?.station, 'st-100');
  t.equal(own?.linkedTo, fleet?.id, 'the early station alarm points at the fleet alarm');
  t.same(
    r.service.repo.history(own?.id as string).map((h) => h.type),
    ['raised', 'linked'],
  );
  t.same(r.service.repo.countsBySeverity(), { info: 0, warning: 0, critical: 2 });
});

t.test('a listener that throws does not stop storage or the engine', async (t) => {
  const r = await rig(t);
  r.service.onTransition(() => {
    throw new Error('SSE client gone');
  });
  const seen: string[] = [];
  r.service.onTransition((tr) => seen.push(tr.type));
  r.service.engine.observeSchedule('st-001', {
    desired: { epoch: 1, n: 2 },
    applied: { epoch: 1, n: 7 },
    issued: false,
  });
  t.same(seen, ['raised']);
  t.equal(r.service.repo.active().length, 1);
  t.equal(r.service.stats().listenerFailures, 1);
});

t.test('the margin trend is rebuilt from the stored minute rows after a restart', async (t) => {
  const r = await rig(t);
  // Three days of per-minute margins as telemetry ingest stores them: st-031 falls 4 dB, its peers hold.
  const DAYS3 = 3 * 86_400_000;
  const from = r.now() - DAYS3;
  const stations = ['st-031', 'st-032', 'st-033', 'st-034'];
  const margin = (s: string, at: number) => (s === 'st-031' ? 9 - (4 * (at - from)) / DAYS3 : 7);
  const insert = r.store.db.prepare(
    `INSERT INTO telemetry_minutes (station_id, minute_ms, subject, metric, n, min, avg, max)
     VALUES (?, ?, 'rx1', 'marginDb', 6, ?, ?, ?)`,
  );
  // Only the minute rows matter here, not the registry rows they would reference.
  r.store.db.pragma('foreign_keys = OFF');
  r.store.db.transaction(() => {
    for (let m = from; m < r.now(); m += 60_000)
      for (const s of stations) {
        const v = margin(s, m);
        insert.run(s, m, v, v, v);
      }
  })();
  r.restart();
  for (let i = 0; i < 14; i++) {
    for (const s of stations)
      r.service.engine.observeTelemetry(s, telemetry(r.now(), [{ marginDb: margin(s, r.now()) }]), r.now());
    r.advance(10 * 60_000);
  }
  const trend = r.service.repo.active().filter((a) => a.kind === 'margin_trend');
  t.same(
    trend.map((a) => a.station),
    ['st-031'],
    'the decline is seen within hours of the restart, not after three days',
  );
  t.match(trend[0]?.evidence.text, /margin fell (3\.9|4\.0) dB over 3\.0 days/);
});
