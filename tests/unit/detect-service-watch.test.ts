/**
 * The station's hold/clear logic for stream faults (device/detect/): HeldCondition table-driven on a fake
 * timeline, AlarmSlots (two detectors, one alarm), and the service watch on a fake clock — raised after
 * the hold, cleared after the clear hold, never for an idle receiver, dropped when the receiver is released.
 */
import pino from 'pino';
import t from 'tap';
import { AlarmSlots } from '../../device/detect/alarm-slots.js';
import { HeldCondition } from '../../device/detect/held-condition.js';
import { ServiceWatch, serviceFindings, type WatchedReceiver } from '../../device/detect/service-watch.js';
import type { Clock } from '../../device/link/clock.js';
import type { ReceiverStatus } from '../../device/receiver/driver.js';

const steps: [string, [boolean, number][], (string | null)[]][] = [
  [
    'raised after the hold',
    [
      [true, 0],
      [true, 500],
      [true, 1000],
    ],
    [null, null, 'raise'],
  ],
  [
    'a blip shorter than the hold raises nothing',
    [
      [true, 0],
      [false, 500],
      [true, 900],
      [true, 1500],
    ],
    [null, null, null, null],
  ],
  [
    'cleared after the clear hold',
    [
      [true, 0],
      [true, 1000],
      [false, 1200],
      [false, 2100],
      [false, 2200],
    ],
    [null, 'raise', null, null, 'clear'],
  ],
  [
    'a gap shorter than the clear hold keeps it raised',
    [
      [true, 0],
      [true, 1000],
      [false, 1200],
      [true, 1800],
      [false, 2500],
      [false, 3400],
    ],
    [null, 'raise', null, null, null, null],
  ],
];
for (const [name, obs, want] of steps) {
  t.test(`HeldCondition: ${name}`, async (t) => {
    const c = new HeldCondition(1000, 1000);
    t.same(
      obs.map(([present, at]) => c.observe(present, at)),
      want,
    );
  });
}

t.test('HeldCondition: a window that was bad throughout counts from its start', async (t) => {
  const c = new HeldCondition(1000, 1000);
  t.equal(c.observe(true, 5000, 3000), 'raise', 'a 2 s black window already covers the 1 s hold');
  t.equal(c.since, 3000);
  t.equal(c.reset(), 'clear');
  t.equal(c.reset(), null);
});

t.test('AlarmSlots: two sources, one alarm, cleared when both cleared', async (t) => {
  const events: string[] = [];
  const slots = new AlarmSlots({
    raise: (k, m, _e, rx) => events.push(`raise ${k} ${rx} ${m}`),
    clear: (k, _e, rx) => events.push(`clear ${k} ${rx}`),
  });
  slots.raise('scrambled', 'rx1', 'status', 'CA status', {});
  slots.raise('scrambled', 'rx1', 'content', 'no video', {});
  slots.clear('scrambled', 'rx1', 'status', {});
  t.ok(slots.isRaised('scrambled', 'rx1'), 'still raised: content still sees it');
  slots.clear('scrambled', 'rx1', 'content', {});
  slots.clear('scrambled', 'rx1', 'content', {});
  t.same(events, ['raise scrambled rx1 CA status', 'clear scrambled rx1']);
});

const status = (over: Partial<ReceiverStatus>): ReceiverStatus => ({
  locked: true,
  levelRaw: 120,
  cnDb: 10,
  marginDb: 6,
  ber: 0,
  alarms: [],
  lnb: 'ok',
  tuned: null,
  serviceId: 101,
  ...over,
});

t.test('serviceFindings: only a locked receiver says anything about the service', async (t) => {
  t.same(serviceFindings(status({ alarms: ['scrambled'] })), { scrambled: true, serviceMissing: false });
  t.same(serviceFindings(status({ alarms: ['serviceMissing'] })), { scrambled: false, serviceMissing: true });
  t.same(
    serviceFindings(status({ alarms: ['serviceMissing', 'scrambled'] })),
    {
      scrambled: false,
      serviceMissing: true,
    },
    'a missing service is not also scrambled',
  );
  t.same(serviceFindings(status({ locked: false, alarms: ['scrambled'] })), {
    scrambled: false,
    serviceMissing: false,
  });
  t.same(serviceFindings(null), { scrambled: false, serviceMissing: false });
});

function fakeClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  let timers: { at: number; fn: () => void }[] = [];
  return {
    now: () => 1_700_000_000_000 + now,
    monotonic: () => now,
    schedule(ms, fn) {
      const timer = { at: now + ms, fn };
      timers.push(timer);
      return () => {
        timers = timers.filter((x) => x !== timer);
      };
    },
    advance(ms) {
      const end = now + ms;
      for (;;) {
        const next = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0];
        if (!next) break;
        timers = timers.filter((x) => x !== next);
        now = next.at;
        next.fn();
      }
      now = end;
    },
  };
}

t.test('ServiceWatch: scrambled after the hold, cleared after, nothing for an idle receiver', async (t) => {
  const clock = fakeClock();
  const events: { what: string; kind: string; message?: string; evidence?: object }[] = [];
  const rx: { id: string; service: string | null; lastStatus: ReceiverStatus | null } = {
    id: 'rx1',
    service: null,
    lastStatus: status({ alarms: ['scrambled'] }),
  };
  const notes: string[] = [];
  const watch = new ServiceWatch({
    receivers: () => [rx as WatchedReceiver],
    serviceIdOf: (s) => (s === 'cctv1' ? 101 : null),
    slots: new AlarmSlots({
      raise: (kind, message, evidence) => events.push({ what: 'raise', kind, message, evidence }),
      clear: (kind) => events.push({ what: 'clear', kind }),
    }),
    clock,
    now: () => clock.now(),
    timing: { receiverPollMs: 300, alarmRaiseHoldMs: 1000, alarmClearHoldMs: 1000 },
    logger: pino({ level: 'silent' }),
    onActive: (kind, id) => notes.push(`${kind}@${id}`),
  });
  watch.start();
  clock.advance(5000);
  t.same(events, [], 'an idle receiver reporting scrambled raises nothing');
  rx.service = 'cctv1';
  clock.advance(900);
  t.same(events, [], 'not before the hold');
  clock.advance(900);
  t.equal(events.length, 1);
  t.equal(events[0]?.kind, 'scrambled');
  t.match(events[0]?.message, /^rx1 reports cctv1 \(service id 101\) scrambled since \d{4}-\d\d-\d\dT/);
  t.match(events[0]?.evidence, { receiver: 'rx1', service: 'cctv1', serviceId: 101 });
  t.ok(notes.includes('scrambled@rx1'), 'running recordings are told while it is raised');
  rx.lastStatus = status({});
  clock.advance(600);
  t.equal(events.length, 1, 'not cleared before the clear hold');
  clock.advance(900);
  t.same(
    events.map((e) => `${e.what} ${e.kind}`),
    ['raise scrambled', 'clear scrambled'],
  );
  rx.lastStatus = status({ alarms: ['serviceMissing'] });
  clock.advance(1500);
  t.equal(events.at(-1)?.kind, 'service_missing');
  rx.service = null;
  clock.advance(300);
  t.same(events.at(-1), { what: 'clear', kind: 'service_missing' }, 'released: dropped at once');
  watch.stop();
  rx.service = 'cctv1';
  const n = events.length;
  clock.advance(5000);
  t.equal(events.length, n, 'stopped: no more checks');
});
