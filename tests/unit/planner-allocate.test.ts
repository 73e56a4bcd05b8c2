/**
 * Allocation rules of DESIGN.md §5, table-driven: priority classes and the order inside a class, sharing
 * by key, pre-emption into parts, soft padding, receiver choice and pins; then window independence and
 * the planner's typed errors.
 */
import t from 'tap';
import type { ScheduleDocumentInput } from '../../protocol/messages/schedule.js';
import {
  describeOutcome,
  isPlannerVersionSupported,
  occurrenceKey,
  type PlannedOccurrence,
  PlannerError,
  plan,
} from '../../protocol/planner/index.js';
import { conference, once, recording, scheduleDocument } from '../helpers/golden.js';

const MIN = 60_000;
const DAY = { from: '2026-03-06T00:00:00Z', to: '2026-03-07T00:00:00Z' };
const at = (hhmm: string) => `2026-03-06T${hhmm}:00Z`;
const slot = (a: string, b: string) => once(at(a), at(b));
type Entry = ScheduleDocumentInput['entries'][number];
const TWO_RX: ScheduleDocumentInput['receivers'] = [
  { id: 'r1', sharing: 'service' },
  { id: 'r2', sharing: 'service' },
];

/** `id outcome[ by X] @rx [hh:mm-hh:mm …]`: what an operator reads in the preview. */
function line(o: PlannedOccurrence): string {
  const hm = (s: string) => s.slice(11, 16);
  const words = {
    'shared-with': 'with',
    'truncated-by': 'by',
    'dropped-by': 'by',
    'padding-cut-by': 'padding',
  };
  const by = o.reason === null ? '' : ` ${words[o.reason.code]} ${o.reason.by.entryId}`;
  return `${o.entryId} ${o.outcome}${by} @${o.receiverId} [${o.parts.map((p) => `${hm(p.start)}-${hm(p.end)}`).join(' ')}]`;
}

function lines(entries: Entry[], receivers?: ScheduleDocumentInput['receivers']): string[] {
  const doc = scheduleDocument(receivers === undefined ? { entries } : { entries, receivers });
  return plan(doc, DAY).occurrences.map(line);
}

const created = (day: number) => `2026-02-${String(day).padStart(2, '0')}T00:00:00Z`;

t.test('priority: class first, then explicit priority, then earlier creation, then id', async (t) => {
  const cases: { name: string; entries: Entry[]; want: string[] }[] = [
    {
      name: 'mandated beats operator whatever their priority and age',
      entries: [
        recording({
          id: 'op',
          service: 'gstv',
          priority: 1000,
          createdAt: created(1),
          when: slot('11:00', '12:00'),
        }),
        recording(
          {
            id: 'man',
            service: 'cctv1',
            priority: -1000,
            createdAt: created(9),
            when: slot('11:30', '12:30'),
          },
          'mandated',
        ),
      ],
      want: ['op truncated by man @r1 [11:00-11:30]', 'man planned @r1 [11:30-12:30]'],
    },
    {
      name: 'conference beats mandated',
      entries: [
        recording({ id: 'man', service: 'gstv', priority: 1000, when: slot('11:00', '12:00') }, 'mandated'),
        conference({ id: 'conf', service: 'cctv1', createdAt: created(9), when: slot('11:15', '11:45') }),
      ],
      want: ['man truncated by conf @r1 [11:00-11:15 11:45-12:00]', 'conf planned @r1 [11:15-11:45]'],
    },
    {
      name: 'inside a class, higher priority beats earlier creation',
      entries: [
        recording({
          id: 'old',
          service: 'gstv',
          priority: 0,
          createdAt: created(1),
          when: slot('11:00', '12:00'),
        }),
        recording({
          id: 'new',
          service: 'cctv1',
          priority: 1,
          createdAt: created(9),
          when: slot('11:30', '12:30'),
        }),
      ],
      want: ['old truncated by new @r1 [11:00-11:30]', 'new planned @r1 [11:30-12:30]'],
    },
    {
      name: 'same priority: the earlier-created entry wins',
      entries: [
        recording({ id: 'a-new', service: 'gstv', createdAt: created(9), when: slot('11:00', '12:00') }),
        recording({ id: 'z-old', service: 'cctv1', createdAt: created(1), when: slot('11:30', '12:30') }),
      ],
      want: ['a-new truncated by z-old @r1 [11:00-11:30]', 'z-old planned @r1 [11:30-12:30]'],
    },
    {
      name: 'all equal: the smaller id wins',
      entries: [
        recording({ id: 'b', service: 'gstv', when: slot('11:00', '12:00') }),
        recording({ id: 'a', service: 'cctv1', when: slot('11:30', '12:30') }),
      ],
      want: ['b truncated by a @r1 [11:00-11:30]', 'a planned @r1 [11:30-12:30]'],
    },
  ];
  for (const c of cases) t.same(lines(c.entries), c.want, c.name);
});

