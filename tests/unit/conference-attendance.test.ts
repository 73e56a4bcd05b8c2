/**
 * The live attendance board (issue 7): each target station's status — offline / schedule not applied yet /
 * scheduled / tuning / ready (locked, margin) / receiving (live margin, stream flowing) / failed (reason) —
 * derived from presence, applied version, the occurrence's reported state, the receiver reading and
 * alarms. First the pure rules, table-driven; then the board as the real fleet modules feed it.
 */
import t from 'tap';
import { type AttendanceInputs, countByCounty, deriveAttendance } from '../../headend/conferences/index.js';
import { startConferenceRig } from '../helpers/conference-rig.js';

const START = Date.parse('2026-03-05T02:00:00Z');
const base: AttendanceInputs = {
  nowMs: START - 30_000,
  conference: { startMs: START, endMs: START + 600_000, preRollMs: 20_000, record: false, cancelled: false },
  timing: { tunePreRollMs: 3000, receiverLockTimeoutMs: 3000 },
  connection: 'online',
  since: '2026-03-05T01:00:00Z',
  required: { epoch: 1, n: 5 },
  applied: { epoch: 1, n: 5 },
  rejected: null,
  occurrence: null,
  receiver: { link: 'up', locked: true, marginDb: 4.1, cnDb: 12 },
  recorder: null,
  receiverAlarm: null,
};
const at = (ms: number) => new Date(ms).toISOString();

const cases: [string, Partial<AttendanceInputs>, string, string | null][] = [
  ['disconnected', { connection: 'disconnected' }, 'offline', 'disconnected'],
  ['never heard of', { connection: 'unknown' }, 'offline', 'never_connected'],
  ['behind', { applied: { epoch: 1, n: 4 } }, 'not_applied', 'awaiting_schedule'],
  ['no document yet', { applied: null }, 'not_applied', 'awaiting_schedule'],
  ['an older epoch', { applied: { epoch: 0, n: 99 } }, 'not_applied', 'awaiting_schedule'],
  ['a newer version is fine', { applied: { epoch: 1, n: 9 } }, 'scheduled', null],
  [
    'rejected',
    { applied: { epoch: 1, n: 4 }, rejected: { code: 'INVALID', reason: 'bad' } },
    'failed',
    'schedule_rejected',
  ],
  ['applied, waiting for the pre-roll', {}, 'scheduled', null],
  [
    'tuning',
    { nowMs: START - 21_000, occurrence: { state: 'tuning', reason: null, at: at(START - 22_000) } },
    'tuning',
    null,
  ],
  [
    'no lock after the lock timeout',
    {
      nowMs: START - 15_000,
      occurrence: { state: 'tuning', reason: null, at: at(START - 22_000) },
      receiver: { link: 'up', locked: false, marginDb: null, cnDb: 3.2 },
    },
    'failed',
    'no_lock',
  ],
  [
    'receiver control link down',
    {
      nowMs: START - 21_000,
      occurrence: { state: 'tuning', reason: null, at: at(START - 22_000) },
      receiver: { link: 'down', locked: false, marginDb: null, cnDb: null },
    },
    'failed',
    'receiver_unresponsive',
  ],
  [
    'receiver alarm',
    {
      nowMs: START - 21_000,
      occurrence: { state: 'tuning', reason: null, at: at(START - 22_000) },
      receiverAlarm: 'escalated',
    },
    'failed',
    'receiver_unresponsive',
  ],
  [
    'the ladder gave up on a receiver that cannot lock',
    {
      nowMs: START - 10_000,
      occurrence: { state: 'tuning', reason: null, at: at(START - 22_000) },
      receiver: { link: 'up', locked: false, marginDb: null, cnDb: 2.9 },
      receiverAlarm: 'no-lock: re-apply did not help and this receiver has no remote reset',
    },
    'failed',
    'no_lock',
  ],
  [
    'ready (showing during pre-roll counts as ready)',
    { nowMs: START - 5000, occurrence: { state: 'showing', reason: null, at: at(START - 20_000) } },
    'ready',
    null,
  ],
  [
    'receiving',
    { nowMs: START + 5000, occurrence: { state: 'showing', reason: null, at: at(START - 20_000) } },
    'receiving',
    null,
  ],
  [
    'lock lost while running',
    {
      nowMs: START + 5000,
      occurrence: { state: 'showing', reason: null, at: at(START - 20_000) },
      receiver: { link: 'up', locked: false, marginDb: null, cnDb: 2 },
    },
    'failed',
    'lock_lost',
  ],
  [
    'recording without bytes',
    {
      nowMs: START + 5000,
      conference: { ...base.conference, record: true },
      occurrence: { state: 'recording', reason: null, at: at(START - 20_000) },
      recorder: { bitrateBps: 0, bytes: 0 },
    },
    'failed',
    'no_stream',
  ],
  ['never tuned by the start', { nowMs: START + 10_000 }, 'failed', 'not_started'],
  [
    'missed with the agent’s reason',
    { occurrence: { state: 'missed', reason: 'no_lock: no lock on cctv1', at: at(START) } },
    'failed',
    'no_lock',
  ],
  ['completed', { occurrence: { state: 'completed', reason: null, at: at(START) } }, 'ended', 'completed'],
  [
    'a final state outranks being offline',
    { connection: 'disconnected', occurrence: { state: 'completed', reason: null, at: at(START) } },
    'ended',
    'completed',
  ],
  ['cancelled and applied', { conference: { ...base.conference, cancelled: true } }, 'cancelled', null],
  [
    'cancelled, not applied yet',
    { conference: { ...base.conference, cancelled: true }, applied: { epoch: 1, n: 4 } },
    'not_applied',
    'awaiting_cancellation',
  ],
];

