/**
 * The conference service over the real store and scheduling (issue 7 "Conferences"): each change issues
 * new documents to exactly its targets, keeps the occurrence's identity when the end moves (extend / end
 * early), is audited with before/after, refuses what the conference's state does not allow with a typed
 * error, and warns about predicted sun outages at target stations (DOMAIN.md §2).
 */
import t, { type Test } from 'tap';
import { ConferenceError } from '../../headend/conferences/index.js';
import { ScheduleDocument } from '../../protocol/messages/schedule.js';
import { plan } from '../../protocol/planner/plan.js';
import { RIG_STATIONS, startConferenceRig } from '../helpers/conference-rig.js';

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIN = 60_000;
const ALL = RIG_STATIONS.map((s) => s.id);

/** The conference entry in a station's newest document. */
function docEntry(rig: ReturnType<typeof startConferenceRig>, stationId: string, id: string) {
  const d = rig.store.schedules.latest(stationId);
  if (!d) return undefined;
  return ScheduleDocument.parse(JSON.parse(d.doc.toString('utf8'))).entries.find((e) => e.id === id);
}

function rejects(t: Test, fn: () => unknown, code: string, match: RegExp) {
  try {
    fn();
    t.fail(`expected ${code}`);
  } catch (err) {
    t.ok(err instanceof ConferenceError, 'a ConferenceError');
    t.equal((err as ConferenceError).code, code);
    t.match((err as Error).message, match);
  }
}

t.test(
  'create pushes a conference entry to every target, audited, with the version each needs',
  async (t) => {
    const rig = startConferenceRig();
    t.teardown(() => rig.close());
    const start = rig.now() + 2 * 3_600_000;
    const r = rig.service.create(
      {
        title: '全市春耕生产视频会',
        organiser: '市农业农村局',
        service: 'cctv1',
        start: iso(start),
        end: iso(start + 60 * MIN),
        target: { type: 'counties', counties: ['kongtong', 'jingning'] },
        record: true,
        notes: '请各乡镇提前 10 分钟到位',
      },
      'http:control',
    );
    const c = r.conference;
    t.same(c.stations, ['jingning-weirong', 'kongtong-anguo', 'kongtong-baishui'], 'the two counties');
    t.equal(c.phase, 'scheduled');
    t.equal(c.preRollMs, 5000, 'the profile’s pre-roll (short profile) when none is given');
    t.same(r.issued.map((i) => i.stationId).sort(), c.stations, 'exactly the targets got documents');
    t.same(rig.published.sort(), c.stations, '…and they were published');
    for (const id of c.stations) {
      const e = docEntry(rig, id, c.id);
      t.equal(e?.kind, 'conference', `${id}: the document carries the conference`);
      t.equal(e?.class, 'conference');
      t.equal(e?.record, true);
    }
    t.notOk(docEntry(rig, 'chongxin-jinping', c.id), 'a station outside the target does not get it');
    const times = rig.service.applyTimes(c.id);
    t.same(
      times.map((x) => x.stationId),
      c.stations,
    );
    for (const x of times) {
      t.same(
        rig.store.schedules.latest(x.stationId)?.version,
        { epoch: 1, n: 2 },
        `${x.stationId}: required = the new version`,
      );
    }
    const audit = rig.store.audit.list({ target: `conference:${c.id}` });
    t.equal(audit[0]?.action, 'conference.create');
    t.equal(audit[0]?.actor, 'http:control');
    t.match(audit[0]?.details, { after: { organiser: '市农业农村局', record: true } });
    t.ok(
      rig.store.audit.list({ target: `entry:${c.id}` }).some((a) => a.action === 'entry.create'),
      'the entry change is audited too',
    );
  },
);