t.test('sharing keys and pre-emption on one receiver', async (t) => {
  const cases: {
    name: string;
    entries: Entry[];
    receivers?: ScheduleDocumentInput['receivers'];
    want: string[];
  }[] = [
    {
      name: 'same service on a decoder receiver shares',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'cctv1', createdAt: created(2), when: slot('11:30', '12:30') }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b shared with a @r1 [11:30-12:30]'],
    },
    {
      name: 'two services of one transponder do NOT share a decoder (service) receiver',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'cctv2', createdAt: created(2), when: slot('11:30', '12:30') }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b truncated by a @r1 [12:00-12:30]'],
    },
    {
      name: 'they do share a whole-TS (transponder) receiver',
      receivers: [{ id: 'ts', sharing: 'transponder' }],
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'cctv2', createdAt: created(2), when: slot('11:30', '12:30') }),
      ],
      want: ['a planned @ts [11:00-12:00]', 'b shared with a @ts [11:30-12:30]'],
    },
    {
      name: 'a lower occurrence wholly inside a higher one on another key is dropped',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'gstv', createdAt: created(2), when: slot('11:15', '11:45') }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b dropped by a @r1 []'],
    },
    {
      name: 'a higher occurrence in the middle cuts a lower one into two parts',
      entries: [
        recording({ id: 'low', service: 'gstv', when: slot('10:00', '12:00') }),
        recording({ id: 'high', service: 'cctv1', when: slot('10:30', '11:00') }, 'mandated'),
      ],
      want: ['low truncated by high @r1 [10:00-10:30 11:00-12:00]', 'high planned @r1 [10:30-11:00]'],
    },
    {
      name: 'a conference shown only (record: false) still holds the receiver',
      entries: [
        recording({ id: 'rec', service: 'gstv', when: slot('10:00', '11:00') }),
        conference({ id: 'conf', service: 'cctv1', record: false, when: slot('10:30', '11:30') }),
      ],
      want: ['rec truncated by conf @r1 [10:00-10:30]', 'conf planned @r1 [10:30-11:30]'],
    },
    {
      name: 'the reason names the holder that took the most time when two did',
      entries: [
        recording({ id: 'low', service: 'gstv', createdAt: created(9), when: slot('10:00', '12:00') }),
        recording({ id: 'short', service: 'cctv1', when: slot('10:00', '10:10') }),
        recording({ id: 'long', service: 'cctv2', when: slot('11:00', '12:00') }),
      ],
      want: [
        'low truncated by long @r1 [10:10-11:00]',
        'short planned @r1 [10:00-10:10]',
        'long planned @r1 [11:00-12:00]',
      ],
    },
  ];
  for (const c of cases) t.same(lines(c.entries, c.receivers), c.want, c.name);
});