t.test('status rules', async (t) => {
  for (const [name, over, status, reason] of cases) {
    const row = deriveAttendance('s', { ...base, ...over });
    t.equal(row.status, status, `${name}: ${status}`);
    t.equal(row.reasonCode, reason, `${name}: reason ${reason}`);
  }
  const recording = deriveAttendance('s', {
    ...base,
    nowMs: START + 1000,
    conference: { ...base.conference, record: true },
    occurrence: { state: 'recording', reason: null, at: at(START - 20_000) },
    recorder: { bitrateBps: 400_000, bytes: 1e6 },
  });
  t.equal(recording.streaming, true, 'the recorder sees bytes: stream flowing');
  t.equal(recording.marginDb, 4.1, 'live margin');
  t.equal(
    deriveAttendance('s', { ...base, receiver: { link: 'up', locked: false, marginDb: 2, cnDb: 1 } })
      .marginDb,
    null,
    'no margin without lock',
  );
});

t.test('counts per county', async (t) => {
  const rows = ['a', 'b', 'c'].map((id, i) =>
    deriveAttendance(id, { ...base, connection: i === 0 ? 'disconnected' : 'online' }),
  );
  const c = countByCounty(rows, (id) => (id === 'c' ? 'jingning' : 'kongtong'));
  t.equal(c.all.total, 3);
  t.equal(c.all.offline, 1);
  t.equal(c.all.scheduled, 2);
  t.equal(c.counties.kongtong?.total, 2);
  t.equal(c.counties.jingning?.scheduled, 1);
});

t.test('the board follows what the stations report, and logs every change', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 60_000;
  const { conference: c } = rig.service.create(
    {
      title: '全市视频会',
      organiser: '市政府办',
      service: 'cctv1',
      start: new Date(start).toISOString(),
      end: new Date(start + 120_000).toISOString(),
      target: { type: 'counties', counties: ['kongtong'] },
      preRollMs: 20_000,
    },
    'x',
  );
  const pushed: string[] = [];
  rig.service.onRows((id, rows) => {
    if (id === c.id) pushed.push(...rows.map((r) => `${r.stationId}:${r.status}`));
  });
  const status = () => Object.fromEntries(rig.service.board(c.id).rows.map((r) => [r.stationId, r.status]));
  t.same(status(), { 'kongtong-anguo': 'offline', 'kongtong-baishui': 'offline' }, 'nobody connected yet');

  rig.birth('kongtong-anguo', { epoch: 1, n: 1 });
  rig.birth('kongtong-baishui', { epoch: 1, n: 1 });
  t.same(status(), { 'kongtong-anguo': 'not_applied', 'kongtong-baishui': 'not_applied' });
  rig.advance(400);
  rig.applied('kongtong-anguo', { epoch: 1, n: 2 });
  const seen = rig.service.applyTimes(c.id).find((x) => x.stationId === 'kongtong-anguo');
  t.equal(seen?.appliedSeenAt, new Date(rig.now()).toISOString(), 'applied seen the moment the event is in');
  t.equal(status()['kongtong-anguo'], 'scheduled');

  rig.setNow(start - 23_000);
  rig.occurrence('kongtong-anguo', c.id, c.start, 'tuning');
  rig.service.attendance.tick();
  t.equal(status()['kongtong-anguo'], 'tuning');
  rig.advance(1000);
  rig.occurrence('kongtong-anguo', c.id, c.start, 'ready');
  rig.occurrence('kongtong-anguo', c.id, c.start, 'showing');
  rig.telemetry('kongtong-anguo', { locked: true, marginDb: 3.6 });
  const ready = rig.service.board(c.id).rows.find((r) => r.stationId === 'kongtong-anguo');
  t.match(ready, { status: 'ready', marginDb: 3.6, locked: true }, 'ready, with its margin');

  rig.setNow(start + 5000);
  rig.telemetry('kongtong-anguo', { locked: true, marginDb: 3.4 });
  rig.service.attendance.tick();
  t.equal(status()['kongtong-anguo'], 'receiving');
  const board = rig.service.board(c.id);
  t.equal(board.counts.counties.kongtong?.receiving, 1, 'counts per county');
  t.equal(board.counts.all.total, 2);
  t.equal(board.rows[0]?.county, 'kongtong');

  rig.advance(10_000);
  rig.will('kongtong-anguo');
  rig.service.attendance.tick();
  t.equal(status()['kongtong-anguo'], 'offline', 'a Will shows at once');
  const log = rig.store.db
    .prepare('SELECT status FROM conference_attendance WHERE station_id = ? ORDER BY id')
    .all('kongtong-anguo') as { status: string }[];
  t.same(
    log.map((r) => r.status),
    ['tuning', 'receiving', 'offline'],
    'the log keeps each change the tracker observed (ticks are what observe)',
  );
  t.ok(pushed.includes('kongtong-anguo:receiving'), 'listeners (SSE) got the change');
});