t.test('extend and end early move the end in place; start now moves the start', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 10 * MIN;
  const { conference: c } = rig.service.create(
    {
      title: '县乡干部大会',
      organiser: '县委办',
      service: 'cctv1',
      start: iso(start),
      end: iso(start + 30 * MIN),
      target: { type: 'all' },
    },
    'http:control',
  );
  rejects(t, () => rig.service.endNow(c.id, 'http:control'), 'CONFLICT', /not started yet: cancel it/);

  const s1 = rig.service.startNow(c.id, 'http:control');
  t.equal(s1.conference.start, iso(Math.ceil(rig.now() / 1000) * 1000), 'starts now');
  t.equal(s1.conference.end, iso(start + 30 * MIN), 'the end stays');
  t.equal(s1.conference.phase, 'live');
  rejects(t, () => rig.service.startNow(c.id, 'http:control'), 'CONFLICT', /already started/);

  rig.advance(5 * MIN);
  const before = rig.store.schedules.latest('kongtong-anguo')?.version;
  const x = rig.service.extend(c.id, { minutes: 15 }, 'http:control');
  t.equal(x.conference.end, iso(start + 45 * MIN), 'extended by 15 min');
  t.equal(x.issued.length, ALL.length, 'every target gets the new end');
  const e = docEntry(rig, 'kongtong-anguo', c.id);
  t.same(
    e?.when,
    { type: 'once', start: s1.conference.start, end: iso(start + 45 * MIN) },
    'same start: same occurrence',
  );
  t.equal(e?.rev, 3, 'the entry revision grows');
  t.not(rig.store.schedules.latest('kongtong-anguo')?.version.n, before?.n, 'a newer document');
  t.match(rig.store.audit.list({ target: `conference:${c.id}` })[0], {
    action: 'conference.extend',
    details: { from: iso(start + 30 * MIN), to: iso(start + 45 * MIN) },
  });
  rejects(
    t,
    () => rig.service.extend(c.id, { end: iso(start) }, 'http:control'),
    'INVALID_INPUT',
    /not after/,
  );
  rejects(
    t,
    () => rig.service.update(c.id, { service: 'gstv' }, 'http:control'),
    'CONFLICT',
    /running: its service/,
  );
  const renamed = rig.service.update(
    c.id,
    { notes: '会议延长', title: '县乡干部大会（续）' },
    'http:control',
  );
  t.equal(renamed.conference.title, '县乡干部大会（续）', 'titles may change while it runs');

  rig.advance(MIN);
  const ended = rig.service.endNow(c.id, 'http:control');
  t.equal(ended.conference.end, iso(Math.ceil(rig.now() / 1000) * 1000), 'ends now');
  t.equal(ended.conference.phase, 'ended');
  t.ok(ended.conference.endedEarlyAt, 'marked as ended early');
  rejects(t, () => rig.service.cancel(c.id, 'http:control'), 'CONFLICT', /already ended/);
  rejects(t, () => rig.service.extend(c.id, { minutes: 5 }, 'http:control'), 'CONFLICT', /already ended/);
});

t.test('cancel removes the conference from every target', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 60 * MIN;
  const { conference: c } = rig.service.create(
    {
      title: '防汛调度会',
      organiser: '市应急管理局',
      service: 'gstv',
      start: iso(start),
      end: iso(start + 20 * MIN),
      target: { type: 'stations', stationIds: ['kongtong-anguo', 'chongxin-jinping'] },
    },
    'http:control',
  );
  const r = rig.service.cancel(c.id, 'http:control');
  t.equal(r.conference.phase, 'cancelled');
  t.same(r.issued.map((i) => i.stationId).sort(), ['chongxin-jinping', 'kongtong-anguo']);
  t.notOk(docEntry(rig, 'kongtong-anguo', c.id), 'gone from the document');
  t.same(
    rig.service.applyTimes(c.id).map((x) => x.stationId),
    ['chongxin-jinping', 'kongtong-anguo'],
    'the targets stay listed (the board shows them dropping it)',
  );
  rejects(t, () => rig.service.cancel(c.id, 'http:control'), 'CONFLICT', /was cancelled/);
  rejects(t, () => rig.service.extend(c.id, { minutes: 5 }, 'http:control'), 'CONFLICT', /was cancelled/);
  t.equal(rig.store.audit.list({ target: `conference:${c.id}` })[0]?.action, 'conference.cancel');
});