t.test('padding is soft inside a class; a higher class wins with its padding', async (t) => {
  const cases: {
    name: string;
    entries: Entry[];
    receivers?: ScheduleDocumentInput['receivers'];
    want: string[];
  }[] = [
    {
      name: 'the earlier-ranked recording loses its tail padding to the next one’s programme',
      entries: [
        recording({ id: 'a', service: 'cctv1', padAfterMs: 10 * MIN, when: slot('11:00', '11:30') }),
        recording({ id: 'b', service: 'gstv', createdAt: created(2), when: slot('11:30', '12:00') }),
      ],
      want: ['a planned padding b @r1 [11:00-11:30]', 'b planned @r1 [11:30-12:00]'],
    },
    {
      name: 'padding against padding: the higher-ranked one takes the gap up to the next programme, the other none',
      entries: [
        recording({ id: 'a', service: 'cctv1', padAfterMs: 10 * MIN, when: slot('10:00', '11:00') }),
        recording({
          id: 'b',
          service: 'gstv',
          createdAt: created(2),
          padBeforeMs: 10 * MIN,
          when: slot('11:05', '12:00'),
        }),
      ],
      want: ['a planned padding b @r1 [10:00-11:05]', 'b planned padding a @r1 [11:05-12:00]'],
    },
    {
      name: 'padding grows only contiguously from the programme; what it cannot use stays free for others',
      entries: [
        recording({
          id: 'a',
          service: 'cctv1',
          createdAt: created(2),
          padBeforeMs: 20 * MIN,
          when: slot('11:00', '11:30'),
        }),
        recording({ id: 'blip', service: 'gstv', when: slot('10:45', '10:50') }),
        recording({
          id: 'c',
          service: 'cctv2',
          createdAt: created(3),
          padAfterMs: 5 * MIN,
          when: slot('10:20', '10:40'),
        }),
      ],
      want: [
        'c planned @r1 [10:20-10:45]',
        'blip planned @r1 [10:45-10:50]',
        'a planned padding blip @r1 [10:50-11:30]',
      ],
    },
    {
      name: 'padding over the same key is shared, not cut',
      entries: [
        recording({ id: 'a', service: 'cctv1', padAfterMs: 10 * MIN, when: slot('11:00', '11:30') }),
        recording({
          id: 'b',
          service: 'cctv1',
          createdAt: created(2),
          padBeforeMs: 10 * MIN,
          when: slot('11:35', '12:00'),
        }),
      ],
      want: ['a planned @r1 [11:00-11:40]', 'b planned @r1 [11:25-12:00]'],
    },
    {
      name: 'a dropped occurrence gets no padding',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({
          id: 'b',
          service: 'gstv',
          createdAt: created(2),
          padBeforeMs: 30 * MIN,
          padAfterMs: 30 * MIN,
          when: slot('11:15', '11:45'),
        }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b dropped by a @r1 []'],
    },
    {
      name: 'a conference’s pre-roll pre-empts an operator recording like the conference itself',
      entries: [
        recording({ id: 'rec', service: 'gstv', padAfterMs: 5 * MIN, when: slot('10:00', '11:00') }),
        conference({ id: 'conf', service: 'cctv1', preRollMs: 5 * MIN, when: slot('11:00', '12:00') }),
      ],
      want: ['rec truncated by conf @r1 [10:00-10:55]', 'conf planned @r1 [10:55-12:00]'],
    },
    {
      name: 'a conference tunes at the larger of its padding and its pre-roll',
      entries: [
        conference({
          id: 'conf',
          service: 'cctv1',
          padBeforeMs: 2 * MIN,
          preRollMs: 5 * MIN,
          when: slot('11:00', '12:00'),
        }),
      ],
      want: ['conf planned @r1 [10:55-12:00]'],
    },
  ];
  for (const c of cases) t.same(lines(c.entries, c.receivers), c.want, c.name);
});

t.test('several receivers: free before cut, share before idle, pins honoured', async (t) => {
  const cases: { name: string; entries: Entry[]; want: string[] }[] = [
    {
      name: 'a free receiver is taken before anything is cut',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'gstv', createdAt: created(2), when: slot('11:30', '12:30') }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b planned @r2 [11:30-12:30]'],
    },
    {
      name: 'a free receiver is taken rather than landing on padding another occurrence will ask for',
      entries: [
        recording({ id: 'a', service: 'cctv1', padAfterMs: 10 * MIN, when: slot('11:00', '11:30') }),
        recording({ id: 'b', service: 'gstv', createdAt: created(2), when: slot('11:30', '12:00') }),
      ],
      want: ['a planned @r1 [11:00-11:40]', 'b planned @r2 [11:30-12:00]'],
    },
    {
      name: 'a receiver already on the same service is shared rather than tuning an idle one',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'cctv1', createdAt: created(2), when: slot('11:30', '12:30') }),
        recording({ id: 'c', service: 'gstv', createdAt: created(3), when: slot('11:30', '12:30') }),
      ],
      want: [
        'a planned @r1 [11:00-12:00]',
        'b shared with a @r1 [11:30-12:30]',
        'c planned @r2 [11:30-12:30]',
      ],
    },
    {
      name: 'a pin is honoured even when the other receiver is free',
      entries: [recording({ id: 'a', service: 'cctv1', receiverId: 'r2', when: slot('11:00', '12:00') })],
      want: ['a planned @r2 [11:00-12:00]'],
    },
    {
      name: 'a pinned occurrence is cut on its receiver rather than moved',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({
          id: 'b',
          service: 'gstv',
          receiverId: 'r1',
          createdAt: created(2),
          when: slot('11:30', '12:30'),
        }),
      ],
      want: ['a planned @r1 [11:00-12:00]', 'b truncated by a @r1 [12:00-12:30]'],
    },
    {
      name: 'with every receiver busy, the one losing the least is used',
      entries: [
        recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') }),
        recording({ id: 'b', service: 'cctv2', when: slot('11:00', '11:20') }),
        recording({ id: 'c', service: 'gstv', createdAt: created(2), when: slot('11:10', '11:50') }),
      ],
      want: [
        'a planned @r1 [11:00-12:00]',
        'b planned @r2 [11:00-11:20]',
        'c truncated by b @r2 [11:20-11:50]',
      ],
    },
  ];
  for (const c of cases) t.same(lines(c.entries, TWO_RX), c.want, c.name);
});

