/**
 * The schedule document schema (protocol/messages/schedule.ts, DESIGN.md §4–5): a document the planner
 * cannot plan unambiguously is refused with an issue at the exact path an editor would fix.
 */
import t from 'tap';
import { z } from 'zod';
import { ScheduleDocument, type ScheduleDocumentInput } from '../../protocol/messages/schedule.js';
import { conference, once, recording, SAMPLE_TUNING } from '../helpers/golden.js';

const good = (): ScheduleDocumentInput => ({
  version: { epoch: 3, n: 41 },
  issuedAt: '2026-03-01T08:00:00Z',
  plannerVersion: 1,
  timeZone: 'Asia/Shanghai',
  receivers: [
    { id: 'r1', sharing: 'service' },
    { id: 'r2', sharing: 'transponder' },
  ],
  tuning: SAMPLE_TUNING,
  entries: [
    recording({
      id: 'news',
      service: 'cctv1',
      padBeforeMs: 120_000,
      padAfterMs: 300_000,
      keep: 5,
      when: {
        type: 'weekly',
        weekdays: [1, 2, 3, 4, 5],
        startLocal: '19:00',
        durationMin: 30,
        from: '2026-03-02',
      },
    }),
    conference({
      id: 'meeting',
      service: 'gstv',
      receiverId: 'r2',
      preRollMs: 300_000,
      record: false,
      when: once('2026-03-06T02:00:00Z', '2026-03-06T04:00:00Z'),
    }),
    recording(
      {
        id: 'series',
        service: 'cctv2',
        when: {
          type: 'occurrences',
          items: [
            { start: '2026-03-07T12:00:00Z', end: '2026-03-07T12:45:00Z', programmeId: 'x1', title: 'Ep. 1' },
          ],
        },
      },
      'mandated',
    ),
  ],
});

/** The paths (joined with '.') of every issue the schema reports for `doc`. */
function issuePaths(doc: unknown): string[] {
  const r = ScheduleDocument.safeParse(doc);
  return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
}

/** A copy of the good document with `edit` applied to it. */
function edited(edit: (d: ScheduleDocumentInput & Record<string, unknown>) => void): unknown {
  const d = structuredClone(good()) as ScheduleDocumentInput & Record<string, unknown>;
  edit(d);
  return d;
}

const entry = (d: ScheduleDocumentInput, i: number) =>
  d.entries[i] as Record<string, unknown> & { when: Record<string, unknown> };

t.test('a complete document parses; types come from the schema', async (t) => {
  const r = ScheduleDocument.safeParse(good());
  t.ok(r.success, r.success ? 'parsed' : z.prettifyError(r.error));
  if (r.success) {
    t.equal(r.data.tuning.cctv1?.transponder.rolloff, '0.35', 'tuning defaults are filled in');
    t.equal(r.data.entries.length, 3);
  }
});

