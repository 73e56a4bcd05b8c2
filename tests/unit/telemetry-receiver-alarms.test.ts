/**
 * The receiver's own named alarms in telemetry (protocol/messages/telemetry.ts `receivers[].alarms`) and
 * in the offline per-minute summaries (DESIGN.md §4): bounded so a chatty driver can never make a sample
 * invalid (the headend drops an invalid message whole), service-fault names kept first, and a scrambled
 * spell inside an offline minute still in the summary.
 */
import t from 'tap';
import { MinuteSummary, sampleTelemetry } from '../../device/link/telemetry.js';
import { TelemetrySummaryEvent } from '../../protocol/messages/events.js';
import {
  boundReceiverAlarms,
  MAX_RECEIVER_ALARMS,
  type ReceiverSignal,
  Telemetry,
} from '../../protocol/messages/telemetry.js';

const T0 = Date.UTC(2026, 10, 27, 2, 0, 0);

const rx = (alarms?: string[]): ReceiverSignal => ({
  id: 'rx1',
  link: 'up',
  locked: true,
  service: 'cctv1',
  level: null,
  cnDb: 10,
  marginDb: 3,
  ber: null,
  lnb: 'ok',
  ...(alarms ? { alarms } : {}),
});

const sample = (at: number, alarms?: string[]) =>
  sampleTelemetry({
    now: () => at,
    receivers: () => [rx(alarms)],
    recorders: () => [],
    disk: async () => ({ freeBytes: 5e9, usedBytes: 1e9, quotaBytes: 0 }),
    cpuPct: () => 12.34,
  });

t.test('boundReceiverAlarms: de-duplicated, cut, service faults first, at most 16', async (t) => {
  const noisy = [
    ...Array.from({ length: 20 }, (_, i) => `vendorAlarm${i}`),
    'scrambled',
    'x'.repeat(50),
    'scrambled',
    '',
    'serviceMissing',
  ];
  const out = boundReceiverAlarms(noisy);
  t.equal(out.length, MAX_RECEIVER_ALARMS);
  t.same(out.slice(0, 2), ['scrambled', 'serviceMissing'], 'the names the headend reads survive the cut');
  t.ok(
    out.every((n) => n.length >= 1 && n.length <= 32),
    'every name 1–32 characters',
  );
  t.same(boundReceiverAlarms([]), []);
});

t.test('a sample with a chatty driver still passes the protocol schema', async (t) => {
  const chatty = Array.from({ length: 40 }, (_, i) => `vendor-${i}-alarm-with-a-name-longer-than-allowed`);
  const s = await sample(T0, [...chatty, 'scrambled']);
  const parsed = Telemetry.safeParse(s);
  t.ok(parsed.success, parsed.success ? 'valid' : JSON.stringify(parsed.error.issues[0]));
  t.equal(s.receivers[0]?.alarms?.[0], 'scrambled');
  t.equal(s.receivers[0]?.alarms?.length, 16);
});

t.test('a receiver with no status yet carries no alarms field (unknown, not "none")', async (t) => {
  const s = await sample(T0);
  t.notOk('alarms' in (s.receivers[0] ?? {}));
  t.ok(Telemetry.safeParse(s).success);
});

t.test('offline minute summary: the union of receiver alarms seen in the minute', async (t) => {
  const m = new MinuteSummary();
  t.equal(m.add(await sample(T0 + 1000, []), T0 + 1000), null);
  t.equal(m.add(await sample(T0 + 11_000, ['scrambled']), T0 + 11_000), null);
  t.equal(m.add(await sample(T0 + 21_000, ['cnThreshold']), T0 + 21_000), null);
  const closed = m.add(await sample(T0 + 61_000, []), T0 + 61_000);
  t.ok(closed, 'the first minute closed');
  const ev = TelemetrySummaryEvent.safeParse({ ...closed, storeId: 'abcdef0123456789', seq: 1 });
  t.ok(ev.success, 'the summary passes the event schema');
  t.same(closed?.receivers[0]?.alarms, ['scrambled', 'cnThreshold']);
  // A minute of an older agent (no alarms field) says nothing about alarms.
  const old = new MinuteSummary();
  old.add(await sample(T0 + 1000), T0 + 1000);
  t.notOk('alarms' in (old.flush()?.receivers[0] ?? {}));
});