t.test(
  'an edit that only moves an entry’s end keeps the occurrence’s identity (extend in place)',
  async (t) => {
    const conf = (end: string, rev: number) =>
      conference({ id: 'conf', service: 'cctv1', rev, preRollMs: 5 * MIN, when: slot('11:00', end) });
    const before = plan(scheduleDocument({ entries: [conf('12:00', 1)] }), DAY).occurrences[0]!;
    const after = plan(scheduleDocument({ entries: [conf('12:45', 2)] }), DAY).occurrences[0]!;
    t.equal(occurrenceKey(after), occurrenceKey(before), 'same (entryId, nominalStart)');
    t.equal(after.paddedStart, before.paddedStart, 'same tune time');
    t.equal(after.rev, 2);
    t.same(after.parts, [{ start: at('10:55'), end: at('12:45') }], 'one continuous part, not two');
  },
);

t.test('a plan does not depend on the window it was asked for', async (t) => {
  // Without following the chain A → B → C, a planner asked for 11:15–13:00 would see only B and C,
  // put B on r1 and move C to r2. A holds r1 until 10:30, so B is on r2 and C on r1.
  const doc = scheduleDocument({
    receivers: TWO_RX,
    entries: [
      recording({ id: 'a', service: 'cctv1', createdAt: created(1), when: slot('09:00', '10:30') }),
      recording({ id: 'b', service: 'gstv', createdAt: created(2), when: slot('10:00', '11:30') }),
      recording({ id: 'c', service: 'cctv2', createdAt: created(3), when: slot('11:00', '12:00') }),
    ],
  });
  const narrow = plan(doc, { from: at('11:15'), to: at('13:00') });
  t.same(narrow.occurrences.map(line), ['b planned @r2 [10:00-11:30]', 'c planned @r1 [11:00-12:00]']);
  t.same(narrow.considered, { from: at('09:00'), to: at('13:00') }, 'the chain reached back to 09:00');
  const wide = plan(doc, DAY).occurrences.filter((o) => o.entryId !== 'a');
  t.same(narrow.occurrences, wide);
});