t.test('refusals carry the path to fix', async (t) => {
  const cases: {
    name: string;
    edit: (d: ScheduleDocumentInput & Record<string, unknown>) => void;
    path: string;
  }[] = [
    {
      name: 'an entry whose service has no tuning',
      edit: (d) => {
        entry(d, 0).service = 'cctv5';
      },
      path: 'entries.0.service',
    },
    {
      name: 'two entries with one id',
      edit: (d) => {
        entry(d, 1).id = 'news';
      },
      path: 'entries.1.id',
    },
    {
      name: 'a pin to an undeclared receiver',
      edit: (d) => {
        entry(d, 0).receiverId = 'r9';
      },
      path: 'entries.0.receiverId',
    },
    {
      name: 'two receivers with one id',
      edit: (d) => {
        d.receivers[1]!.id = 'r1';
      },
      path: 'receivers.1.id',
    },
    {
      name: 'no receiver at all',
      edit: (d) => {
        d.receivers = [];
      },
      path: 'receivers',
    },
    {
      name: 'an unknown sharing mode',
      edit: (d) => {
        (d.receivers[0] as Record<string, unknown>).sharing = 'mux';
      },
      path: 'receivers.0.sharing',
    },
    {
      name: 'tuning filed under another key',
      edit: (d) => {
        d.tuning = { ...d.tuning, cctv1: { ...SAMPLE_TUNING.cctv2!, key: 'cctv2' } };
      },
      path: 'tuning.cctv1.key',
    },
    {
      name: 'an unknown time zone',
      edit: (d) => {
        d.timeZone = 'Asia/Pingliang';
      },
      path: 'timeZone',
    },
    {
      name: 'a timestamp with an offset',
      edit: (d) => {
        d.issuedAt = '2026-03-01T16:00:00+08:00';
      },
      path: 'issuedAt',
    },
    {
      name: 'planner version 0',
      edit: (d) => {
        d.plannerVersion = 0;
      },
      path: 'plannerVersion',
    },
    {
      name: 'an unknown top-level field',
      edit: (d) => {
        d.extra = 1;
      },
      path: '',
    },
    {
      name: 'an unknown entry field',
      edit: (d) => {
        entry(d, 0).colour = 'red';
      },
      path: 'entries.0',
    },
    {
      name: 'pre-roll on a recording',
      edit: (d) => {
        entry(d, 0).preRollMs = 1000;
      },
      path: 'entries.0',
    },
    {
      name: 'a conference missing its pre-roll',
      edit: (d) => {
        delete entry(d, 1).preRollMs;
      },
      path: 'entries.1.preRollMs',
    },
    {
      name: 'a recording in the conference class',
      edit: (d) => {
        entry(d, 0).class = 'conference';
      },
      path: 'entries.0.class',
    },
    {
      name: 'a conference in the operator class',
      edit: (d) => {
        entry(d, 1).class = 'operator';
      },
      path: 'entries.1.class',
    },
    {
      name: 'a recording that does not record',
      edit: (d) => {
        entry(d, 0).record = false;
      },
      path: 'entries.0.record',
    },
    {
      name: 'a fractional priority',
      edit: (d) => {
        entry(d, 0).priority = 0.5;
      },
      path: 'entries.0.priority',
    },
    {
      name: 'negative padding',
      edit: (d) => {
        entry(d, 0).padBeforeMs = -1;
      },
      path: 'entries.0.padBeforeMs',
    },
    {
      name: 'padding over two hours',
      edit: (d) => {
        entry(d, 0).padAfterMs = 3 * 3_600_000;
      },
      path: 'entries.0.padAfterMs',
    },
    {
      name: 'keep 0',
      edit: (d) => {
        entry(d, 0).keep = 0;
      },
      path: 'entries.0.keep',
    },
    {
      name: 'a one-off ending before it starts',
      edit: (d) => {
        entry(d, 1).when = once('2026-03-06T04:00:00Z', '2026-03-06T02:00:00Z');
      },
      path: 'entries.1.when.end',
    },
    {
      name: 'a one-off of zero length',
      edit: (d) => {
        entry(d, 1).when = once('2026-03-06T04:00:00Z', '2026-03-06T04:00:00Z');
      },
      path: 'entries.1.when.end',
    },
    {
      name: 'a one-off longer than 24 h',
      edit: (d) => {
        entry(d, 1).when = once('2026-03-06T04:00:00Z', '2026-03-07T04:00:01Z');
      },
      path: 'entries.1.when.end',
    },
    {
      name: 'a repeated weekday',
      edit: (d) => {
        entry(d, 0).when.weekdays = [1, 1];
      },
      path: 'entries.0.when.weekdays',
    },
    {
      name: 'weekday 0',
      edit: (d) => {
        entry(d, 0).when.weekdays = [0];
      },
      path: 'entries.0.when.weekdays.0',
    },
    {
      name: 'no weekday',
      edit: (d) => {
        entry(d, 0).when.weekdays = [];
      },
      path: 'entries.0.when.weekdays',
    },
    {
      name: 'a local time of 24:00',
      edit: (d) => {
        entry(d, 0).when.startLocal = '24:00';
      },
      path: 'entries.0.when.startLocal',
    },
    {
      name: 'a local time without minutes',
      edit: (d) => {
        entry(d, 0).when.startLocal = '7';
      },
      path: 'entries.0.when.startLocal',
    },
    {
      name: 'a weekly slot over 24 h',
      edit: (d) => {
        entry(d, 0).when.durationMin = 1441;
      },
      path: 'entries.0.when.durationMin',
    },
    {
      name: 'a weekly slot of 0 min',
      edit: (d) => {
        entry(d, 0).when.durationMin = 0;
      },
      path: 'entries.0.when.durationMin',
    },
    {
      name: '30 February',
      edit: (d) => {
        entry(d, 0).when.from = '2026-02-30';
      },
      path: 'entries.0.when.from',
    },
    {
      name: 'until before from',
      edit: (d) => {
        entry(d, 0).when.until = '2026-03-01';
      },
      path: 'entries.0.when.until',
    },
    {
      name: 'two guide items starting at one instant',
      edit: (d) => {
        const items = entry(d, 2).when.items as unknown[];
        items.push({ start: '2026-03-07T12:00:00.000Z', end: '2026-03-07T13:00:00Z' });
      },
      path: 'entries.2.when.items.1.start',
    },
    {
      name: 'a guide entry with no items',
      edit: (d) => {
        entry(d, 2).when.items = [];
      },
      path: 'entries.2.when.items',
    },
    {
      name: 'an unknown rule type',
      edit: (d) => {
        entry(d, 0).when = { type: 'monthly' };
      },
      path: 'entries.0.when.type',
    },
  ];
  for (const c of cases) {
    const paths = issuePaths(edited(c.edit));
    t.ok(paths.includes(c.path), `${c.name} → ${c.path} (got ${JSON.stringify(paths)})`);
  }
});

t.test('bounds: entries and occurrence items are capped', async (t) => {
  const many = edited((d) => {
    d.entries = Array.from({ length: 501 }, (_, i) =>
      recording({
        id: `e${i}`,
        service: 'cctv1',
        when: once('2026-03-06T02:00:00Z', '2026-03-06T03:00:00Z'),
      }),
    );
  });
  t.ok(issuePaths(many).includes('entries'), '501 entries refused');
  const items = edited((d) => {
    entry(d, 2).when.items = Array.from({ length: 501 }, (_, i) => ({
      start: new Date(Date.parse('2026-03-06T00:00:00Z') + i * 3_600_000).toISOString(),
      end: new Date(Date.parse('2026-03-06T00:30:00Z') + i * 3_600_000).toISOString(),
    }));
  });
  t.ok(issuePaths(items).includes('entries.2.when.items'), '501 guide items refused');
});
