import t from 'tap';
import { StationEvent } from '../../protocol/messages/events.js';
import { Telemetry } from '../../protocol/messages/telemetry.js';

const base = { storeId: '0123456789abcdef', seq: 7, at: '2026-03-06T02:00:00Z' };
const ok = (v: unknown) => StationEvent.safeParse(v).success;

const manifest = () => ({
  ...base,
  type: 'recording.manifest',
  entryId: 'rec-1',
  nominalStart: '2026-03-06T01:00:00Z',
  recordingId: 'r1',
  service: 'cctv1',
  segments: [
    {
      file: 'a.ts',
      start: '2026-03-06T00:58:00Z',
      end: '2026-03-06T01:35:00Z',
      bytes: 100,
      durationMs: 2_220_000,
      ccErrors: 0,
      gaps: 0,
    },
  ],
  bytes: 100,
  durationMs: 2_220_000,
  gapsMs: 0,
  quality: 100,
  outcome: 'completed',
  clockTrusted: true,
});

t.test('one valid example of every event type', async (t) => {
  const events = [
    {
      ...base,
      type: 'occurrence.state',
      entryId: 'rec-1',
      nominalStart: '2026-03-06T01:00:00Z',
      rev: 0,
      state: 'recording',
    },
    manifest(),
    {
      ...base,
      type: 'alarm.raised',
      alarmId: 'a1',
      kind: 'lnb_fault',
      severity: 'critical',
      message: 'LNB short',
      evidence: { lnb: 'short', levelRaw: 0, allCarriers: true, note: null },
    },
    { ...base, type: 'alarm.cleared', alarmId: 'a1', kind: 'lnb_fault' },
    {
      ...base,
      type: 'telemetry.summary',
      from: '2026-03-06T01:00:00Z',
      to: '2026-03-06T01:01:00Z',
      samples: 6,
      receivers: [{ id: 'rx1', lockedRatio: 0.5, marginDb: { min: 1, avg: 2, max: 3 } }],
    },
    { ...base, type: 'schedule.applied', version: { epoch: 1, n: 2 }, hash: 'f'.repeat(64) },
    { ...base, type: 'schedule.rejected', code: 'NOT_JSON', reason: 'Unexpected token' },
    { ...base, type: 'clock.jump', deltaMs: -5000, offsetMs: null, source: 'unknown' },
    {
      ...base,
      type: 'rpc.executed',
      rid: 'r1',
      method: 'recordings.delete',
      ok: false,
      errorCode: 'NOT_FOUND',
    },
  ];
  for (const e of events) t.ok(ok(e), e.type, { issues: StationEvent.safeParse(e).error?.issues });
});

t.test('the (storeId, seq) key is mandatory and well-formed', async (t) => {
  const e = manifest();
  t.notOk(ok({ ...e, seq: 0 }), 'seq starts at 1');
  t.notOk(ok({ ...e, seq: 2.5 }));
  t.notOk(ok({ ...e, storeId: 'short' }));
  const { storeId: _s, ...noStore } = e;
  t.notOk(ok(noStore));
  t.notOk(ok({ ...e, at: '2026-03-06T10:00:00+08:00' }), 'UTC Z only');
});

t.test('unknown types and fields are refused', async (t) => {
  t.notOk(ok({ ...base, type: 'made.up' }));
  t.notOk(ok({ ...manifest(), extra: true }));
  t.notOk(ok({ ...manifest(), segments: [{ ...manifest().segments[0], pid: 256 }] }));
});

t.test('a recording manifest keeps completed-with-errors distinct and bounds quality', async (t) => {
  t.ok(ok({ ...manifest(), outcome: 'completed_with_errors', quality: 80 }));
  t.notOk(ok({ ...manifest(), outcome: 'damaged' }), 'only the registry outcomes');
  t.notOk(ok({ ...manifest(), quality: 101 }));
  t.notOk(ok({ ...manifest(), quality: -1 }));
  t.notOk(ok({ ...manifest(), clockTrusted: undefined }), 'clockTrusted must be stated');
  const seg = manifest().segments[0];
  t.notOk(
    ok({ ...manifest(), segments: [{ ...seg, end: '2026-03-06T00:00:00Z' }] }),
    'segment ends before it starts',
  );
});

t.test('stations may raise only station alarm kinds', async (t) => {
  const raised = {
    ...base,
    type: 'alarm.raised',
    alarmId: 'a1',
    severity: 'warning',
    message: 'x',
    evidence: {},
  };
  t.ok(ok({ ...raised, kind: 'disk_low' }));
  t.notOk(ok({ ...raised, kind: 'fleet_signal_lost' }), 'fleet correlation is the headend’s');
  t.notOk(ok({ ...raised, kind: 'station_offline' }));
  t.notOk(ok({ ...raised, kind: 'disk_low', severity: 'apocalyptic' }));
  t.notOk(ok({ ...raised, kind: 'disk_low', evidence: { 'bad key': 1 } }));
  t.notOk(ok({ ...raised, kind: 'disk_low', evidence: { nested: { a: 1 } } }), 'evidence is flat');
  const many = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, i]));
  t.notOk(ok({ ...raised, kind: 'disk_low', evidence: many }), 'at most 32 evidence fields');
});

t.test('telemetry summaries are consistent', async (t) => {
  const s = {
    ...base,
    type: 'telemetry.summary',
    from: '2026-03-06T01:00:00Z',
    to: '2026-03-06T01:01:00Z',
    samples: 6,
    receivers: [],
  };
  t.ok(ok(s));
  t.notOk(ok({ ...s, to: s.from }), 'empty period');
  t.notOk(ok({ ...s, to: '2026-03-06T02:00:01Z' }), 'more than an hour');
  t.notOk(ok({ ...s, diskFreeBytes: { min: 5, avg: 4, max: 6 } }), 'min ≤ avg ≤ max');
  t.notOk(ok({ ...s, receivers: [{ id: 'rx1', lockedRatio: 1.2 }] }));
});

t.test('live telemetry', async (t) => {
  const tel = {
    at: '2026-03-06T02:00:10Z',
    receivers: [
      {
        id: 'rx1',
        link: 'up',
        locked: false,
        service: null,
        level: null,
        cnDb: null,
        marginDb: null,
        ber: null,
        lnb: 'no_load',
      },
    ],
    recorders: [],
    disk: { freeBytes: 1, usedBytes: 2, quotaBytes: null },
    host: { cpuPct: 1, memUsedBytes: 1, memTotalBytes: 2 },
  };
  t.ok(Telemetry.safeParse(tel).success);
  t.notOk(Telemetry.safeParse({ ...tel, host: { ...tel.host, cpuPct: 140 } }).success);
  const r = tel.receivers[0];
  t.notOk(Telemetry.safeParse({ ...tel, receivers: [{ ...r, level: { value: 3, unit: 'mW' } }] }).success);
  t.notOk(Telemetry.safeParse({ ...tel, receivers: [{ ...r, ber: 2 }] }).success);
  t.notOk(Telemetry.safeParse({ ...tel, disk: { ...tel.disk, freeBytes: -1 } }).success);
});