t.test('bad input is a typed error naming the field', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 60 * MIN;
  const base = {
    title: '会',
    organiser: '市政府',
    service: 'cctv1',
    start: iso(start),
    end: iso(start + MIN),
    target: { type: 'all' },
  };
  rejects(
    t,
    () => rig.service.create({ ...base, end: iso(start - MIN) }, 'x'),
    'INVALID_INPUT',
    /end: end must be after start/,
  );
  rejects(t, () => rig.service.create({ ...base, title: '  ' }, 'x'), 'INVALID_INPUT', /title/);
  rejects(
    t,
    () => rig.service.create({ ...base, start: iso(rig.now() - 3_600_000), end: iso(rig.now() + MIN) }, 'x'),
    'INVALID_INPUT',
    /start: in the past/,
  );
  rejects(
    t,
    () => rig.service.create({ ...base, target: { type: 'counties', counties: ['atlantis'] } }, 'x'),
    'NOT_FOUND',
    /no county atlantis/,
  );
  t.throws(
    () => rig.service.create({ ...base, service: 'nope' }, 'x'),
    /not in the line-up/,
    'unknown service',
  );
  rejects(t, () => rig.service.extend('conf-nope', { minutes: 5 }, 'x'), 'NOT_FOUND', /no conference/);
  t.equal(rig.service.list().length, 0, 'nothing half-saved');
});

t.test('sun-outage warning when the conference falls in a station’s predicted window', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  // DOMAIN.md §2: Pingliang → 115.5°E peaks about 6 March near 12:25 Beijing time (04:25 UTC).
  const inside = rig.service.create(
    {
      title: '午间调度会',
      organiser: '市政府',
      service: 'cctv1',
      start: '2026-03-06T04:10:00Z',
      end: '2026-03-06T04:40:00Z',
      target: { type: 'all' },
    },
    'x',
  ).conference;
  t.same(
    [...new Set(inside.warnings.map((w) => w.stationId))].sort(),
    [...ALL].sort(),
    'every station (all have coordinates) is warned',
  );
  for (const w of inside.warnings) {
    t.ok(
      w.start < '2026-03-06T04:40:00Z' && w.end > '2026-03-06T04:10:00Z',
      `${w.stationId}: window overlaps`,
    );
  }
  const evening = rig.service.create(
    {
      title: '晚间会',
      organiser: '市政府',
      service: 'cctv1',
      start: '2026-03-06T12:00:00Z',
      end: '2026-03-06T13:00:00Z',
      target: { type: 'all' },
    },
    'x',
  ).conference;
  t.same(evening.warnings, [], 'no warning at night');
});

t.test('an operator recording that collides is cut, naming the conference, before it happens', async (t) => {
  const rig = startConferenceRig();
  t.teardown(() => rig.close());
  const start = rig.now() + 2 * 3_600_000;
  const rec = rig.scheduling.create(
    {
      kind: 'recording',
      title: '致富经',
      service: 'gstv',
      padBeforeMs: 0,
      padAfterMs: 0,
      when: { type: 'once', start: iso(start - 30 * MIN), end: iso(start + 30 * MIN) },
      target: { type: 'station', stationId: 'kongtong-anguo' },
    },
    'http:anguo',
  ).entry;
  const { conference: c } = rig.service.create(
    {
      title: '全市视频会',
      organiser: '市政府办',
      service: 'cctv1',
      start: iso(start),
      end: iso(start + 60 * MIN),
      target: { type: 'all' },
      preRollMs: 0,
    },
    'http:control',
  );
  const d = rig.store.schedules.latest('kongtong-anguo');
  const doc = ScheduleDocument.parse(JSON.parse(d?.doc.toString('utf8') ?? '{}'));
  const p = plan(doc, { from: iso(start - 3_600_000), to: iso(start + 3_600_000) });
  const o = p.occurrences.find((x) => x.entryId === rec.id);
  t.equal(o?.outcome, 'truncated', 'the recording is cut where the conference takes the receiver');
  t.match(
    o?.reason,
    { code: 'truncated-by', by: { entryId: c.id, title: '全市视频会' } },
    'naming the conference',
  );
  t.equal(
    p.occurrences.find((x) => x.entryId === c.id)?.outcome,
    'planned',
    'the conference (the highest class) runs',
  );
});