t.test('typed errors, never a crash', async (t) => {
  const doc = scheduleDocument({
    entries: [recording({ id: 'a', service: 'cctv1', when: slot('11:00', '12:00') })],
  });
  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'no error';
    } catch (err) {
      return err instanceof PlannerError ? err.code : `untyped: ${String(err)}`;
    }
  };
  t.equal(
    code(() => plan(doc, { from: DAY.to, to: DAY.from })),
    'invalid-window',
    'to before from',
  );
  t.equal(
    code(() => plan(doc, { from: DAY.from, to: DAY.from })),
    'invalid-window',
    'empty window',
  );
  t.equal(
    code(() => plan(doc, { from: 'yesterday', to: DAY.to })),
    'invalid-window',
    'not a timestamp',
  );
  t.equal(
    code(() => plan(doc, { from: '2026-01-01T00:00:00Z', to: '2026-06-01T00:00:00Z' })),
    'invalid-window',
    'too long',
  );
  t.equal(
    code(() => plan({ ...doc, plannerVersion: 2 }, DAY)),
    'unsupported-planner-version',
  );
  t.equal(
    code(() => plan({ ...doc, tuning: {} }, DAY)),
    'unknown-service',
    'document not validated by the schema',
  );
  const pinned = { ...doc, entries: doc.entries.map((e) => ({ ...e, receiverId: 'nope' })) };
  t.equal(
    code(() => plan(pinned, DAY)),
    'unknown-receiver',
  );
  t.equal(
    code(() => plan({ ...doc, timeZone: 'Mars/Olympus', entries: [] }, DAY)),
    'no error',
    'zone unused',
  );
  const weekly = recording({
    id: 'w',
    service: 'cctv1',
    when: { type: 'weekly', weekdays: [1], startLocal: '10:00', durationMin: 5, from: '2026-01-01' },
  });
  const bad = { ...scheduleDocument({ entries: [weekly] }), timeZone: 'Mars/Olympus' };
  t.equal(
    code(() => plan(bad, DAY)),
    'invalid-time',
    'unknown zone with a weekly rule',
  );
  t.ok(isPlannerVersionSupported(1));
  t.notOk(isPlannerVersionSupported(0));
  t.notOk(isPlannerVersionSupported(1.5));
});

t.test('outcomes read as DESIGN.md §5 writes them', async (t) => {
  const occ = plan(
    scheduleDocument({
      entries: [
        recording({ id: 'low', title: 'Film', service: 'gstv', when: slot('10:00', '12:00') }),
        conference({ id: 'conf', title: 'County meeting', service: 'cctv1', when: slot('10:30', '11:00') }),
        recording({
          id: 'twin',
          title: 'Film again',
          service: 'gstv',
          createdAt: created(9),
          when: slot('11:30', '12:00'),
        }),
      ],
    }),
    DAY,
  ).occurrences;
  t.same(occ.map(describeOutcome), [
    'truncated (by "County meeting" at 2026-03-06T10:30:00Z)',
    'planned',
    'shared (with "Film" at 2026-03-06T10:00:00Z)',
  ]);
  t.equal(occurrenceKey(occ[0]!), 'low@2026-03-06T10:00:00Z');
});
